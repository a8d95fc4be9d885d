//! The end-to-end GPU path: real-space particles in pinned host memory
//! (float32, or float16 as stored in MRC mode-12 stacks) → host-to-device
//! copy → float16 to float32 on the GPU → batched R2C FFT (cuFFT) →
//! insertion, in chunks spread over several streams so that the copy of one
//! chunk overlaps the FFT and insertion of the others.
//!
//! Each stream owns its device buffers, so stream order alone keeps a
//! chunk's buffers from being overwritten before it is done; all streams add
//! into one grid with atomics.

use std::sync::Arc;

use cudarc::cufft::{CudaFft, result::CufftError, sys as cufft_sys};
use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice,
    PushKernelArg,
};
use half::f16;
use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::insert::{GpuInsertion, Inputs, Kernel, Layout, kernel_for, relative_error};
use super::kernels::{CONVERT, arch_for, compile};
use super::probe::cufft_present;
use super::{GpuError, driver};
use crate::recon::euler::EulerAngles;
use crate::recon::fourier::ImageFft;
use crate::recon::{Backprojector, Rotation};

/// How particles are held in host memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    F32,
    /// IEEE half, as MRC mode 12 stores it; converted on the GPU.
    F16,
}

impl Precision {
    pub(crate) fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }
    pub(crate) fn name(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F16 => "float16",
        }
    }
}

/// Streams the pipeline spreads its chunks over.
pub(crate) const STREAMS: usize = 3;
/// Host bytes of particles per chunk (one copy, one FFT batch, one launch).
pub(crate) const CHUNK_BYTES: usize = 64 << 20;

/// Particles per chunk at box `n`: about `CHUNK_BYTES` of float32 images.
pub(crate) fn chunk_images(n: usize) -> usize {
    (CHUNK_BYTES / (n * n * 4)).max(1)
}

/// One chunk of particles in pinned host memory.
pub(crate) struct HostChunk {
    images: HostImages,
    /// 9 floats per particle (RELION matrix A, rows first).
    rotations: PinnedHostSlice<f32>,
    /// 2 floats per particle (x, y shift in pixels).
    shifts: PinnedHostSlice<f32>,
    pub count: usize,
}

enum HostImages {
    F32(PinnedHostSlice<f32>),
    F16(PinnedHostSlice<u16>),
}

fn pinned<T: cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits + Copy>(
    ctx: &Arc<CudaContext>,
    values: &[T],
) -> Result<PinnedHostSlice<T>, GpuError> {
    // SAFETY: plain page-locked memory (flags 0, readable by the CPU, unlike
    // write-combined memory), filled from `values` before any use.
    let mut p = unsafe { ctx.alloc_pinned_with_flags::<T>(values.len().max(1), 0) }
        .map_err(driver("allocating pinned host memory"))?;
    let dst = p
        .as_mut_slice()
        .map_err(driver("writing pinned host memory"))?;
    dst[..values.len()].copy_from_slice(values);
    Ok(p)
}

impl HostChunk {
    /// Copies `count` images of n×n pixels (row-major, origin at n/2), their
    /// rotations and shifts into pinned memory, as `precision`.
    pub(crate) fn new(
        ctx: &Arc<CudaContext>,
        images: &[f32],
        rotations: &[Rotation],
        shifts: &[[f32; 2]],
        precision: Precision,
    ) -> Result<HostChunk, GpuError> {
        let images = match precision {
            Precision::F32 => HostImages::F32(pinned(ctx, images)?),
            Precision::F16 => {
                let bits: Vec<u16> = images.iter().map(|&v| f16::from_f32(v).to_bits()).collect();
                HostImages::F16(pinned(ctx, &bits)?)
            }
        };
        HostChunk::with_images(ctx, images, rotations, shifts)
    }

    pub(crate) fn precision(&self) -> Precision {
        match self.images {
            HostImages::F32(_) => Precision::F32,
            HostImages::F16(_) => Precision::F16,
        }
    }

