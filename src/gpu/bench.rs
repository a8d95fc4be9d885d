//! `cryocap bench gpu`: per GPU, check the insertion kernel against the CPU
//! reference, then time device memory bandwidth and insertion. Timing uses
//! CUDA events after a warm-up run; NVRTC compilation, module loading and
//! allocation stay outside the timed region.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaSlice, CudaStream, LaunchConfig, PushKernelArg, sys};

use rand::{SeedableRng, rngs::StdRng};

use crate::recon::euler::EulerAngles;

use super::Gpu;
use super::insert::{GpuInsertion, Kernel, Layout, check_against_cpu, random_inputs};
use super::kernels::{COPY, arch_for, compile};
use super::pipeline::{self, Precision};
use super::probe::driver_present;
use super::{GpuError, driver};
use crate::results::gpu::{
    Bandwidth, BenchStatus, DeviceInfo, EndToEndResult, FftResult, GpuBenchInput, GpuBenchReport,
    GpuDeviceResult, InsertionResult, KernelCheck, MaxBox,
};

/// Largest relative error the insertion kernel may show against the CPU.
pub(crate) const CHECK_LIMIT: f64 = 1e-4;
/// Box sizes the benchmark times (even ones only).
pub(crate) const BOXES: std::ops::RangeInclusive<u32> = 16..=1024;

/// Whether the bench times box `n`: even, within [`BOXES`].
pub(crate) fn times_box(n: u32) -> bool {
    BOXES.contains(&n) && n.is_multiple_of(2)
}
/// Timed runs after the warm-up.
pub(crate) const REPEATS: u32 = 7;
/// Kernels, boxes and paddings checked (the CPU reference is slow and
/// memory-hungry at large boxes; the kernel code is the same for all).
pub(crate) const CHECK_CASES: [(Kernel, usize, usize); 7] = [
    (Kernel::Plain, 64, 1),
    (Kernel::Tiled, 64, 1),
    (Kernel::Plain, 64, 2),
    (Kernel::Tiled, 64, 2),
    (Kernel::Tiled, 128, 1),
    (Kernel::Plain, 128, 2),
    (Kernel::Tiled, 128, 2),
];

#[derive(Debug, Clone, PartialEq)]
pub struct BenchGpuParams {
    pub boxes: Vec<u32>,
    pub pads: Vec<u32>,
    pub particles: u64,
}

/// What this version does not measure (kept in the JSON for readers of
/// older reports; empty now).
pub(crate) fn not_measured() -> Vec<String> {
    Vec::new()
}

/// The end-to-end pipeline's checks: input, kernel, box, padding, particles.
/// Box 66 with 201 particles (a last chunk of 31) leaves a tail of values
/// that the float16 conversion's 8-wide loop does not cover.
/// Largest difference in pixels allowed between the GPU's frame shifts and
/// the CPU reference's (both are found to within a tenth of the truth).
pub(crate) const ALIGN_CHECK_LIMIT: f64 = 0.02;

pub(crate) const PIPELINE_CHECKS: [(Precision, Kernel, usize, usize, usize); 2] = [
    (Precision::F32, Kernel::Plain, 64, 2, 200),
    (Precision::F16, Kernel::Tiled, 66, 1, 201),
];

pub(crate) fn run(cfg: &BenchGpuParams) -> Result<GpuBenchReport, GpuError> {
    let input = GpuBenchInput {
        boxes: cfg.boxes.clone(),
        pads: cfg.pads.clone(),
        particles: cfg.particles,
    };
    let skipped = |reason: String| GpuBenchReport {
        status: BenchStatus::Skipped,
        reason: Some(reason),
        input: input.clone(),
        devices: Vec::new(),
        not_measured: not_measured(),
        job_memory: None,
        from_files: None,
    };
    if !driver_present() {
        return Ok(skipped(GpuError::NoDriver.to_string()));
    }
    let gpus = match Gpu::all() {
        Err(GpuError::NoDevice) => {
            return Ok(skipped(GpuError::NoDevice.to_string()));
        }
        other => other?,
    };
    let mut results = Vec::new();
    for gpu in &gpus {
        results.push(gpu.bench(cfg)?);
    }
    let failed = results.iter().any(|d| d.checks.iter().any(|c| !c.passed));
    Ok(GpuBenchReport {
        status: if failed {
            BenchStatus::CheckFailed
        } else {
            BenchStatus::Measured
        },
        reason: failed.then(|| {
            "the insertion kernel disagrees with the CPU reference; its speed is not reported"
                .into()
        }),
        input,
        devices: results,
        not_measured: not_measured(),
        job_memory: None,
        from_files: None,
    })
}

