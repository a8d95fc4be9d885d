//! The particle feed: several reader threads fill a fixed ring of image
//! buffers from the MRC stacks while one consumer (the GPU pipeline) takes
//! each filled buffer, queues it and hands it back for reuse.
//!
//! - Buffers are allocated once by the caller (pinned host memory on the GPU
//!   path) and only ever reused, so nothing is pinned or allocated per chunk.
//! - float32 and float16 (MRC mode 12) pixels travel as they are stored: a
//!   buffered read lands straight in the buffer, with no decode; other modes
//!   are decoded to float32 by the reader that read them.
//! - Runs of consecutive images of one stack are read with one call.
//! - With O_DIRECT (where the file system takes it) reads go through an
//!   aligned scratch buffer per reader, since images sit at unaligned offsets.
//! - Images holding NaN or infinities are refused or left out (`NonFinite`),
//!   and the chunk is compacted so that it only holds the images it inserts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Instant;

use crate::storage::direct_io::{self, AlignedBuf, Alignment, ReadFile};
use crate::storage::mrc::{Mode, MrcError, MrcFile, decode_into, decode_pixels};

use super::list::Particle;
use super::stacks::{NonFinite, Stacks, StacksError};

/// Most bytes one reader reads per call through its scratch buffer.
const SCRATCH_BYTES: usize = 8 << 20;

/// The pixels of a ring buffer, as the consumer wants them.
pub enum Pixels<'a> {
    F32(&'a mut [f32]),
    /// IEEE half bits, as MRC mode 12 stores them.
    F16(&'a mut [u16]),
}

impl Pixels<'_> {
    fn len(&self) -> usize {
        match self {
            Pixels::F32(p) => p.len(),
            Pixels::F16(p) => p.len(),
        }
    }
    fn bytes_per_pixel(&self) -> usize {
        match self {
            Pixels::F32(_) => 4,
            Pixels::F16(_) => 2,
        }
    }
    /// The buffer's bytes, to read stored pixels straight into.
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Pixels::F32(p) => bytemuck::cast_slice_mut(p),
            Pixels::F16(p) => bytemuck::cast_slice_mut(p),
        }
    }
}

/// One buffer of the ring.
pub trait Slot: Send {
    /// The buffer's pixels; waits until the consumer's last use of it (a
    /// copy to the GPU) is done.
    fn pixels(&mut self) -> Result<Pixels<'_>, String>;
}

/// A plain host buffer (the CPU tests, and a reading-only pass).
#[derive(Clone)]
pub enum HostSlot {
    F32(Vec<f32>),
    F16(Vec<u16>),
}

impl Slot for HostSlot {
    fn pixels(&mut self) -> Result<Pixels<'_>, String> {
        Ok(match self {
            HostSlot::F32(v) => Pixels::F32(v),
            HostSlot::F16(v) => Pixels::F16(v),
        })
    }
}

/// A buffer back from the readers, holding `particles.len()` images.
pub struct Filled<S> {
    pub slot: S,
    /// Indices (into the particle list) of the images in the buffer, in order.
    pub particles: Vec<usize>,
    /// Images of this chunk left out as non-finite.
    pub skipped: u64,
}

/// How the feed reads.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Reader threads.
    pub readers: usize,
    /// Images per buffer.
    pub chunk: usize,
    /// Ask for O_DIRECT (files on a file system that refuses it are read
    /// through the page cache, and the feed says so).
    pub direct: bool,
    pub policy: NonFinite,
}

/// What the readers did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedStats {
    pub readers: usize,
    /// Bytes read from the stacks (whole aligned blocks under O_DIRECT).
    pub bytes: u64,
    /// Seconds spent in read calls, summed over the readers.
    pub read_seconds: f64,
    /// Seconds spent decoding or moving pixels, summed over the readers.
    pub decode_seconds: f64,
    /// Seconds the consumer waited for a filled buffer.
    pub wait_seconds: f64,
    /// Seconds the consumer spent with each buffer (queueing it).
    pub consume_seconds: f64,
    /// Wall seconds from the first read to the last buffer consumed.
    pub wall_seconds: f64,
    /// Whether every file was read with O_DIRECT.
    pub direct: bool,
    /// Why O_DIRECT was not used, where asked for and refused.
    pub fallback: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError<E> {
    #[error(transparent)]
    Stacks(#[from] StacksError),
    #[error("a ring buffer could not be used: {0}")]
    Slot(String),
    #[error("{0}")]
    Consumer(E),
    #[error("the feed has no buffers, or buffers smaller than one chunk of images")]
    Ring,
}

/// What one reader thread keeps between chunks.
struct Reader<'a> {
    stacks: &'a Stacks,
    opts: &'a FeedOptions,
    alignments: &'a [Alignment],
    files: HashMap<usize, ReadFile>,
    scratch: Option<AlignedBuf>,
    bytes: u64,
    read_seconds: f64,
    decode_seconds: f64,
    fallback: Option<String>,
    all_direct: bool,
}