    /// An empty chunk of room for `capacity` particles of box `n`, to be
    /// filled again and again (a buffer of the feed's ring).
    pub(crate) fn with_capacity(
        ctx: &Arc<CudaContext>,
        n: usize,
        capacity: usize,
        precision: Precision,
    ) -> Result<HostChunk, GpuError> {
        let images = match precision {
            Precision::F32 => HostImages::F32(pinned(ctx, &vec![0f32; capacity * n * n])?),
            Precision::F16 => HostImages::F16(pinned(ctx, &vec![0u16; capacity * n * n])?),
        };
        HostChunk::with_images(
            ctx,
            images,
            &vec![Rotation::from_relion_degrees(0.0, 0.0, 0.0); capacity],
            &vec![[0.0; 2]; capacity],
        )
    }

    /// Sets the orientations and shifts of the first `rotations.len()`
    /// images (the ones the chunk holds now); waits for the last copy of
    /// this chunk to the GPU first.
    pub(crate) fn set_particles(
        &mut self,
        rotations: &[Rotation],
        shifts: &[[f32; 2]],
    ) -> Result<(), GpuError> {
        let rots = self
            .rotations
            .as_mut_slice()
            .map_err(driver("writing pinned host memory"))?;
        for (dst, a) in rots.chunks_exact_mut(9).zip(rotations) {
            dst.copy_from_slice(&a.to_f32());
        }
        let sh = self
            .shifts
            .as_mut_slice()
            .map_err(driver("writing pinned host memory"))?;
        for (dst, s) in sh.chunks_exact_mut(2).zip(shifts) {
            dst.copy_from_slice(s);
        }
        self.count = rotations.len().min(self.rotations.len() / 9);
        Ok(())
    }

    fn with_images(
        ctx: &Arc<CudaContext>,
        images: HostImages,
        rotations: &[Rotation],
        shifts: &[[f32; 2]],
    ) -> Result<HostChunk, GpuError> {
        let rots: Vec<f32> = rotations.iter().flat_map(|a| a.to_f32()).collect();
        let sh: Vec<f32> = shifts.iter().flatten().copied().collect();
        Ok(HostChunk {
            images,
            rotations: pinned(ctx, &rots)?,
            shifts: pinned(ctx, &sh)?,
            count: rotations.len(),
        })
    }
}

impl crate::particles::feed::Slot for HostChunk {
    fn pixels(&mut self) -> Result<crate::particles::feed::Pixels<'_>, String> {
        use crate::particles::feed::Pixels;
        // waits for the chunk's last copy to the GPU
        Ok(match &mut self.images {
            HostImages::F32(p) => Pixels::F32(p.as_mut_slice().map_err(|e| e.to_string())?),
            HostImages::F16(p) => Pixels::F16(p.as_mut_slice().map_err(|e| e.to_string())?),
        })
    }
}

/// GPU time per stage, summed over chunks (streams overlap, so the sum may
/// exceed the wall time), from CUDA events around each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSeconds {
    /// Host-to-device copies of images, orientations and shifts, and the
    /// float16 conversion.
    pub copy: f64,
    pub fft: f64,
    pub insert: f64,
}

/// One stream and the device buffers its chunks pass through.
struct Stage {
    stream: Arc<CudaStream>,
    fft: CudaFft,
    /// Raw float16 particles (only for `Precision::F16`).
    half: Option<CudaSlice<u16>>,
    real: CudaSlice<f32>,
    /// R2C output, float2 per Fourier pixel.
    fourier: CudaSlice<f32>,
    rotations: CudaSlice<f32>,
    shifts: CudaSlice<f32>,
}

/// The pipeline for one box size, padding and precision on one GPU.
pub(crate) struct Pipeline {
    insertion: GpuInsertion,
    convert: CudaFunction,
    layout: Layout,
    kernel: Kernel,
    precision: Precision,
    /// Particles per chunk (the FFT batch).
    pub chunk: usize,
    stages: Vec<Stage>,
    sm_count: u32,
    /// Events around each chunk's copy, FFT and insertion, when timed.
    marks: Option<Vec<[CudaEvent; 4]>>,
}

