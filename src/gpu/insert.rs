//! The insertion kernel (`kernels/backproject.cu`) driven from the host, and
//! its check against the CPU reference (`recon::Backprojector`).

use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, CudaView, LaunchConfig, PushKernelArg,
};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rustfft::num_complex::Complex32;

use super::kernels::{BACKPROJECT, arch_for, compile};
use super::{GpuError, driver};
use crate::recon::euler::EulerAngles;
use crate::recon::{Backprojector, FourierImage, Rotation};

/// Threads per block, one pixel each; a launch is a grid of
/// (pixel blocks per image, images).
pub(crate) const THREADS: u32 = 256;
/// CUDA's limit on the grid's y dimension: images per launch.
const MAX_IMAGES_PER_LAUNCH: usize = 65_535;

/// Largest padded box `insert_tiled` takes: its voxel indices must fit an i32.
pub(crate) const TILED_MAX_PADDED: usize = 1290;

/// The insertion kernels, loaded for one device.
pub(crate) struct GpuInsertion {
    pub stream: Arc<CudaStream>,
    plain: CudaFunction,
    tiled: CudaFunction,
}

/// The two insertion kernels of `kernels/backproject.cu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// One thread per pixel, eight global atomics each.
    Plain,
    /// A block sums its 16×16 tile's contributions per voxel in shared
    /// memory, then adds each voxel once (padded box up to 1290).
    Tiled,
}

impl Kernel {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kernel::Plain => "insert_trilinear",
            Kernel::Tiled => "insert_tiled",
        }
    }

    /// Pixels (x, y) of the tile one block takes; None: one pixel per thread.
    pub(crate) fn tile(self) -> Option<(u32, u32)> {
        match self {
            Kernel::Plain => None,
            Kernel::Tiled => Some((16, 16)),
        }
    }

    pub(crate) const ALL: [Kernel; 2] = [Kernel::Plain, Kernel::Tiled];

    /// Whether this kernel can insert images of `layout`.
    pub(crate) fn takes(self, layout: Layout) -> bool {
        self == Kernel::Plain || layout.n * layout.pad <= TILED_MAX_PADDED
    }
}

/// The kernel `launch` uses for `layout` when none was measured: the tiled
/// one wherever it can take the padded box (on an H100 it was 1.07 to 1.55
/// times as fast as the plain one at boxes 128 to 432, both paddings), the
/// plain one beyond.
pub(crate) fn kernel_for(layout: Layout) -> Kernel {
    if Kernel::Tiled.takes(layout) {
        Kernel::Tiled
    } else {
        Kernel::Plain
    }
}

/// Images, rotations and shifts on the device, ready to insert.
pub(crate) struct DeviceBatch {
    pub n: usize,
    pub count: usize,
    pub images: CudaSlice<f32>,
    pub rotations: CudaSlice<f32>,
    pub shifts: CudaSlice<f32>,
}

/// How the images of a launch are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub n: usize,
    pub pad: usize,
    /// Plain R2C transforms of particles with their origin at pixel n/2
    /// (cuFFT output); false for `ImageFft::forward` output.
    pub centre: bool,
}

/// Borrowed device buffers for `count` images: n·(n/2+1) float2 each,
/// 9 floats of rotation and 2 of shift each.
pub(crate) struct Inputs<'a> {
    pub images: CudaView<'a, f32>,
    pub rotations: CudaView<'a, f32>,
    pub shifts: CudaView<'a, f32>,
    pub count: usize,
}