fn io_error(path: &Path, source: std::io::Error) -> StacksError {
    StacksError::Mrc(MrcError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn truncated(path: &Path) -> StacksError {
    io_error(
        path,
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file ended before the image: it was truncated since it was opened",
        ),
    )
}

/// Non-finite values in stored pixels of `mode` (only float modes have them).
fn non_finite(raw: &[u8], mode: Mode) -> usize {
    match mode {
        Mode::Float32 => raw
            .chunks_exact(4)
            .filter(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
            .count(),
        Mode::Float16 => raw
            .chunks_exact(2)
            .filter(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7c00 == 0x7c00)
            .count(),
        _ => 0,
    }
}

/// Whether stored pixels of `mode` are the buffer's own representation.
fn stored_as_is(mode: Mode, pixels: &Pixels<'_>) -> bool {
    cfg!(target_endian = "little")
        && matches!(
            (mode, pixels),
            (Mode::Float32, Pixels::F32(_)) | (Mode::Float16, Pixels::F16(_))
        )
}

/// Writes image `raw` (stored as `mode`) at image position `at` of `out`.
fn put_image(
    raw: &[u8],
    mode: Mode,
    out: &mut Pixels<'_>,
    at: usize,
    pixels: usize,
    path: &Path,
) -> Result<(), StacksError> {
    let unreadable = || {
        StacksError::Mrc(MrcError::UnreadableMode {
            path: path.to_path_buf(),
            mode: mode.label(),
        })
    };
    if stored_as_is(mode, out) {
        let b = out.bytes_per_pixel();
        out.bytes_mut()[at * pixels * b..(at + 1) * pixels * b].copy_from_slice(raw);
        return Ok(());
    }
    match out {
        // decoded straight into the buffer: no allocation per image
        Pixels::F32(p) => {
            if !decode_into(raw, mode, &mut p[at * pixels..(at + 1) * pixels]) {
                return Err(unreadable());
            }
        }
        Pixels::F16(p) => {
            let values = decode_pixels(raw, mode).ok_or_else(unreadable)?;
            for (d, v) in p[at * pixels..(at + 1) * pixels].iter_mut().zip(values) {
                *d = half::f16::from_f32(v).to_bits();
            }
        }
    }
    Ok(())
}

impl<'a> Reader<'a> {
    /// A reader with no file open yet.
    fn new(stacks: &'a Stacks, opts: &'a FeedOptions, alignments: &'a [Alignment]) -> Self {
        Reader {
            stacks,
            opts,
            alignments,
            files: HashMap::new(),
            scratch: None,
            bytes: 0,
            read_seconds: 0.0,
            decode_seconds: 0.0,
            fallback: None,
            all_direct: true,
        }
    }

    fn file(&mut self, fi: usize) -> Result<&ReadFile, StacksError> {
        if !self.files.contains_key(&fi) {
            let path = &self.stacks.files[fi].path;
            let f = direct_io::open_read(path, self.opts.direct, &self.alignments[fi])
                .map_err(|e| io_error(path, e))?;
            if self.opts.direct && !f.direct {
                self.all_direct = false;
                if self.fallback.is_none() {
                    self.fallback = f
                        .fallback
                        .as_ref()
                        .map(|why| format!("{}: {why}", path.display()));
                }
            }
            self.files.insert(fi, f);
        }
        Ok(&self.files[&fi])
    }

    /// Reads `len` bytes at `offset` of file `fi` into the scratch buffer
    /// and returns where they start in it.
    fn read_scratch(&mut self, fi: usize, offset: u64, len: usize) -> Result<usize, StacksError> {
        let align = &self.alignments[fi];
        let direct = self.file(fi)?.direct;
        let (start, span) = if direct {
            direct_io::covering_range(offset, len as u64, align.offset.max(1))
        } else {
            (offset, len as u64)
        };
        let need = span as usize;
        let path = &self.stacks.files[fi].path;
        let scratch = match &mut self.scratch {
            Some(s) if s.len() >= need => s,
            slot => {
                let size = need.max(SCRATCH_BYTES + 2 * align.offset as usize);
                let buf =
                    AlignedBuf::new(size, align.memory.max(4096) as usize).ok_or_else(|| {
                        io_error(path, std::io::Error::other("no memory for a read buffer"))
                    })?;
                slot.insert(buf)
            }
        };
        let file = &self.files[&fi].file;
        let buf = &mut scratch.as_mut_slice()[..need];
        let t = Instant::now();
        // under O_DIRECT a short read ends the range (the file's end): the
        // next offset would not be aligned, so it is not asked for
        let mut got = 0;
        while got < need {
            match rustix::io::pread(file, &mut buf[got..], start + got as u64) {
                Ok(0) => break,
                Ok(k) => {
                    got += k;
                    if direct && !(got as u64).is_multiple_of(align.offset.max(1)) {
                        break;
                    }
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(io_error(path, e.into())),
            }
        }
        self.read_seconds += t.elapsed().as_secs_f64();
        self.bytes += got as u64;
        let skip = (offset - start) as usize;
        if got < skip + len {
            return Err(truncated(path));
        }
        Ok(skip)
    }

    /// Fills `slot` with the images of `particles` (indices into `parts`);
    /// returns the indices that landed and how many were left out.
    fn fill<S: Slot, E>(
        &mut self,
        star: &Path,
        parts: &[Particle],
        particles: &[usize],
        slot: &mut S,
    ) -> Result<(Vec<usize>, u64), FeedError<E>> {
        let n = self.stacks.box_size;
        let pixels = n * n;
        let mut out = slot.pixels().map_err(FeedError::Slot)?;
        if out.len() < particles.len() * pixels {
            return Err(FeedError::Ring);
        }
        let mut landed = Landed {
            star,
            parts,
            policy: self.opts.policy,
            ids: Vec::with_capacity(particles.len()),
            skipped: 0,
        };
        let mut at = 0;
        while at < particles.len() {
            let end = self.run_end(parts, particles, at);
            self.fill_run(&particles[at..end], &mut out, pixels, &mut landed)?;
            at = end;
        }
        Ok((landed.ids, landed.skipped))
    }

    /// The end of the run of consecutive images of one stack that starts at
    /// `particles[at]`.
    fn run_end(&self, parts: &[Particle], particles: &[usize], at: usize) -> usize {
        let fi = self.stacks.of_particle[particles[at]];
        let mut end = at + 1;
        while end < particles.len()
            && self.stacks.of_particle[particles[end]] == fi
            && parts[particles[end]].index == parts[particles[end - 1]].index + 1
        {
            end += 1;
        }
        end
    }

    /// Reads `run` (consecutive images of one stack) into `out` after the
    /// images that landed so far, as many per read as the scratch holds.
    fn fill_run(
        &mut self,
        run: &[usize],
        out: &mut Pixels<'_>,
        pixels: usize,
        landed: &mut Landed<'_>,
    ) -> Result<(), StacksError> {
        let fi = self.stacks.of_particle[run[0]];
        let mrc: &MrcFile = &self.stacks.files[fi];
        let (mode, image_bytes) = (mrc.header.mode, mrc.header.image_bytes() as usize);
        let direct = self.file(fi)?.direct;
        // as many images per read as the scratch holds (at least one)
        let per_read = (SCRATCH_BYTES / image_bytes.max(1)).max(1);
        for ids in run.chunks(per_read) {
            let count = ids.len();
            let offset = mrc.header.image_offset(landed.parts[ids[0]].index);
            let len = count * image_bytes;
            let into_buffer = !direct && stored_as_is(mode, out);
            // the read puts image k at position `base + k`; images that
            // pass move down to `landed.len()` (never above their place)
            let base = landed.ids.len();
            let mut skip = 0;
            if into_buffer {
                let dst = &mut out.bytes_mut()[base * image_bytes..][..len];
                self.read_into(fi, dst, offset)?;
            } else {
                skip = self.read_scratch(fi, offset, len)?;
            }
            let t = Instant::now();
            for (k, &p) in ids.iter().enumerate() {
                let bad = if into_buffer {
                    keep_in_buffer(out, base + k, landed.ids.len(), image_bytes, mode)
                } else {
                    let scratch = self.scratch.as_ref().map_or(&[][..], |s| s.as_slice());
                    let raw = &scratch[skip + k * image_bytes..skip + (k + 1) * image_bytes];
                    let bad = non_finite(raw, mode);
                    if bad == 0 {
                        put_image(raw, mode, out, landed.ids.len(), pixels, &mrc.path)?;
                    }
                    bad
                };
                landed.take(p, bad, &mrc.path)?;
            }
            self.decode_seconds += t.elapsed().as_secs_f64();
        }
        Ok(())
    }

    /// Reads all of `dst` at `offset` of file `fi`, straight into the buffer.
    fn read_into(&mut self, fi: usize, dst: &mut [u8], offset: u64) -> Result<(), StacksError> {
        let path = &self.stacks.files[fi].path;
        let t = Instant::now();
        let got = direct_io::pread_full(&self.files[&fi].file, dst, offset)
            .map_err(|e| io_error(path, e))?;
        self.read_seconds += t.elapsed().as_secs_f64();
        self.bytes += got as u64;
        if got < dst.len() {
            return Err(truncated(path));
        }
        Ok(())
    }
}

/// Image `from` of a buffer read as stored: its non-finite pixels, and, if
/// it has none, the image moved down to position `to` (the next that lands).
fn keep_in_buffer(
    out: &mut Pixels<'_>,
    from: usize,
    to: usize,
    image_bytes: usize,
    mode: Mode,
) -> usize {
    let bytes = out.bytes_mut();
    let from = from * image_bytes;
    let bad = non_finite(&bytes[from..from + image_bytes], mode);
    let to = to * image_bytes;
    if bad == 0 && to != from {
        bytes.copy_within(from..from + image_bytes, to);
    }
    bad
}

/// The images of one chunk that landed in its buffer, in order, and what
/// to do with those holding non-finite pixels.
struct Landed<'a> {
    star: &'a Path,
    parts: &'a [Particle],
    policy: NonFinite,
    ids: Vec<usize>,
    skipped: u64,
}

impl Landed<'_> {
    /// Particle `p` of `stack`, with `bad` non-finite pixels: landed when it
    /// has none, else left out or refused as the policy says.
    fn take(&mut self, p: usize, bad: usize, stack: &Path) -> Result<(), StacksError> {
        if bad == 0 {
            self.ids.push(p);
        } else if self.policy == NonFinite::Skip {
            self.skipped += 1;
        } else {
            return Err(StacksError::NonFinite {
                star: self.star.to_path_buf(),
                line: self.parts[p].line,
                index: self.parts[p].index + 1,
                stack: stack.to_path_buf(),
                bad,
            });
        }
        Ok(())
    }
}

/// A finished chunk, or why the readers stopped.
type Done<S, E> = Result<Filled<S>, FeedError<E>>;

/// What the reader threads share: the work, the next chunk to take, the
/// stop flag and the free buffers.
struct Shared<'a, S> {
    star: &'a Path,
    parts: &'a [Particle],
    order: &'a [usize],
    chunk: usize,
    chunks: usize,
    next: AtomicUsize,
    stop: AtomicBool,
    free: Mutex<mpsc::Receiver<S>>,
}