impl Gpu {
    /// Checks this GPU's kernels against the CPU reference, then times its
    /// copies, FFTs, insertion and the end-to-end pipeline.
    pub fn bench(&self, cfg: &BenchGpuParams) -> Result<GpuDeviceResult, GpuError> {
        device(self.context(), self.info().clone(), cfg)
    }
}

/// Checks then times one GPU: the kernels against the CPU reference (and
/// no timing if any disagrees), copies, the largest box, FFTs, insertion,
/// the end-to-end pipeline and frame alignment, in that order.
fn device(
    ctx: &Arc<CudaContext>,
    info: DeviceInfo,
    cfg: &BenchGpuParams,
) -> Result<GpuDeviceResult, GpuError> {
    let ins = GpuInsertion::new(ctx)?;
    let mut checks = insertion_checks(ctx, &ins)?;
    let aligner = super::align::AlignKernels::new(ctx)?;
    checks.push(align_check(ctx, &aligner)?);
    if checks.iter().any(|c| !c.passed) {
        return Ok(GpuDeviceResult::checks_only(info, checks));
    }
    let (copy, copy_memcpy) = copy_bandwidth(ctx, &info)?;
    let (h2d, d2h) = pinned_bandwidth(ctx, &info)?;
    let max_box = Some(max_box(ctx, &info)?);
    let fft = cfg
        .boxes
        .iter()
        .map(|&n| fft_rate(ctx, n as usize, cfg.particles))
        .collect();
    let insertion = insertion_rates(ctx, &ins, cfg);
    let end_to_end = end_to_end_rates(ctx, cfg, &insertion, h2d.median_bytes_per_second);
    let frame_alignment = super::align::DETECTORS
        .into_iter()
        .map(|d| super::align::rate(ctx, &aligner, d))
        .collect();
    Ok(GpuDeviceResult {
        frame_alignment,
        device: info,
        checks,
        copy: Some(copy),
        copy_memcpy: Some(copy_memcpy),
        host_to_device: Some(h2d),
        device_to_host: Some(d2h),
        max_box,
        fft,
        insertion,
        end_to_end,
    })
}

/// The insertion kernels ([`CHECK_CASES`]), then the end-to-end pipeline
/// ([`PIPELINE_CHECKS`]), each checked against the CPU reference.
fn insertion_checks(
    ctx: &Arc<CudaContext>,
    ins: &GpuInsertion,
) -> Result<Vec<KernelCheck>, GpuError> {
    let mut checks = Vec::new();
    for (seed, (kernel, n, pad)) in CHECK_CASES.into_iter().enumerate() {
        let images = 64;
        let err = check_against_cpu(ins, kernel, n, pad, images, 1000 + seed as u64)?;
        checks.push(KernelCheck {
            kernel: kernel.name().into(),
            box_size: n as u32,
            pad: pad as u32,
            images: images as u64,
            relative_error: err,
            limit: CHECK_LIMIT,
            passed: err < CHECK_LIMIT,
        });
    }
    for (seed, (precision, kernel, n, pad, count)) in PIPELINE_CHECKS.into_iter().enumerate() {
        let layout = Layout {
            n,
            pad,
            centre: true,
        };
        let err =
            pipeline::check_against_cpu(ctx, layout, kernel, precision, count, 2000 + seed as u64)?;
        checks.push(KernelCheck {
            kernel: format!("end-to-end {}, {}", precision.name(), kernel.name()),
            box_size: n as u32,
            pad: pad as u32,
            images: count as u64,
            relative_error: err,
            limit: CHECK_LIMIT,
            passed: err < CHECK_LIMIT,
        });
    }
    Ok(checks)
}

/// The frame-alignment kernels against the CPU reference: the largest
/// shift difference in pixels.
fn align_check(
    ctx: &Arc<CudaContext>,
    aligner: &super::align::AlignKernels,
) -> Result<KernelCheck, GpuError> {
    let worst = super::align::check_against_cpu(ctx, aligner)?;
    Ok(KernelCheck {
        kernel: "frame alignment (largest shift difference, px)".into(),
        box_size: super::align::CHECK_MOVIE.0 as u32,
        pad: 1,
        images: super::align::CHECK_MOVIE.2 as u64,
        relative_error: worst,
        limit: ALIGN_CHECK_LIMIT,
        passed: worst < ALIGN_CHECK_LIMIT,
    })
}

