//! Frame alignment on the GPU (`kernels/align.cu`): the per-movie work of
//! motion correction, step for step as the CPU reference in
//! `movies::align` (taper, full complex FFTs, each frame against the sum of
//! the others, a Gaussian sub-pixel peak, Jacobi iterations), for whole
//! frames and for P×P patches. Frames arrive as 8-bit counts, as counting
//! detectors write them, and are widened on the GPU.

use std::sync::Arc;

use cudarc::cufft::{CudaFft, FftDirection, result as cufft_result, sys as cufft_sys};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtrMut, LaunchConfig, PushKernelArg,
};

use super::kernels::{ALIGN, arch_for, compile};
use super::probe::cufft_present;
use super::{GpuError, driver};
use crate::movies::align::taper;

/// Smallest patch side aligned (smaller patches hold too little signal).
pub const MIN_PATCH: usize = 32;

/// How to align.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignParams {
    /// 1: whole frames; P: P×P non-overlapping patches, each aligned alone.
    pub patches: usize,
    /// exp(−bfactor·|k|²) weighting of the cross-correlation (k in cycles
    /// per pixel).
    pub bfactor: f64,
    pub iterations: usize,
}

/// The kernels of `align.cu`, loaded once per context.
pub(crate) struct AlignKernels {
    counts_to_float: CudaFunction,
    extract_patches: CudaFunction,
    image_means: CudaFunction,
    taper_complex: CudaFunction,
    shifted_sum: CudaFunction,
    cross_spectra: CudaFunction,
    find_peaks: CudaFunction,
    sm_count: u32,
}

impl AlignKernels {
    pub(crate) fn new(ctx: &Arc<CudaContext>) -> Result<AlignKernels, GpuError> {
        if !cufft_present() {
            return Err(GpuError::NoCufft);
        }
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver("reading the compute capability"))?;
        let module = ctx
            .load_module(compile(&ALIGN, arch_for(major, minor)?)?)
            .map_err(driver("loading the frame-alignment kernels"))?;
        let f = |name: &'static str| {
            module
                .load_function(name)
                .map_err(driver("finding a frame-alignment kernel"))
        };
        Ok(AlignKernels {
            counts_to_float: f("counts_to_float")?,
            extract_patches: f("extract_patches")?,
            image_means: f("image_means")?,
            taper_complex: f("taper_complex")?,
            shifted_sum: f("shifted_sum")?,
            cross_spectra: f("cross_spectra")?,
            find_peaks: f("find_peaks")?,
            sm_count: ctx
                .attribute(
                    cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                )
                .map_err(driver("reading the SM count"))? as u32,
        })
    }

    /// A grid-stride launch over many elements.
    fn spread(&self) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (self.sm_count.max(1) * 8, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// One block of 256 threads per image.
    fn per_image(images: usize) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (images as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        }
    }
}

/// Device bytes aligning `frames` frames of w×h takes (counts, floats,
/// patches, two complex buffers, sums), for a clear message before
/// allocating.
pub fn working_set_bytes(w: usize, h: usize, frames: usize, patches: usize) -> u64 {
    let px = (w * h * frames) as u64;
    let patch = if patches > 1 { px * 4 } else { 0 };
    px + px * 4 + patch + 2 * px * 8 + (w * h) as u64 * 8
}

/// Runs the FFT plan in place on `buf` (complex values as f32 pairs).
fn fft_in_place(
    plan: &CudaFft,
    stream: &Arc<CudaStream>,
    buf: &mut CudaSlice<f32>,
    direction: FftDirection,
) -> Result<(), GpuError> {
    let (ptr, _sync) = buf.device_ptr_mut(stream);
    // SAFETY: the plan was made for this buffer's batch of complex images,
    // on this stream; cuFFT allows the input and output to be one buffer.
    unsafe {
        cufft_result::exec_c2c(
            plan.handle(),
            ptr as *mut cufft_sys::cufftComplex,
            ptr as *mut cufft_sys::cufftComplex,
            direction as i32,
        )
    }
    .map_err(|e| GpuError::Fft {
        doing: "transforming frames",
        detail: format!("{e:?}"),
    })
}