impl<S: Slot> Shared<'_, S> {
    /// One reader thread's loop: takes the next chunk and a free buffer,
    /// fills it and sends it on, until no chunk is left, the consumer has
    /// stopped or a read failed.
    fn read_chunks<E>(&self, reader: &mut Reader<'_>, done_tx: &mpsc::Sender<Done<S, E>>) {
        while !self.stop.load(Ordering::Relaxed) {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.chunks {
                break;
            }
            // a closed channel: the consumer has stopped
            let Ok(mut slot) = self
                .free
                .lock()
                .map_err(|_| ())
                .and_then(|rx| rx.recv().map_err(|_| ()))
            else {
                break;
            };
            let ids = &self.order[k * self.chunk..((k + 1) * self.chunk).min(self.order.len())];
            let filled =
                reader
                    .fill(self.star, self.parts, ids, &mut slot)
                    .map(|(particles, skipped)| Filled {
                        slot,
                        particles,
                        skipped,
                    });
            let failed = filled.is_err();
            if done_tx.send(filled).is_err() || failed {
                self.stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// Hands each filled buffer to `consume` as it arrives and gives the buffer
/// back to the readers, until every reader has finished; after the first
/// failure it stops the readers and drains what they still send.
fn consume_all<S, E>(
    done_rx: &mpsc::Receiver<Done<S, E>>,
    free_tx: &mut Option<mpsc::Sender<S>>,
    stop: &AtomicBool,
    stats: &mut FeedStats,
    consume: &mut impl FnMut(Filled<S>) -> Result<S, E>,
) -> Result<(), FeedError<E>> {
    let mut result = Ok(());
    loop {
        let t = Instant::now();
        let Ok(filled) = done_rx.recv() else { break };
        stats.wait_seconds += t.elapsed().as_secs_f64();
        if result.is_err() {
            continue; // drain, so that no reader blocks on a send
        }
        let t = Instant::now();
        match filled.and_then(|f| consume(f).map_err(FeedError::Consumer)) {
            Ok(slot) => {
                if let Some(tx) = free_tx.as_ref() {
                    let _ = tx.send(slot);
                }
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                *free_tx = None;
                result = Err(e);
            }
        }
        stats.consume_seconds += t.elapsed().as_secs_f64();
    }
    result
}

/// A channel of free buffers holding every buffer of `ring`.
fn free_buffers<S>(ring: Vec<S>) -> (mpsc::Sender<S>, mpsc::Receiver<S>) {
    let (free_tx, free_rx) = mpsc::channel::<S>();
    for slot in ring {
        // the receiver is alive: it is in this scope
        let _ = free_tx.send(slot);
    }
    (free_tx, free_rx)
}

/// Waits for every reader thread and adds what each did to `stats`; a
/// reader's panic goes on here.
fn join_readers<'a>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, Reader<'a>>>,
    stats: &mut FeedStats,
) {
    for h in handles {
        match h.join() {
            Ok(r) => {
                stats.bytes += r.bytes;
                stats.read_seconds += r.read_seconds;
                stats.decode_seconds += r.decode_seconds;
                stats.direct &= r.all_direct;
                if stats.fallback.is_none() {
                    stats.fallback = r.fallback;
                }
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Reads the images of `order` (indices into `parts`, in the order given)
/// in chunks of `opts.chunk` into the buffers of `ring` on `opts.readers`
/// threads, and hands each filled buffer to `consume` on this thread, which
/// gives a buffer back for the readers to fill again. Chunks reach
/// `consume` in the order the readers finish them, not in `order`'s.
pub fn run<S: Slot, E>(
    star: &Path,
    parts: &[Particle],
    stacks: &Stacks,
    order: &[usize],
    ring: Vec<S>,
    opts: &FeedOptions,
    mut consume: impl FnMut(Filled<S>) -> Result<S, E>,
) -> Result<FeedStats, FeedError<E>>
where
    E: Send,
{
    if ring.is_empty() || opts.chunk == 0 {
        return Err(FeedError::Ring);
    }
    let alignments: Vec<Alignment> = stacks
        .files
        .iter()
        .map(|f| direct_io::alignment(&f.path))
        .collect();
    let chunks = order.len().div_ceil(opts.chunk);
    let readers = opts.readers.clamp(1, chunks.max(1));
    let (free_tx, free_rx) = free_buffers(ring);
    // dropped when the consumer stops, so that no reader waits for a buffer
    let mut free_tx = Some(free_tx);
    let shared = Shared {
        star,
        parts,
        order,
        chunk: opts.chunk,
        chunks,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        free: Mutex::new(free_rx),
    };
    let start = Instant::now();
    let mut stats = FeedStats {
        readers,
        direct: opts.direct,
        ..FeedStats::default()
    };
    let outcome: Result<(), FeedError<E>> = std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<Done<S, E>>();
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                let done_tx = done_tx.clone();
                let (shared, alignments) = (&shared, &alignments);
                scope.spawn(move || {
                    let mut reader = Reader::new(stacks, opts, alignments);
                    shared.read_chunks(&mut reader, &done_tx);
                    reader
                })
            })
            .collect();
        drop(done_tx);
        let result = consume_all(
            &done_rx,
            &mut free_tx,
            &shared.stop,
            &mut stats,
            &mut consume,
        );
        join_readers(handles, &mut stats);
        result
    });
    outcome?;
    stats.wall_seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

#[cfg(test)]
mod tests;
