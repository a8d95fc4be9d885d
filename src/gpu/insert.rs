//! The insertion kernel (`kernels/backproject.cu`) driven from the host, and
//! its check against the CPU reference (`recon::Backprojector`).

use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rustfft::num_complex::Complex32;

use super::kernels::{BACKPROJECT, arch_for, compile};
use super::{GpuError, driver};
use crate::recon::euler::EulerAngles;
use crate::recon::{Backprojector, FourierImage, Rotation};

/// Threads per block: one block per image, threads striding over pixels.
pub const THREADS: u32 = 128;

/// The insertion kernel, loaded for one device.
pub struct GpuInsertion {
    pub stream: Arc<CudaStream>,
    func: CudaFunction,
}

/// Images and rotations on the device, ready to insert.
pub struct DeviceBatch {
    pub n: usize,
    pub count: usize,
    pub images: CudaSlice<f32>,
    pub rotations: CudaSlice<f32>,
}

impl GpuInsertion {
    /// Compiles the kernel with NVRTC for the device's architecture and loads it.
    pub fn new(ctx: &Arc<CudaContext>) -> Result<GpuInsertion, GpuError> {
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver("reading the compute capability"))?;
        let ptx = compile(&BACKPROJECT, arch_for(major, minor)?)?;
        let module = ctx
            .load_module(ptx)
            .map_err(driver("loading the insertion kernel"))?;
        let func = module
            .load_function("insert_trilinear")
            .map_err(driver("finding insert_trilinear"))?;
        Ok(GpuInsertion {
            stream: ctx.default_stream(),
            func,
        })
    }

    /// A zeroed padded grid for box `n` (float4 per voxel).
    pub fn grid(&self, n: usize, pad: usize) -> Result<CudaSlice<f32>, GpuError> {
        let p = n * pad;
        self.stream
            .alloc_zeros::<f32>(4 * p * p * (p / 2 + 1))
            .map_err(driver("allocating the Fourier grid"))
    }

    /// Copies Fourier images and their rotations to the device.
    pub fn upload(
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
        })
    }

    /// Inserts every image of `batch` into `grid` (asynchronously).
    pub fn insert(
        &self,
        batch: &DeviceBatch,
        grid: &mut CudaSlice<f32>,
        pad: usize,
    ) -> Result<(), GpuError> {
        let (n, pad_i, count) = (batch.n as i32, pad as i32, batch.count as i32);
        let cfg = LaunchConfig {
            grid_dim: (batch.count as u32, 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = self.stream.launch_builder(&self.func);
        b.arg(&batch.images)
            .arg(&batch.rotations)
            .arg(grid)
            .arg(&n)
            .arg(&pad_i)
            .arg(&count);
        // SAFETY: the argument list matches insert_trilinear's signature; the
        // buffers hold count images of n·(n/2+1) float2, count·9 floats, and
        // a p·p·(p/2+1) float4 grid.
        unsafe { b.launch(cfg) }.map_err(driver("launching insert_trilinear"))?;
        Ok(())
    }

    /// Copies the grid back as a CPU backprojector (data and weight split).
    pub fn download(
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
pub fn relative_error(gpu: &Backprojector, cpu: &Backprojector) -> f64 {
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
pub fn random_inputs(n: usize, count: usize, seed: u64) -> (Vec<FourierImage>, Vec<Rotation>) {
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

/// Inserts the same fresh random images on the GPU and the CPU; returns the
/// relative error of the GPU grid.
pub fn check_against_cpu(
    ins: &GpuInsertion,
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
    ins.insert(&batch, &mut grid, pad)?;
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