/// Aligns one movie: `counts` holds `frames` frames of w×h 8-bit counts,
/// one after the other. Returns, per group (one for whole frames, P² for
/// patches, row by row), each frame's shift relative to the frames' mean
/// position, as `movies::align::align` does.
pub(crate) fn align_counts(
    ctx: &Arc<CudaContext>,
    k: &AlignKernels,
    counts: &[u8],
    (w, h, frames): (usize, usize, usize),
    p: &AlignParams,
) -> Result<Vec<Vec<(f64, f64)>>, GpuError> {
    let stream = ctx.default_stream();
    let groups = p.patches.max(1).pow(2);
    let (pw, ph) = (w / p.patches.max(1), h / p.patches.max(1));
    let nimg = groups * frames;
    let plane = pw * ph;
    let l = Launcher {
        stream: &stream,
        k,
        pw: pw as i32,
        ph: ph as i32,
        frames: frames as i32,
        groups: groups as i32,
        nimg,
    };
    let alloc = |len: usize| alloc_f32(&stream, len);
    let d_frames = l.upload_counts(counts, w * h * frames)?;
    let images = if p.patches > 1 {
        let mut d_patches = alloc(nimg * plane)?;
        l.extract_patches(&d_frames, &mut d_patches, (w, h, p.patches))?;
        drop(d_frames);
        d_patches
    } else {
        d_frames
    };
    let mut means = alloc(nimg)?;
    l.image_means(&images, &mut means)?;
    let wx = stream
        .clone_htod(&taper(pw))
        .map_err(driver("copying the taper"))?;
    let wy = stream
        .clone_htod(&taper(ph))
        .map_err(driver("copying the taper"))?;
    let mut spectra = alloc(2 * nimg * plane)?;
    l.taper_complex(&images, &means, (&wx, &wy), &mut spectra)?;
    drop(images);
    let plan = frames_plan(&stream, (pw, ph), nimg)?;
    fft_in_place(&plan, &stream, &mut spectra, FftDirection::Forward)?;
    let mut shifts = alloc(2 * nimg)?;
    let mut next = alloc(2 * nimg)?;
    let mut total = alloc(2 * groups * plane)?;
    let mut cc = alloc(2 * nimg * plane)?;
    let bfactor = p.bfactor as f32;
    for _ in 0..p.iterations.max(1) {
        l.shifted_sum(&spectra, &shifts, &mut total)?;
        l.cross_spectra(&spectra, &shifts, &total, &mut cc, bfactor)?;
        fft_in_place(&plan, &stream, &mut cc, FftDirection::Inverse)?;
        l.find_peaks(&cc, &mut next)?;
        std::mem::swap(&mut shifts, &mut next);
    }
    let found = stream
        .clone_dtoh(&shifts)
        .map_err(driver("copying shifts back"))?;
    Ok(centred_shifts(&found, groups, frames))
}

/// `len` (at least one) zeroed floats on the GPU.
fn alloc_f32(stream: &Arc<CudaStream>, len: usize) -> Result<CudaSlice<f32>, GpuError> {
    stream
        .alloc_zeros::<f32>(len.max(1))
        .map_err(driver("allocating frame-alignment buffers"))
}

/// The batched 2-D complex FFT plan of `nimg` images of pw×ph.
fn frames_plan(
    stream: &Arc<CudaStream>,
    (pw, ph): (usize, usize),
    nimg: usize,
) -> Result<CudaFft, GpuError> {
    let plane = pw * ph;
    CudaFft::plan_many(
        &[ph as i32, pw as i32],
        None,
        1,
        plane as i32,
        None,
        1,
        plane as i32,
        cufft_sys::cufftType::CUFFT_C2C,
        nimg as i32,
        stream.clone(),
    )
    .map_err(|e| GpuError::Fft {
        doing: "planning the frames' FFTs",
        detail: format!("{e:?}"),
    })
}