/// The largest box at padding 2 that can be allocated, and what the plan
/// model says of this GPU's memory.
fn max_box(ctx: &Arc<CudaContext>, info: &DeviceInfo) -> Result<MaxBox, GpuError> {
    let pad = 2;
    let fits = super::max_box::by_allocation(ctx, pad)?;
    Ok(MaxBox {
        pad,
        by_allocation: fits,
        working_set_bytes: fits.map_or(0, |b| super::max_box::working_set_bytes(b, pad)),
        plan_model_reconstruct: super::max_box::by_plan_model(info.vram_bytes),
    })
}

/// Insertion rates of every kernel that takes each box and padding asked.
fn insertion_rates(
    ctx: &Arc<CudaContext>,
    ins: &GpuInsertion,
    cfg: &BenchGpuParams,
) -> Vec<InsertionResult> {
    let mut insertion = Vec::new();
    for &n in &cfg.boxes {
        for &pad in &cfg.pads {
            for kernel in Kernel::ALL {
                let layout = Layout {
                    n: n as usize,
                    pad: pad as usize,
                    centre: false,
                };
                if kernel.takes(layout) {
                    insertion.push(insertion_rate(ctx, ins, kernel, layout, cfg.particles));
                }
            }
        }
    }
    insertion
}

/// End-to-end rates per box and padding asked, in float32 and float16,
/// with the faster insertion kernel measured for each.
fn end_to_end_rates(
    ctx: &Arc<CudaContext>,
    cfg: &BenchGpuParams,
    insertion: &[InsertionResult],
    h2d_bytes_per_second: f64,
) -> Vec<EndToEndResult> {
    let mut end_to_end = Vec::new();
    for &n in &cfg.boxes {
        for &pad in &cfg.pads {
            let kernel = fastest_kernel(insertion, n, pad);
            for precision in [Precision::F32, Precision::F16] {
                end_to_end.push(end_to_end_rate(
                    ctx,
                    kernel,
                    n as usize,
                    pad as usize,
                    precision,
                    cfg.particles,
                    h2d_bytes_per_second,
                ));
            }
        }
    }
    end_to_end
}

/// The faster insertion kernel measured for box `n` and padding `pad`
/// (the plain one if none was).
fn fastest_kernel(insertion: &[InsertionResult], n: u32, pad: u32) -> Kernel {
    insertion
        .iter()
        .filter(|r| r.box_size == n && r.pad == pad && r.error.is_none())
        .max_by(|a, b| {
            a.median_particles_per_second
                .total_cmp(&b.median_particles_per_second)
        })
        .and_then(|r| Kernel::ALL.into_iter().find(|k| k.name() == r.kernel))
        .unwrap_or(Kernel::Plain)
}

/// Seconds per call of `work` on `stream`, `REPEATS` times after one warm-up.
fn timed(
    ctx: &Arc<CudaContext>,
    stream: &Arc<CudaStream>,
    mut work: impl FnMut() -> Result<(), GpuError>,
) -> Result<Vec<f64>, GpuError> {
    let event = || {
        ctx.new_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
            .map_err(driver("creating a timing event"))
    };
    work()?;
    stream.synchronize().map_err(driver("warming up"))?;
    let mut out = Vec::new();
    for _ in 0..REPEATS {
        let (start, end) = (event()?, event()?);
        start.record(stream).map_err(driver("recording an event"))?;
        work()?;
        end.record(stream).map_err(driver("recording an event"))?;
        end.synchronize().map_err(driver("waiting for the GPU"))?;
        let ms = start.elapsed_ms(&end).map_err(driver("reading an event"))?;
        out.push(f64::from(ms) / 1e3);
    }
    Ok(out)
}

/// (median, min, max) of `per_second(seconds)` over the runs.
pub(crate) fn spread(seconds: &[f64], amount: f64) -> (f64, f64, f64) {
    let mut rates: Vec<f64> = seconds.iter().map(|s| amount / s.max(1e-12)).collect();
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    (
        median,
        rates.first().copied().unwrap_or(0.0),
        rates.last().copied().unwrap_or(0.0),
    )
}