/// A timing event recorded on `s` now, when the pipeline is `timed`.
fn mark(s: &Arc<CudaStream>, timed: bool) -> Result<Option<CudaEvent>, GpuError> {
    if !timed {
        return Ok(None);
    }
    s.record_event(Some(cudarc::driver::sys::CUevent_flags::CU_EVENT_DEFAULT))
        .map(Some)
        .map_err(driver("recording a timing event"))
}

impl Stage {
    /// Queues the copy of `host`'s images to the GPU; float16 images are
    /// then widened to float32 with `convert` (on `sm_count`·4 blocks).
    fn copy_images(
        &mut self,
        host: &HostChunk,
        convert: &CudaFunction,
        sm_count: u32,
        n: usize,
    ) -> Result<(), GpuError> {
        let s = &self.stream;
        let copying = driver("copying particles to the GPU");
        match (&host.images, &mut self.half) {
            (HostImages::F32(src), _) => {
                let mut dst = self.real.slice_mut(..src.len());
                s.memcpy_htod(src, &mut dst).map_err(copying)?;
            }
            (HostImages::F16(src), Some(half)) => {
                let mut dst = half.slice_mut(..src.len());
                s.memcpy_htod(src, &mut dst).map_err(copying)?;
                let values = (host.count * n * n) as u64;
                let cfg = LaunchConfig {
                    grid_dim: (sm_count.max(1) * 4, 1, 1),
                    block_dim: (256, 1, 1),
                    shared_mem_bytes: 0,
                };
                let mut b = s.launch_builder(convert);
                b.arg(&*half).arg(&mut self.real).arg(&values);
                // SAFETY: f16_to_f32(const u16*, float*, u64): both buffers
                // hold chunk·n² values, count·n² ≤ that are converted.
                unsafe { b.launch(cfg) }.map_err(driver("launching f16_to_f32"))?;
            }
            (HostImages::F16(_), None) => unreachable!("precisions checked above"),
        }
        Ok(())
    }

    /// Queues the copy of `host`'s rotations, then its shifts, to the GPU.
    fn copy_orientations(&mut self, host: &HostChunk) -> Result<(), GpuError> {
        let s = &self.stream;
        let mut rots = self.rotations.slice_mut(..host.rotations.len());
        s.memcpy_htod(&host.rotations, &mut rots)
            .map_err(driver("copying rotations to the GPU"))?;
        let mut shifts = self.shifts.slice_mut(..host.shifts.len());
        s.memcpy_htod(&host.shifts, &mut shifts)
            .map_err(driver("copying shifts to the GPU"))?;
        Ok(())
    }

    /// Queues the batched R2C FFT of the real images into the Fourier
    /// buffer.
    fn forward_fft(&mut self) -> Result<(), GpuError> {
        let half_len = self.fourier.len() / 2;
        // SAFETY: float2 is two f32; the buffer holds chunk·n·(n/2+1) of them.
        let mut out = unsafe { self.fourier.transmute_mut::<cufft_sys::float2>(half_len) }
            .expect("the Fourier buffer holds whole float2");
        self.fft
            .exec_r2c(&self.real, &mut out)
            .map_err(fft_error("transforming particles"))?;
        Ok(())
    }
}

fn fft_error(doing: &'static str) -> impl FnOnce(CufftError) -> GpuError {
    move |e| GpuError::Fft {
        doing,
        detail: format!("{e:?}"),
    }
}

/// A batched 2D R2C plan for `batch` images of n×n on `stream`.
pub(crate) fn r2c_plan(
    stream: &Arc<CudaStream>,
    n: usize,
    batch: usize,
) -> Result<CudaFft, GpuError> {
    if !cufft_present() {
        return Err(GpuError::NoCufft);
    }
    let (ni, half) = (n as i32, (n * (n / 2 + 1)) as i32);
    CudaFft::plan_many(
        &[ni, ni],
        None,
        1,
        ni * ni,
        None,
        1,
        half,
        cufft_sys::cufftType::CUFFT_R2C,
        batch as i32,
        stream.clone(),
    )
    .map_err(fft_error("planning a batched 2D FFT"))
}

