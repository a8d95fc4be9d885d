//! Direct I/O: opening files with O_DIRECT (falling back to buffered reads
//! where the file system refuses it, and saying so), finding the alignment
//! O_DIRECT needs, aligned buffers, and aligned ranges that cover a particle
//! at its unaligned offset.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

/// Alignment assumed when neither statx nor sysfs can tell.
pub const FALLBACK_ALIGN: u64 = 4096;

/// The alignment O_DIRECT needs for file offsets/lengths and buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    pub offset: u64,
    pub memory: u64,
    /// Where the figure came from: statx, sysfs, assumed or --align.
    pub source: String,
}

/// Asks the kernel (statx STATX_DIOALIGN, Linux 6.1+) and then the block
/// device's logical block size for the direct-I/O alignment of `path`.
pub fn alignment(path: &Path) -> Alignment {
    use rustix::fs::{AtFlags, CWD, StatxFlags, statx};
    if let Ok(st) = statx(CWD, path, AtFlags::empty(), StatxFlags::DIOALIGN)
        && st.stx_mask & StatxFlags::DIOALIGN.bits() != 0
        && st.stx_dio_offset_align > 0
    {
        return Alignment {
            offset: u64::from(st.stx_dio_offset_align),
            memory: u64::from(st.stx_dio_mem_align).max(1),
            source: "statx".to_string(),
        };
    }
    if let Ok(st) = rustix::fs::stat(path) {
        let (maj, min) = (rustix::fs::major(st.st_dev), rustix::fs::minor(st.st_dev));
        for rel in ["queue/logical_block_size", "../queue/logical_block_size"] {
            let p = format!("/sys/dev/block/{maj}:{min}/{rel}");
            if let Some(v) = std::fs::read_to_string(&p)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
            {
                return Alignment {
                    offset: v,
                    memory: v,
                    source: "sysfs logical_block_size".to_string(),
                };
            }
        }
    }
    Alignment {
        offset: FALLBACK_ALIGN,
        memory: FALLBACK_ALIGN,
        source: "assumed (neither statx nor sysfs told)".to_string(),
    }
}

/// The smallest range aligned to `align` (a power of two) that covers
/// `len` bytes at `offset`: (aligned start, aligned length).
pub fn covering_range(offset: u64, len: u64, align: u64) -> (u64, u64) {
    let start = offset & !(align - 1);
    let end = (offset + len).div_ceil(align) * align;
    (start, end - start)
}

/// A heap buffer aligned for O_DIRECT.
pub struct AlignedBuf {
    ptr: *mut u8,
    layout: Layout,
}

// The buffer is plain owned memory.
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    /// `len` zeroed bytes aligned to `align` (a power of two); `None` when
    /// the request is impossible or memory is short.
    pub fn new(len: usize, align: usize) -> Option<AlignedBuf> {
        let layout = Layout::from_size_align(len.max(1), align.max(1)).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        (!ptr.is_null()).then_some(AlignedBuf { ptr, layout })
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: ptr points to layout.size() initialised bytes we own.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(self.ptr, self.layout.size()) }
    }
    pub fn len(&self) -> usize {
        self.layout.size()
    }
    pub fn is_empty(&self) -> bool {
        self.layout.size() == 0
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in `new`.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// A file opened for the benchmark, and how.
#[derive(Debug)]
pub struct ReadFile {
    pub file: File,
    pub direct: bool,
    /// Why O_DIRECT was not used although asked for.
    pub fallback: Option<String>,
}

/// Opens `path` read-only, with O_DIRECT when `direct`; a file system that
/// refuses O_DIRECT (at open or at the first aligned read) gets a buffered
/// handle and the reason.
pub fn open_read(path: &Path, direct: bool, align: &Alignment) -> std::io::Result<ReadFile> {
    use rustix::fs::{Mode, OFlags, open};
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    if direct {
        match open(path, flags | OFlags::DIRECT, Mode::empty()) {
            Ok(fd) => {
                let file = File::from(fd);
                match probe_read(&file, align) {
                    Ok(()) => {
                        return Ok(ReadFile {
                            file,
                            direct: true,
                            fallback: None,
                        });
                    }
                    Err(e) => {
                        return Ok(ReadFile {
                            file: File::open(path)?,
                            direct: false,
                            fallback: Some(format!(
                                "an O_DIRECT read was refused ({e}); buffered reads with \
                                 posix_fadvise(DONTNEED) were used instead"
                            )),
                        });
                    }
                }
            }
            Err(rustix::io::Errno::INVAL) => {
                return Ok(ReadFile {
                    file: File::open(path)?,
                    direct: false,
                    fallback: Some(
                        "the file system refused O_DIRECT (EINVAL); buffered reads with \
                         posix_fadvise(DONTNEED) were used instead"
                            .to_string(),
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ReadFile {
        file: File::from(open(path, flags, Mode::empty())?),
        direct: false,
        fallback: None,
    })
}

fn probe_read(file: &File, align: &Alignment) -> std::io::Result<()> {
    let mut buf = AlignedBuf::new(align.offset as usize, align.memory as usize)
        .ok_or_else(|| std::io::Error::other("cannot allocate an aligned buffer"))?;
    rustix::io::pread(file.as_fd(), buf.as_mut_slice(), 0)?;
    Ok(())
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub fn pread_full(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::pread(file.as_fd(), &mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// Asks the kernel to drop the file's cached pages (buffered mode).
pub fn drop_cache(file: &File) -> std::io::Result<()> {
    rustix::fs::fadvise(file.as_fd(), 0, None, rustix::fs::Advice::DontNeed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_range_covers_unaligned_particles() {
        assert_eq!(covering_range(1024, 262_144, 4096), (0, 266_240));
        assert_eq!(covering_range(4096, 4096, 4096), (4096, 4096));
        assert_eq!(covering_range(5000, 1, 512), (4608, 512));
    }

    #[test]
    fn aligned_buffer_is_aligned() {
        let mut b = AlignedBuf::new(8192, 4096).unwrap();
        assert_eq!(b.as_mut_slice().as_ptr() as usize % 4096, 0);
        assert_eq!(b.len(), 8192);
    }

    #[test]
    fn direct_read_of_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![7u8; 3 * 4096 + 100]).unwrap();
        let a = alignment(&p);
        assert!(a.offset.is_power_of_two());
        let f = open_read(&p, true, &a).unwrap();
        assert_eq!(f.direct, f.fallback.is_none());
        let (start, len) = covering_range(4000, 500, a.offset.max(4096));
        let mut buf = AlignedBuf::new(len as usize, 4096).unwrap();
        let n = pread_full(&f.file, buf.as_mut_slice(), start).unwrap();
        assert_eq!(n as u64, len);
        assert!(buf.as_slice().iter().all(|b| *b == 7));
    }
}
