//! One CUDA GPU: the backend every GPU operation of cryocap goes through.
//! `bench gpu` and `qualify` open every GPU and ask each to check and time
//! itself ([`Gpu::bench`]); `reconstruct --backend gpu` opens GPU 0 and
//! inserts particles on it ([`Gpu::insert_particles`]). The kernels, the
//! streamed pipeline and the timing helpers below are its parts.

use std::sync::Arc;

use cudarc::driver::{CudaContext, sys};

use super::probe::driver_present;
use super::{GpuError, driver};
use crate::results::gpu::DeviceInfo;

/// A GPU with its CUDA context and what the driver says of it.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    info: DeviceInfo,
}

impl Gpu {
    /// GPU `ordinal`; `NoDriver` or `NoDevice` when there is none.
    pub fn open(ordinal: usize) -> Result<Gpu, GpuError> {
        if !driver_present() {
            return Err(GpuError::NoDriver);
        }
        let count = CudaContext::device_count().map_err(driver("counting GPUs"))?;
        if count <= 0 || ordinal >= count as usize {
            return Err(GpuError::NoDevice);
        }
        let mut version = 0i32;
        // SAFETY: the driver library is loaded (checked above); writes one int.
        unsafe { sys::cuDriverGetVersion(&mut version) }
            .result()
            .map_err(driver("reading the driver version"))?;
        let ctx = CudaContext::new(ordinal).map_err(driver("creating a context"))?;
        let info = DeviceInfo {
            ordinal,
            name: ctx.name().map_err(driver("reading the GPU name"))?,
            compute_capability: ctx
                .compute_capability()
                .map_err(driver("reading the compute capability"))?,
            vram_bytes: ctx.total_mem().map_err(driver("reading the memory size"))? as u64,
            sm_count: ctx
                .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
                .map_err(driver("reading the SM count"))? as u32,
            driver_version: version,
        };
        Ok(Gpu { ctx, info })
    }

    /// Every GPU the driver offers; `NoDriver` or `NoDevice` when none.
    pub fn all() -> Result<Vec<Gpu>, GpuError> {
        if !driver_present() {
            return Err(GpuError::NoDriver);
        }
        let count = CudaContext::device_count().map_err(driver("counting GPUs"))?;
        if count <= 0 {
            return Err(GpuError::NoDevice);
        }
        (0..count as usize).map(Gpu::open).collect()
    }

    /// What the driver says of this GPU.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The CUDA context the parts of the backend work in.
    pub(crate) fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }
}