impl GpuInsertion {
    /// Compiles the kernel with NVRTC for the device's architecture and loads it.
    pub(crate) fn new(ctx: &Arc<CudaContext>) -> Result<GpuInsertion, GpuError> {
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver("reading the compute capability"))?;
        let ptx = compile(&BACKPROJECT, arch_for(major, minor)?)?;
        let module = ctx
            .load_module(ptx)
            .map_err(driver("loading the insertion kernel"))?;
        let plain = module
            .load_function("insert_trilinear")
            .map_err(driver("finding insert_trilinear"))?;
        let tiled = module
            .load_function("insert_tiled")
            .map_err(driver("finding insert_tiled"))?;
        Ok(GpuInsertion {
            stream: ctx.default_stream(),
            plain,
            tiled,
        })
    }

    /// A zeroed padded grid for box `n` (float4 per voxel).
    pub(crate) fn grid(&self, n: usize, pad: usize) -> Result<CudaSlice<f32>, GpuError> {
        let p = n * pad;
        self.stream
            .alloc_zeros::<f32>(4 * p * p * (p / 2 + 1))
            .map_err(driver("allocating the Fourier grid"))
    }

    /// Copies Fourier images and their rotations to the device (no shifts:
    /// `ImageFft::forward` has applied them).
    pub(crate) fn upload(
        &self,
        images: &[FourierImage],
        rots: &[Rotation],
    ) -> Result<DeviceBatch, GpuError> {
        let n = images.first().map_or(0, |f| f.n);
        let flat: Vec<f32> = images
            .iter()
            .flat_map(|f| f.data.iter().flat_map(|c| [c.re, c.im]))
            .collect();
        let r: Vec<f32> = rots.iter().flat_map(|a| a.to_f32()).collect();
        Ok(DeviceBatch {
            n,
            count: images.len(),
            images: self
                .stream
                .clone_htod(&flat)
                .map_err(driver("copying images to the GPU"))?,
            rotations: self
                .stream
                .clone_htod(&r)
                .map_err(driver("copying rotations to the GPU"))?,
            shifts: self
                .stream
                .alloc_zeros(2 * images.len())
                .map_err(driver("allocating shifts"))?,
        })
    }

    /// Inserts every image of `batch` into `grid` with `kernel` (asynchronously).
    pub(crate) fn insert(
        &self,
        kernel: Kernel,
        batch: &DeviceBatch,
        grid: &mut CudaSlice<f32>,
        pad: usize,
    ) -> Result<(), GpuError> {
        let inputs = Inputs {
            images: batch.images.slice(..),
            rotations: batch.rotations.slice(..),
            shifts: batch.shifts.slice(..),
            count: batch.count,
        };
        let layout = Layout {
            n: batch.n,
            pad,
            centre: false,
        };
        self.launch_kernel(kernel, &self.stream, &inputs, grid, layout)
    }

    /// Inserts `inputs` into `grid` with `kernel`, in launches of at most
    /// 65,535 images.
    pub(crate) fn launch_kernel(
        &self,
        kernel: Kernel,
        stream: &Arc<CudaStream>,
        inputs: &Inputs<'_>,
        grid: &mut CudaSlice<f32>,
        layout: Layout,
    ) -> Result<(), GpuError> {
        assert!(
            kernel.takes(layout),
            "{} cannot take {layout:?}",
            kernel.name()
        );
        let n = layout.n;
        let pixels = n * (n / 2 + 1);
        let (n_i, pad_i, centre) = (n as i32, layout.pad as i32, i32::from(layout.centre));
        let (blocks, threads) = match kernel.tile() {
            Some((tx, ty)) => (
                ((n / 2 + 1) as u32).div_ceil(tx) * (n as u32).div_ceil(ty),
                tx * ty,
            ),
            None => ((pixels as u32).div_ceil(THREADS), THREADS),
        };
        let func = match kernel {
            Kernel::Plain => &self.plain,
            Kernel::Tiled => &self.tiled,
        };
        let mut first = 0;
        while first < inputs.count {
            let count = (inputs.count - first).min(MAX_IMAGES_PER_LAUNCH);
            let images = inputs
                .images
                .slice(2 * pixels * first..2 * pixels * (first + count));
            let rots = inputs.rotations.slice(9 * first..9 * (first + count));
            let shifts = inputs.shifts.slice(2 * first..2 * (first + count));
            let cfg = LaunchConfig {
                grid_dim: (blocks, count as u32, 1),
                block_dim: (threads, 1, 1),
                shared_mem_bytes: 0,
            };
            let mut b = stream.launch_builder(func);
            b.arg(&images)
                .arg(&rots)
                .arg(&shifts)
                .arg(&mut *grid)
                .arg(&n_i);
            b.arg(&pad_i).arg(&centre);
            // SAFETY: the argument list matches both kernels' signature; the
            // views hold count images of n·(n/2+1) float2, count·9 rotation
            // floats and count·2 shift floats; the grid is the p·p·(p/2+1)
            // float4 one `grid` allocates.
            unsafe { b.launch(cfg) }.map_err(driver("launching the insertion kernel"))?;
            first += count;
        }
        Ok(())
    }

    /// Copies the grid back as a CPU backprojector (data and weight split).
    pub(crate) fn download(
        &self,
        grid: &CudaSlice<f32>,
        n: usize,
        pad: usize,
        count: u64,
    ) -> Result<Backprojector, GpuError> {
        let host = self
            .stream
            .clone_dtoh(grid)
            .map_err(driver("copying the grid back"))?;
        let mut bp = Backprojector::new(n, pad);
        for (i, v) in host.chunks_exact(4).enumerate() {
            bp.data[i] = Complex32::new(v[0], v[1]);
            bp.weight[i] = v[2];
        }
        bp.count = count;
        Ok(bp)
    }
}

