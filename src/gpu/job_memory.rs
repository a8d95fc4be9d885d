//! `bench gpu --job-memory`: does the working set `fit` predicts really
//! allocate? Each rank gets its own CUDA context (RELION's MPI ranks are
//! separate processes, each with one) and allocates its predicted bytes in
//! one piece; an out-of-memory answer means "does not fit", never a crash.
//! The largest box that allocates is set next to the model's.

use cudarc::driver::{CudaContext, sys};

use super::probe::driver_present;
use super::{GpuError, driver};
use crate::results::gpu::{
    BenchStatus, DeviceInfo, GpuBenchInput, GpuBenchReport, JobMemory, JobMemoryLimit, JobMemoryRow,
};
use crate::sizing::MAX_BOX;
use crate::sizing::fit::{self, FitJob};
use crate::sizing::stack::largest_even;

/// What to allocate.
#[derive(Debug, Clone)]
pub(crate) struct JobMemoryParams {
    pub job: FitJob,
    pub classes: u32,
    pub ranks_per_gpu: u32,
    pub boxes: Vec<u32>,
    pub pads: Vec<u32>,
}

/// One rank: its context and its allocation, released on drop.
struct Rank {
    ctx: sys::CUcontext,
    ptr: Option<sys::CUdeviceptr>,
}

impl Drop for Rank {
    fn drop(&mut self) {
        // SAFETY: ctx was created by cuCtxCreate_v2 and not destroyed yet;
        // ptr was allocated in it. Errors on release cannot be acted on.
        unsafe {
            let _ = sys::cuCtxSetCurrent(self.ctx);
            if let Some(p) = self.ptr.take() {
                let _ = sys::cuMemFree_v2(p);
            }
            let _ = sys::cuCtxDestroy_v2(self.ctx);
        }
    }
}

fn out_of_memory(r: sys::CUresult) -> bool {
    r == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY
}

/// Whether `ranks` contexts on device `ordinal` each allocate `bytes`.
fn allocates(dev: sys::CUdevice, ranks: u32, bytes: u64) -> Result<bool, GpuError> {
    let mut held = Vec::new();
    for _ in 0..ranks {
        let mut ctx: sys::CUcontext = std::ptr::null_mut();
        // SAFETY: the driver is loaded and initialised (checked by the
        // caller); writes one context handle.
        let r = unsafe { sys::cuCtxCreate_v2(&mut ctx, 0, dev) };
        if out_of_memory(r) {
            return Ok(false);
        }
        r.result().map_err(driver("creating a context per rank"))?;
        let mut rank = Rank { ctx, ptr: None };
        let mut ptr: sys::CUdeviceptr = 0;
        let Ok(size) = usize::try_from(bytes) else {
            return Ok(false);
        };
        // SAFETY: the new context is current; writes one device pointer.
        let r = unsafe { sys::cuMemAlloc_v2(&mut ptr, size.max(1)) };
        if out_of_memory(r) {
            return Ok(false);
        }
        r.result()
            .map_err(driver("allocating a rank's working set"))?;
        rank.ptr = Some(ptr);
        held.push(rank);
    }
    Ok(true)
}

fn skipped(input: GpuBenchInput, reason: String) -> GpuBenchReport {
    GpuBenchReport {
        status: BenchStatus::Skipped,
        reason: Some(reason),
        input,
        devices: Vec::new(),
        not_measured: Vec::new(),
        job_memory: None,
        from_files: None,
    }
}

/// Allocates `p`'s working set on every GPU at each box and padding, and
/// finds the largest box that allocates; skipped without a driver or GPU.
pub(crate) fn run(p: &JobMemoryParams) -> Result<GpuBenchReport, GpuError> {
    let input = GpuBenchInput {
        boxes: p.boxes.clone(),
        pads: p.pads.clone(),
        particles: 0,
    };
    if !driver_present() {
        return Ok(skipped(input, GpuError::NoDriver.to_string()));
    }
    let count = CudaContext::device_count().map_err(driver("counting GPUs"))?;
    if count <= 0 {
        return Ok(skipped(input, GpuError::NoDevice.to_string()));
    }
    let mut memory = JobMemory {
        job: p.job.id.clone(),
        ranks_per_gpu: p.ranks_per_gpu,
        classes: p.classes,
        rows: Vec::new(),
        limits: Vec::new(),
    };
    let mut devices = Vec::new();
    for ordinal in 0..count as usize {
        devices.push(measure_device(p, ordinal, &mut memory)?);
    }
    Ok(GpuBenchReport {
        status: BenchStatus::Measured,
        reason: None,
        input,
        devices: Vec::new(),
        not_measured: vec![format!(
            "kernels and bandwidths (this run allocated {}'s working set only, on {} GPU(s))",
            p.job.id,
            devices.len()
        )],
        job_memory: Some(memory),
        from_files: None,
    })
}

/// Bytes one rank of `p`'s job needs at box `b` and padding `pad`.
fn per_rank(p: &JobMemoryParams, b: u32, pad: u32) -> u64 {
    fit::vram_per_rank(&p.job, b, pad, p.classes)
}

/// On GPU `ordinal`: whether each box and padding of `p` allocates (added to
/// `memory.rows`) and, per padding, the largest box that does (added to
/// `memory.limits`). Returns the GPU's facts.
fn measure_device(
    p: &JobMemoryParams,
    ordinal: usize,
    memory: &mut JobMemory,
) -> Result<DeviceInfo, GpuError> {
    // the primary context reads the device's facts; ranks make their own
    let gpu = super::Gpu::open(ordinal)?;
    let info = gpu.info().clone();
    let mut dev: sys::CUdevice = 0;
    // SAFETY: the driver is initialised (Gpu::open); writes one handle.
    unsafe { sys::cuDeviceGet(&mut dev, ordinal as i32) }
        .result()
        .map_err(driver("getting the device"))?;
    for &pad in &p.pads {
        for &b in &p.boxes {
            memory.rows.push(JobMemoryRow {
                device: ordinal,
                pad,
                box_size: b,
                per_rank_bytes: per_rank(p, b, pad),
                allocated: allocates(dev, p.ranks_per_gpu, per_rank(p, b, pad))?,
            });
        }
        memory
            .limits
            .push(limit(p, dev, ordinal, pad, info.vram_bytes)?);
    }
    Ok(info)
}

/// The largest box that allocates on `dev` at `pad`, next to the one the
/// model gives for `vram_bytes`.
fn limit(
    p: &JobMemoryParams,
    dev: sys::CUdevice,
    ordinal: usize,
    pad: u32,
    vram_bytes: u64,
) -> Result<JobMemoryLimit, GpuError> {
    let model = fit::max_box(&p.job, vram_bytes, pad, p.classes, p.ranks_per_gpu).map(|x| x.0);
    // no box beyond twice the memory's worth is worth trying
    let ceiling = largest_even(MAX_BOX, |b| {
        fit::vram_per_gpu(&p.job, b, pad, p.classes, p.ranks_per_gpu)
            <= vram_bytes.saturating_mul(2)
    })
    .unwrap_or(2);
    let err = std::cell::RefCell::new(None);
    let allocated = largest_even(ceiling, |b| {
        match allocates(dev, p.ranks_per_gpu, per_rank(p, b, pad)) {
            Ok(ok) => ok,
            Err(e) => {
                err.borrow_mut().get_or_insert(e);
                false
            }
        }
    });
    if let Some(e) = err.into_inner() {
        return Err(e);
    }
    Ok(JobMemoryLimit {
        device: ordinal,
        pad,
        vram_bytes,
        allocated_max_box: allocated,
        model_max_box: model,
    })
}