/// Creates the streams, FFT plans and device buffers of a pipeline for
/// chunks of `chunk` particles of box `n`.
fn stages(
    ctx: &Arc<CudaContext>,
    n: usize,
    precision: Precision,
    chunk: usize,
) -> Result<Vec<Stage>, GpuError> {
    let mut stages = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let stream = ctx.new_stream().map_err(driver("creating a stream"))?;
        let alloc = |len: usize| {
            stream
                .alloc_zeros::<f32>(len)
                .map_err(driver("allocating pipeline buffers"))
        };
        let half = match precision {
            Precision::F32 => None,
            Precision::F16 => Some(
                stream
                    .alloc_zeros::<u16>(chunk * n * n)
                    .map_err(driver("allocating pipeline buffers"))?,
            ),
        };
        stages.push(Stage {
            fft: r2c_plan(&stream, n, chunk)?,
            half,
            real: alloc(chunk * n * n)?,
            fourier: alloc(chunk * n * (n / 2 + 1) * 2)?,
            rotations: alloc(chunk * 9)?,
            shifts: alloc(chunk * 2)?,
            stream,
        });
    }
    Ok(stages)
}

/// Device bytes a float32 pipeline holds at box `n` and padding `pad`
/// besides cuFFT's workspace: the float4 grid and each stream's buffers.
pub(crate) fn working_set_bytes(n: usize, pad: usize) -> u64 {
    let (n, p) = (n as u64, (n * pad) as u64);
    let chunk = chunk_images(n as usize) as u64;
    let per_particle = n * n * 4 + n * (n / 2 + 1) * 8 + 11 * 4;
    16 * p * p * (p / 2 + 1) + STREAMS as u64 * chunk * per_particle
}

/// True when the grid and every stream's buffers and FFT plan for box `n`
/// can be allocated on this GPU; all is freed again before returning.
pub(crate) fn fits(ctx: &Arc<CudaContext>, n: usize, pad: usize) -> bool {
    let grid = ctx
        .default_stream()
        .alloc_zeros::<f32>(4 * (n * pad) * (n * pad) * (n * pad / 2 + 1));
    let ok = grid.is_ok() && stages(ctx, n, Precision::F32, chunk_images(n)).is_ok();
    drop(grid);
    // give the freed memory back before the next try
    ok && ctx.synchronize().is_ok()
}