/// `found` (x, y per image, group by group) as each group's shifts relative
/// to its frames' mean position.
fn centred_shifts(found: &[f32], groups: usize, frames: usize) -> Vec<Vec<(f64, f64)>> {
    (0..groups)
        .map(|g| {
            let mine: Vec<(f64, f64)> = (0..frames)
                .map(|f| {
                    let i = 2 * (g * frames + f);
                    (f64::from(found[i]), f64::from(found[i + 1]))
                })
                .collect();
            let n = mine.len().max(1) as f64;
            let x0 = mine.iter().map(|s| s.0).sum::<f64>() / n;
            let y0 = mine.iter().map(|s| s.1).sum::<f64>() / n;
            mine.iter().map(|&(x, y)| (x - x0, y - y0)).collect()
        })
        .collect()
}

/// The kernel launches of one movie's alignment: the stream, the kernels
/// and the sizes, as the kernels take them. The buffers stay with
/// `align_counts`, which allocates and frees them.
struct Launcher<'a> {
    stream: &'a Arc<CudaStream>,
    k: &'a AlignKernels,
    /// Patch (or frame) width and height.
    pw: i32,
    ph: i32,
    frames: i32,
    groups: i32,
    /// Images: groups × frames.
    nimg: usize,
}

impl Launcher<'_> {
    /// The 8-bit `counts` copied to the GPU and widened to `len` floats;
    /// the counts are freed once widened.
    fn upload_counts(&self, counts: &[u8], len: usize) -> Result<CudaSlice<f32>, GpuError> {
        let mut d_counts = self
            .stream
            .alloc_zeros::<u8>(counts.len().max(1))
            .map_err(driver("allocating frame-alignment buffers"))?;
        self.stream
            .memcpy_htod(counts, &mut d_counts)
            .map_err(driver("copying frames to the GPU"))?;
        let mut d_frames = alloc_f32(self.stream, len)?;
        self.counts_to_float(&d_counts, &mut d_frames, len as u64)?;
        drop(d_counts);
        Ok(d_frames)
    }

    /// Widens `n` 8-bit counts to floats.
    fn counts_to_float(
        &self,
        counts: &CudaSlice<u8>,
        frames: &mut CudaSlice<f32>,
        n: u64,
    ) -> Result<(), GpuError> {
        let mut b = self.stream.launch_builder(&self.k.counts_to_float);
        b.arg(counts).arg(frames).arg(&n);
        // SAFETY: counts_to_float(const u8*, float*, u64): both hold n values.
        unsafe { b.launch(self.k.spread()) }.map_err(driver("launching counts_to_float"))?;
        Ok(())
    }

    /// Cuts the w×h frames into P×P patches of pw×ph.
    fn extract_patches(
        &self,
        frames: &CudaSlice<f32>,
        patches: &mut CudaSlice<f32>,
        (w, h, p): (usize, usize, usize),
    ) -> Result<(), GpuError> {
        let (wi, hi, pi) = (w as i32, h as i32, p as i32);
        let mut b = self.stream.launch_builder(&self.k.extract_patches);
        b.arg(frames)
            .arg(patches)
            .arg(&wi)
            .arg(&hi)
            .arg(&pi)
            .arg(&self.pw)
            .arg(&self.ph)
            .arg(&self.frames);
        // SAFETY: extract_patches reads F whole frames and writes P²·F
        // patches of pw×ph, all inside the two buffers.
        unsafe { b.launch(self.k.spread()) }.map_err(driver("launching extract_patches"))?;
        Ok(())
    }

    /// Each image's mean.
    fn image_means(
        &self,
        images: &CudaSlice<f32>,
        means: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let mut b = self.stream.launch_builder(&self.k.image_means);
        b.arg(images).arg(means).arg(&self.pw).arg(&self.ph);
        // SAFETY: one block of 256 per image, each reading its pw·ph values.
        unsafe { b.launch(AlignKernels::per_image(self.nimg)) }
            .map_err(driver("launching image_means"))?;
        Ok(())
    }

    /// The images less their means, tapered by `wx`·`wy`, as complex values.
    fn taper_complex(
        &self,
        images: &CudaSlice<f32>,
        means: &CudaSlice<f32>,
        (wx, wy): (&CudaSlice<f32>, &CudaSlice<f32>),
        spectra: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let ni = self.nimg as i32;
        let mut b = self.stream.launch_builder(&self.k.taper_complex);
        b.arg(images)
            .arg(means)
            .arg(wx)
            .arg(wy)
            .arg(spectra)
            .arg(&self.pw)
            .arg(&self.ph)
            .arg(&ni);
        // SAFETY: writes nimg·plane complex values into a buffer of that many.
        unsafe { b.launch(self.k.spread()) }.map_err(driver("launching taper_complex"))?;
        Ok(())
    }

    /// Each group's sum of its spectra, shifted by the current shifts.
    fn shifted_sum(
        &self,
        spectra: &CudaSlice<f32>,
        shifts: &CudaSlice<f32>,
        total: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let mut b = self.stream.launch_builder(&self.k.shifted_sum);
        b.arg(spectra)
            .arg(shifts)
            .arg(total)
            .arg(&self.pw)
            .arg(&self.ph)
            .arg(&self.frames)
            .arg(&self.groups);
        // SAFETY: reads nimg spectra and shifts, writes `groups` sums.
        unsafe { b.launch(self.k.spread()) }.map_err(driver("launching shifted_sum"))?;
        Ok(())
    }

    /// Each frame's cross-spectrum against the sum of the others, weighted
    /// by the B-factor.
    fn cross_spectra(
        &self,
        spectra: &CudaSlice<f32>,
        shifts: &CudaSlice<f32>,
        total: &CudaSlice<f32>,
        cc: &mut CudaSlice<f32>,
        bfactor: f32,
    ) -> Result<(), GpuError> {
        let mut b = self.stream.launch_builder(&self.k.cross_spectra);
        b.arg(spectra)
            .arg(shifts)
            .arg(total)
            .arg(cc)
            .arg(&self.pw)
            .arg(&self.ph)
            .arg(&self.frames)
            .arg(&self.groups)
            .arg(&bfactor);
        // SAFETY: writes nimg cross-spectra from buffers of matching sizes.
        unsafe { b.launch(self.k.spread()) }.map_err(driver("launching cross_spectra"))?;
        Ok(())
    }

    /// Each image's cross-correlation peak, to sub-pixel precision.
    fn find_peaks(&self, cc: &CudaSlice<f32>, next: &mut CudaSlice<f32>) -> Result<(), GpuError> {
        let mut b = self.stream.launch_builder(&self.k.find_peaks);
        b.arg(cc).arg(next).arg(&self.pw).arg(&self.ph);
        // SAFETY: one block per image, each writing its own two floats.
        unsafe { b.launch(AlignKernels::per_image(self.nimg)) }
            .map_err(driver("launching find_peaks"))?;
        Ok(())
    }
}