/// ‖gpu − cpu‖ / ‖cpu‖ over data (complex) and weights together.
pub(crate) fn relative_error(gpu: &Backprojector, cpu: &Backprojector) -> f64 {
    let (mut diff, mut norm) = (0f64, 0f64);
    for (g, c) in gpu.data.iter().zip(&cpu.data) {
        diff += f64::from((g - c).norm_sqr());
        norm += f64::from(c.norm_sqr());
    }
    for (g, c) in gpu.weight.iter().zip(&cpu.weight) {
        diff += f64::from((g - c).powi(2));
        norm += f64::from(c.powi(2));
    }
    if norm == 0.0 {
        if diff == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (diff / norm).sqrt()
    }
}

/// `count` random Fourier images of box `n` and random orientations.
pub(crate) fn random_inputs(
    n: usize,
    count: usize,
    seed: u64,
) -> (Vec<FourierImage>, Vec<Rotation>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let images = (0..count)
        .map(|_| FourierImage {
            n,
            data: (0..n * (n / 2 + 1))
                .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
                .collect(),
        })
        .collect();
    let rots = (0..count)
        .map(|_| EulerAngles::random(&mut rng).matrix())
        .collect();
    (images, rots)
}

/// Inserts the same fresh random images on the GPU (with `kernel`) and the
/// CPU; returns the relative error of the GPU grid.
pub(crate) fn check_against_cpu(
    ins: &GpuInsertion,
    kernel: Kernel,
    n: usize,
    pad: usize,
    count: usize,
    seed: u64,
) -> Result<f64, GpuError> {
    let (images, rots) = random_inputs(n, count, seed);
    let mut cpu = Backprojector::new(n, pad);
    for (f, a) in images.iter().zip(&rots) {
        cpu.insert(f, a);
    }
    let batch = ins.upload(&images, &rots)?;
    let mut grid = ins.grid(n, pad)?;
    ins.insert(kernel, &batch, &mut grid, pad)?;
    let gpu = ins.download(&grid, n, pad, count as u64)?;
    Ok(relative_error(&gpu, &cpu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_measures_the_difference() {
        let (images, rots) = random_inputs(16, 4, 1);
        let mut a = Backprojector::new(16, 2);
        for (f, r) in images.iter().zip(&rots) {
            a.insert(f, r);
        }
        assert_eq!(relative_error(&a, &a), 0.0);
        let mut b = a.clone();
        b.data.iter_mut().for_each(|c| *c *= 1.001);
        b.weight.iter_mut().for_each(|w| *w *= 1.001);
        let e = relative_error(&b, &a);
        assert!((e - 1e-3).abs() < 1e-5, "{e}");
        assert_eq!(
            relative_error(&a, &Backprojector::new(16, 2)),
            f64::INFINITY
        );
    }

    #[test]
    fn random_inputs_are_seeded() {
        let (a, ra) = random_inputs(8, 2, 5);
        let (b, rb) = random_inputs(8, 2, 5);
        assert_eq!((a, ra), (b, rb));
    }
}