impl Pipeline {
    /// Compiles and loads the kernels, plans the FFTs and allocates each
    /// stream's buffers for chunks of `chunk` particles.
    pub(crate) fn new(
        ctx: &Arc<CudaContext>,
        layout: Layout,
        precision: Precision,
        chunk: usize,
    ) -> Result<Pipeline, GpuError> {
        let insertion = GpuInsertion::new(ctx)?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver("reading the compute capability"))?;
        let module = ctx
            .load_module(compile(&CONVERT, arch_for(major, minor)?)?)
            .map_err(driver("loading the conversion kernel"))?;
        let convert = module
            .load_function("f16_to_f32")
            .map_err(driver("finding f16_to_f32"))?;
        let sm_count = ctx
            .attribute(
                cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
            )
            .map_err(driver("reading the SM count"))? as u32;
        let stages = stages(ctx, layout.n, precision, chunk)?;
        Ok(Pipeline {
            insertion,
            convert,
            layout,
            kernel: kernel_for(layout),
            precision,
            chunk,
            stages,
            sm_count,
            marks: None,
        })
    }

    /// Times every chunk's stages with CUDA events from now on.
    pub(crate) fn timed(mut self) -> Pipeline {
        self.marks = Some(Vec::new());
        self
    }

    /// GPU seconds per stage of the chunks queued so far (waits for them);
    /// `None` when the pipeline is not timed.
    pub(crate) fn stage_seconds(&self) -> Result<Option<StageSeconds>, GpuError> {
        let Some(marks) = &self.marks else {
            return Ok(None);
        };
        let mut t = StageSeconds::default();
        let ms = |a: &CudaEvent, b: &CudaEvent| -> Result<f64, GpuError> {
            Ok(f64::from(a.elapsed_ms(b).map_err(driver("reading a stage's time"))?) / 1e3)
        };
        for [e0, e1, e2, e3] in marks {
            t.copy += ms(e0, e1)?;
            t.fft += ms(e1, e2)?;
            t.insert += ms(e2, e3)?;
        }
        Ok(Some(t))
    }

    /// Inserts with `kernel` instead of the one `kernel_for` picks.
    pub(crate) fn with_kernel(mut self, kernel: Kernel) -> Pipeline {
        assert!(
            kernel.takes(self.layout),
            "{} cannot take {:?}",
            kernel.name(),
            self.layout
        );
        self.kernel = kernel;
        self
    }

    /// A zeroed grid for this pipeline's box and padding.
    pub(crate) fn grid(&self) -> Result<CudaSlice<f32>, GpuError> {
        self.insertion.grid(self.layout.n, self.layout.pad)
    }

    /// Queues chunk `host` on stream `slot % STREAMS`: copy, convert, FFT,
    /// insert into `grid`. Returns at once; `finish` waits.
    pub(crate) fn enqueue(
        &mut self,
        slot: usize,
        host: &HostChunk,
        grid: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let n = self.layout.n;
        let count = host.count;
        assert!(count <= self.chunk, "a chunk larger than the pipeline's");
        assert_eq!(
            host.precision(),
            self.precision,
            "a chunk of another precision"
        );
        let stage = &mut self.stages[slot % STREAMS];
        let timed = self.marks.is_some();
        let e0 = mark(&stage.stream, timed)?;
        stage.copy_images(host, &self.convert, self.sm_count, n)?;
        stage.copy_orientations(host)?;
        let e1 = mark(&stage.stream, timed)?;
        stage.forward_fft()?;
        let e2 = mark(&stage.stream, timed)?;
        let s = &stage.stream;
        let inputs = Inputs {
            images: stage.fourier.slice(..2 * count * n * (n / 2 + 1)),
            rotations: stage.rotations.slice(..9 * count),
            shifts: stage.shifts.slice(..2 * count),
            count,
        };
        self.insertion
            .launch_kernel(self.kernel, s, &inputs, grid, self.layout)?;
        let e3 = mark(s, timed)?;
        if let (Some(marks), Some(e0), Some(e1), Some(e2), Some(e3)) =
            (&mut self.marks, e0, e1, e2, e3)
        {
            marks.push([e0, e1, e2, e3]);
        }
        Ok(())
    }

    /// Waits for every queued chunk.
    pub(crate) fn finish(&self) -> Result<(), GpuError> {
        for stage in &self.stages {
            stage
                .stream
                .synchronize()
                .map_err(driver("waiting for the pipeline"))?;
        }
        Ok(())
    }

    /// Copies `grid` back as a CPU backprojector holding `count` images.
    pub(crate) fn download(
        &self,
        grid: &CudaSlice<f32>,
        count: u64,
    ) -> Result<Backprojector, GpuError> {
        self.finish()?;
        self.insertion
            .download(grid, self.layout.n, self.layout.pad, count)
    }
}

/// `count` random real-space particles of box `n` (values in -1..1), their
/// orientations and shifts of up to ±3 pixels.
pub(crate) fn random_particles(
    n: usize,
    count: usize,
    seed: u64,
) -> (Vec<f32>, Vec<Rotation>, Vec<[f32; 2]>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let images = (0..count * n * n)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let rots = (0..count)
        .map(|_| EulerAngles::random(&mut rng).matrix())
        .collect();
    let shifts = (0..count)
        .map(|_| {
            [
                rng.random_range(-3.0f32..3.0),
                rng.random_range(-3.0f32..3.0),
            ]
        })
        .collect();
    (images, rots, shifts)
}