/// Movies timed per detector size, after one warm-up.
const REPEATS: u32 = 3;

/// The detector sizes `bench gpu` times: K3 counting frames (50 a movie, as
/// `movies plan`'s K3 example) and Falcon 4i EER grouped into 40 fractions.
pub const DETECTORS: [(&str, usize, usize, usize); 2] =
    [("k3", 5760, 4092, 50), ("falcon-4i", 4096, 4096, 40)];

/// The P of the patches motion correction aligns after the whole frame.
pub const PATCHES: usize = 5;

/// The parameters `bench gpu` times and checks with.
pub const BENCH: AlignParams = AlignParams {
    patches: 1,
    bfactor: 50.0,
    iterations: 3,
};

/// The movie the GPU is checked on: width, height, frames (as the movie
/// `movies create --drift` is checked with), and its drift a frame.
pub(crate) const CHECK_MOVIE: (usize, usize, usize) = (384, 384, 10);
pub(crate) const CHECK_DRIFT: (f64, f64) = (0.3, -0.2);

/// The largest difference, in pixels, between the GPU's shifts and the CPU
/// reference's on the drifting synthetic check movie, whole frame and 5×5
/// patches.
pub(crate) fn check_against_cpu(ctx: &Arc<CudaContext>, k: &AlignKernels) -> Result<f64, GpuError> {
    let (w, h, frames) = CHECK_MOVIE;
    let counts = drifting_movie(w, h, frames, CHECK_DRIFT);
    let mut worst = 0f64;
    for patches in [1, PATCHES] {
        let p = AlignParams { patches, ..BENCH };
        let got = align_counts(ctx, k, &counts, (w, h, frames), &p)?;
        let (pw, ph) = (w / patches, h / patches);
        for (g, shifts) in got.iter().enumerate() {
            let (px, py) = (g % patches, g / patches);
            let patch: Vec<Vec<f32>> = (0..frames)
                .map(|f| {
                    (0..ph)
                        .flat_map(|y| {
                            let row = f * w * h + (py * ph + y) * w + px * pw;
                            counts[row..row + pw].iter().map(|&c| f32::from(c))
                        })
                        .collect()
                })
                .collect();
            let cpu = crate::movies::align::align(&patch, pw, ph, p.bfactor, p.iterations);
            for (a, b) in shifts.iter().zip(&cpu) {
                worst = worst.max((a.0 - b.0).abs()).max((a.1 - b.1).abs());
            }
        }
    }
    Ok(worst)
}