/// Device-to-device copy of 1 GiB, by cryocap's kernel and by the driver's
/// copy (what frameworks' tensor copies use).
fn copy_bandwidth(
    ctx: &Arc<CudaContext>,
    info: &DeviceInfo,
) -> Result<(Bandwidth, Bandwidth), GpuError> {
    let (major, minor) = info.compute_capability;
    let module = ctx
        .load_module(compile(&COPY, arch_for(major, minor)?)?)
        .map_err(driver("loading the copy kernel"))?;
    let func = module
        .load_function("copy_float4")
        .map_err(driver("finding copy_float4"))?;
    let stream = ctx.default_stream();
    // 1 GiB each way, or an eighth of the GPU's memory on small GPUs
    let bytes = (1u64 << 30).min(info.vram_bytes / 8) / 16 * 16;
    let floats = (bytes / 4) as usize;
    let src: CudaSlice<f32> = stream.alloc_zeros(floats).map_err(driver("allocating"))?;
    let mut dst: CudaSlice<f32> = stream.alloc_zeros(floats).map_err(driver("allocating"))?;
    let count = bytes / 16;
    let cfg = LaunchConfig {
        grid_dim: (info.sm_count.max(1) * 8, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let seconds = timed(ctx, &stream, || {
        let mut b = stream.launch_builder(&func);
        b.arg(&src).arg(&mut dst).arg(&count);
        // SAFETY: copy_float4(const float4*, float4*, u64) over `count`
        // float4 that both buffers hold.
        unsafe { b.launch(cfg) }.map_err(driver("launching copy_float4"))?;
        Ok(())
    })?;
    let kernel = bandwidth(
        "bytes read + written, copy_float4 kernel",
        2 * bytes,
        &seconds,
    );
    let seconds = timed(ctx, &stream, || {
        stream
            .memcpy_dtod(&src, &mut dst)
            .map_err(driver("copying on the GPU"))
    })?;
    let memcpy = bandwidth(
        "bytes read + written, cuMemcpyDtoDAsync",
        2 * bytes,
        &seconds,
    );
    Ok((kernel, memcpy))
}

fn bandwidth(counts: &str, bytes: u64, seconds: &[f64]) -> Bandwidth {
    let (median, min, max) = spread(seconds, bytes as f64);
    Bandwidth {
        counts: counts.into(),
        bytes_per_run: bytes,
        repeats: seconds.len() as u32,
        median_bytes_per_second: median,
        min_bytes_per_second: min,
        max_bytes_per_second: max,
    }
}

/// Pinned host-to-device and device-to-host copies of 512 MiB (or an
/// eighth of the GPU's memory).
pub(crate) fn pinned_bandwidth(
    ctx: &Arc<CudaContext>,
    info: &DeviceInfo,
) -> Result<(Bandwidth, Bandwidth), GpuError> {
    let stream = ctx.default_stream();
    let bytes = (512u64 << 20).min(info.vram_bytes / 8) / 4 * 4;
    let floats = (bytes / 4) as usize;
    // SAFETY: page-locked memory left uninitialised; it is only copied,
    // never read as values. Flags 0: plain pinned memory, as cudaMallocHost.
    let mut host = unsafe { ctx.alloc_pinned_with_flags::<f32>(floats, 0) }
        .map_err(driver("allocating pinned host memory"))?;
    let mut dev: CudaSlice<f32> = stream.alloc_zeros(floats).map_err(driver("allocating"))?;
    let h2d = timed(ctx, &stream, || {
        stream
            .memcpy_htod(&host, &mut dev)
            .map_err(driver("copying to the GPU"))
    })?;
    let d2h = timed(ctx, &stream, || {
        stream
            .memcpy_dtoh(&dev, &mut host)
            .map_err(driver("copying from the GPU"))
    })?;
    Ok((
        bandwidth("bytes copied, pinned host memory to GPU", bytes, &h2d),
        bandwidth("bytes copied, GPU to pinned host memory", bytes, &d2h),
    ))
}

/// Batched 2D R2C FFTs at box `n` (at most 1 GiB of input per batch).
fn fft_rate(ctx: &Arc<CudaContext>, n: usize, particles: u64) -> FftResult {
    let per_image = (n * n * 4) as u64;
    let count = particles.min((1u64 << 30) / per_image).max(1);
    let mut row = FftResult {
        box_size: n as u32,
        images: count,
        repeats: 0,
        median_images_per_second: 0.0,
        min_images_per_second: 0.0,
        max_images_per_second: 0.0,
        error: None,
    };
    let result = (|| {
        let stream = ctx.default_stream();
        let input: CudaSlice<f32> = stream
            .alloc_zeros(count as usize * n * n)
            .map_err(driver("allocating FFT input"))?;
        let mut output: CudaSlice<cudarc::cufft::sys::float2> = stream
            .alloc_zeros(count as usize * n * (n / 2 + 1))
            .map_err(driver("allocating FFT output"))?;
        let plan = pipeline::r2c_plan(&stream, n, count as usize)?;
        timed(ctx, &stream, || {
            plan.exec_r2c(&input, &mut output)
                .map_err(|e| GpuError::Fft {
                    doing: "transforming",
                    detail: format!("{e:?}"),
                })
        })
    })();
    match result {
        Ok(seconds) => {
            let (median, min, max) = spread(&seconds, count as f64);
            row.repeats = REPEATS;
            row.median_images_per_second = median;
            row.min_images_per_second = min;
            row.max_images_per_second = max;
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

/// Insertion throughput for random Fourier images already on the GPU; a case
/// that cannot run (out of memory) is recorded with its error, not fatal.
fn insertion_rate(
    ctx: &Arc<CudaContext>,
    ins: &GpuInsertion,
    kernel: Kernel,
    layout: Layout,
    particles: u64,
) -> InsertionResult {
    let Layout { n, pad, .. } = layout;
    // keep the image batch under 2 GiB so that the grid fits beside it
    let per_image = (n * (n / 2 + 1) * 8) as u64;
    let count = particles.min((2u64 << 30) / per_image).max(1);
    let mut row = InsertionResult {
        kernel: kernel.name().into(),
        box_size: n as u32,
        pad: pad as u32,
        particles: count,
        repeats: 0,
        median_particles_per_second: 0.0,
        min_particles_per_second: 0.0,
        max_particles_per_second: 0.0,
        error: None,
    };
    let result = (|| {
        // a few distinct images repeated: the kernel's cost does not depend on values
        let (distinct, _) = random_inputs(n, 16, 7);
        let images: Vec<_> = (0..count as usize)
            .map(|i| distinct[i % 16].clone())
            .collect();
        let mut rng = StdRng::seed_from_u64(8);
        let rots: Vec<_> = (0..count)
            .map(|_| EulerAngles::random(&mut rng).matrix())
            .collect();
        let batch = ins.upload(&images, &rots)?;
        let mut grid = ins.grid(n, pad)?;
        timed(ctx, &ins.stream, || {
            ins.insert(kernel, &batch, &mut grid, pad)
        })
    })();
    match result {
        Ok(seconds) => {
            let (median, min, max) = spread(&seconds, count as f64);
            row.repeats = REPEATS;
            row.median_particles_per_second = median;
            row.min_particles_per_second = min;
            row.max_particles_per_second = max;
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

/// End-to-end throughput from particles in pinned host memory; a case that
/// cannot run is recorded with its error, not fatal.
fn end_to_end_rate(
    ctx: &Arc<CudaContext>,
    kernel: Kernel,
    n: usize,
    pad: usize,
    precision: Precision,
    particles: u64,
    h2d_bytes_per_second: f64,
) -> EndToEndResult {
    let layout = Layout {
        n,
        pad,
        centre: true,
    };
    let bytes_per_particle = (n * n * precision.bytes()) as f64;
    let mut row = EndToEndResult {
        box_size: n as u32,
        pad: pad as u32,
        input: precision.name().into(),
        kernel: kernel.name().into(),
        particles: 0,
        chunk: 0,
        streams: 0,
        repeats: 0,
        median_particles_per_second: 0.0,
        min_particles_per_second: 0.0,
        max_particles_per_second: 0.0,
        host_link_bound: (h2d_bytes_per_second > 0.0)
            .then(|| h2d_bytes_per_second / bytes_per_particle),
        error: None,
    };
    match pipeline::throughput(ctx, layout, kernel, precision, particles, REPEATS) {
        Ok(t) => {
            let (median, min, max) = spread(&t.seconds, t.particles as f64);
            row.particles = t.particles;
            row.chunk = t.chunk as u64;
            row.streams = t.streams as u32;
            row.repeats = t.seconds.len() as u32;
            row.median_particles_per_second = median;
            row.min_particles_per_second = min;
            row.max_particles_per_second = max;
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_min_max_of_rates() {
        let (m, lo, hi) = spread(&[1.0, 0.5, 2.0], 10.0);
        assert_eq!((m, lo, hi), (10.0, 5.0, 20.0));
    }

    #[test]
    fn without_a_driver_the_bench_is_skipped() {
        if driver_present() {
            eprintln!("skipped: a CUDA driver is present");
            return;
        }
        let cfg = BenchGpuParams {
            boxes: vec![128],
            pads: vec![1],
            particles: 10,
        };
        let r = run(&cfg).unwrap();
        assert_eq!(r.status, BenchStatus::Skipped);
        assert!(r.reason.unwrap().contains("no CUDA driver"));
        assert!(r.devices.is_empty());
    }
}