/// Runs fresh random particles through the whole pipeline, in several
/// chunks over every stream, and through the CPU reference (rustfft and
/// `Backprojector`, from the same values after any float16 rounding);
/// returns the relative error of the GPU grid.
pub(crate) fn check_against_cpu(
    ctx: &Arc<CudaContext>,
    layout: Layout,
    kernel: Kernel,
    precision: Precision,
    count: usize,
    seed: u64,
) -> Result<f64, GpuError> {
    let n = layout.n;
    let chunk = count.div_ceil(2 * STREAMS).max(1);
    let mut pipe = Pipeline::new(ctx, layout, precision, chunk)?.with_kernel(kernel);
    let (mut images, rots, shifts) = random_particles(n, count, seed);
    if precision == Precision::F16 {
        images
            .iter_mut()
            .for_each(|v| *v = f16::from_f32(*v).to_f32());
    }
    let mut cpu = Backprojector::new(n, layout.pad);
    let mut fft = ImageFft::new(n);
    for (i, (a, s)) in rots.iter().zip(&shifts).enumerate() {
        let f = fft.forward(
            &images[i * n * n..(i + 1) * n * n],
            [f64::from(s[0]), f64::from(s[1])],
        );
        cpu.insert(&f, a);
    }
    let hosts = (0..count)
        .step_by(chunk)
        .map(|first| {
            let last = (first + chunk).min(count);
            HostChunk::new(
                ctx,
                &images[first * n * n..last * n * n],
                &rots[first..last],
                &shifts[first..last],
                precision,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut grid = pipe.grid()?;
    for (slot, host) in hosts.iter().enumerate() {
        pipe.enqueue(slot, host, &mut grid)?;
    }
    let gpu = pipe.download(&grid, count as u64)?;
    Ok(relative_error(&gpu, &cpu))
}

/// Pinned host memory the throughput run holds at most; beyond it, the
/// same chunks are sent again.
pub(crate) const HOST_RING_BYTES: usize = 2 << 30;

/// What one throughput case measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Throughput {
    /// Particles per timed run (whole chunks).
    pub particles: u64,
    pub chunk: usize,
    pub streams: usize,
    /// Wall seconds of each timed run.
    pub seconds: Vec<f64>,
}

/// Times `particles` (rounded up to whole chunks) through the pipeline:
/// random particles in pinned host memory, random orientations and shifts,
/// `repeats` runs after one warm-up, each timed on the host from the first
/// copy queued to the last stream drained.
pub(crate) fn throughput(
    ctx: &Arc<CudaContext>,
    layout: Layout,
    kernel: Kernel,
    precision: Precision,
    particles: u64,
    repeats: u32,
) -> Result<Throughput, GpuError> {
    let n = layout.n;
    let chunk = chunk_images(n);
    let chunks = (particles as usize).div_ceil(chunk).max(1);
    let ring = chunks.min((HOST_RING_BYTES / (chunk * n * n * precision.bytes())).max(STREAMS));
    let mut pipe = Pipeline::new(ctx, layout, precision, chunk)?.with_kernel(kernel);
    // one chunk of pixel values; each host chunk gets its own orientations
    let (images, _, _) = random_particles(n, chunk, 11);
    let hosts = (0..ring)
        .map(|r| {
            let (_, rots, shifts) = random_particles(1, chunk, 100 + r as u64);
            HostChunk::new(ctx, &images, &rots, &shifts, precision)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut grid = pipe.grid()?;
    let mut run = |pipe: &mut Pipeline| -> Result<f64, GpuError> {
        pipe.finish()?;
        let start = std::time::Instant::now();
        for j in 0..chunks {
            pipe.enqueue(j, &hosts[j % ring], &mut grid)?;
        }
        pipe.finish()?;
        Ok(start.elapsed().as_secs_f64())
    };
    run(&mut pipe)?;
    let seconds = (0..repeats)
        .map(|_| run(&mut pipe))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Throughput {
        particles: (chunks * chunk) as u64,
        chunk,
        streams: STREAMS,
        seconds,
    })
}