/// A drifting synthetic movie: `frames` counting frames of w×h (20 e⁻ a
/// pixel a frame over a specimen, so that a small frame holds the signal of
/// a large one).
pub(crate) fn drifting_movie(w: usize, h: usize, frames: usize, drift: (f64, f64)) -> Vec<u8> {
    let dose = crate::movies::synth::Dose {
        per_pixel_per_frame: 20.0,
        contrast: 0.8,
    };
    let mut e = crate::movies::synth::Exposure::new(w as u32, h as u32, dose, 5)
        .with_drift(drift.0, drift.1, 5);
    let mut out = vec![0u8; w * h * frames];
    for f in out.chunks_exact_mut(w * h) {
        e.counts(f);
    }
    out
}

/// Times whole movies of one detector's size (whole frame, then 5×5
/// patches) from 8-bit counts in host memory; a case that cannot run is
/// recorded with its error.
pub(crate) fn rate(
    ctx: &Arc<CudaContext>,
    k: &AlignKernels,
    (detector, w, h, frames): (&str, usize, usize, usize),
) -> crate::results::gpu::FrameAlignResult {
    use rand::{RngExt, SeedableRng};
    let mut row = crate::results::gpu::FrameAlignResult {
        detector: detector.into(),
        width: w as u32,
        height: h as u32,
        frames: frames as u32,
        patches: PATCHES as u32,
        iterations: BENCH.iterations as u32,
        repeats: 0,
        median_seconds: 0.0,
        min_seconds: 0.0,
        max_seconds: 0.0,
        movies_per_hour: 0.0,
        error: None,
    };
    // sparse counts (0 to 3 a pixel): the timing does not depend on them
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let counts: Vec<u8> = (0..w * h * frames)
        .map(|_| rng.random::<u8>() & 3)
        .collect();
    let movie = || -> Result<f64, GpuError> {
        let t = std::time::Instant::now();
        for patches in [1, PATCHES] {
            align_counts(
                ctx,
                k,
                &counts,
                (w, h, frames),
                &AlignParams { patches, ..BENCH },
            )?;
        }
        ctx.synchronize()
            .map_err(driver("waiting for frame alignment"))?;
        Ok(t.elapsed().as_secs_f64())
    };
    let timed: Result<Vec<f64>, GpuError> = (0..=REPEATS).map(|_| movie()).collect();
    match timed {
        Ok(mut s) => {
            s.remove(0); // the warm-up
            s.sort_by(f64::total_cmp);
            row.repeats = s.len() as u32;
            row.median_seconds = s[s.len() / 2];
            row.min_seconds = s[0];
            row.max_seconds = s[s.len() - 1];
            row.movies_per_hour = 3600.0 / row.median_seconds.max(1e-9);
        }
        Err(e) => {
            row.error = Some(format!(
                "{e} (needs about {} of GPU memory)",
                crate::units::bytes_binary(working_set_bytes(w, h, frames, PATCHES))
            ))
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::probe::driver_present;
    use crate::movies::align::align;

    #[test]
    fn the_working_set_counts_every_buffer() {
        // 10 frames of 100×100: 1e5 counts, 4e5 floats, 2 × 8e5 complex, one sum
        assert_eq!(
            working_set_bytes(100, 100, 10, 1),
            100_000 + 400_000 + 1_600_000 + 80_000
        );
        assert_eq!(
            working_set_bytes(100, 100, 10, 5) - working_set_bytes(100, 100, 10, 1),
            400_000
        );
    }

    /// The planted drift of `drifting_movie`, relative to the frames' mean.
    fn planted(frames: usize, drift: (f64, f64)) -> Vec<(f64, f64)> {
        let m = (frames - 1) as f64 / 2.0;
        (0..frames)
            .map(|i| ((i as f64 - m) * drift.0, (i as f64 - m) * drift.1))
            .collect()
    }

    fn within(found: &[(f64, f64)], want: &[(f64, f64)], limit: f64) {
        assert_eq!(found.len(), want.len());
        for (a, b) in found.iter().zip(want) {
            assert!(
                (a.0 - b.0).abs() < limit && (a.1 - b.1).abs() < limit,
                "found {a:?}, planted {b:?}"
            );
        }
    }

    /// The movie the GPU is checked on: the CPU reference finds its planted
    /// drift within a tenth of a pixel (runs everywhere).
    #[test]
    fn the_check_movie_drift_is_found_by_the_cpu_reference() {
        let ((w, h, frames), drift) = (CHECK_MOVIE, CHECK_DRIFT);
        let counts = drifting_movie(w, h, frames, drift);
        let f: Vec<Vec<f32>> = counts
            .chunks_exact(w * h)
            .map(|c| c.iter().map(|&v| f32::from(v)).collect())
            .collect();
        within(
            &align(&f, w, h, BENCH.bfactor, BENCH.iterations),
            &planted(frames, drift),
            0.1,
        );
    }

    /// On a machine with a GPU (skipped without a driver): the GPU finds the
    /// CPU reference's shifts, whole frame and per patch, and the planted
    /// drift within a tenth of a pixel.
    #[test]
    fn gpu_alignment_matches_the_cpu_reference_and_the_planted_drift() {
        if !driver_present() {
            eprintln!("skipped: no CUDA driver");
            return;
        }
        let Ok(gpu) = crate::gpu::Gpu::open(0) else {
            eprintln!("skipped: no GPU");
            return;
        };
        let ctx = gpu.context();
        let k = AlignKernels::new(ctx).unwrap();
        let worst = check_against_cpu(ctx, &k).unwrap();
        assert!(
            worst < crate::gpu::bench::ALIGN_CHECK_LIMIT,
            "{worst} px from the CPU"
        );
        let ((w, h, frames), drift) = (CHECK_MOVIE, CHECK_DRIFT);
        let counts = drifting_movie(w, h, frames, drift);
        let got = align_counts(ctx, &k, &counts, (w, h, frames), &BENCH).unwrap();
        assert_eq!(got.len(), 1);
        within(&got[0], &planted(frames, drift), 0.1);
        let p = AlignParams {
            patches: PATCHES,
            ..BENCH
        };
        assert_eq!(
            align_counts(ctx, &k, &counts, (w, h, frames), &p)
                .unwrap()
                .len(),
            25
        );
    }
}
