//! Is a CUDA driver here, and which GPUs does it offer?

use cudarc::driver::{CudaContext, sys};

use super::{GpuError, driver};
pub use crate::results::gpu::DeviceInfo;

/// True when libcuda can be loaded (a driver is installed).
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen the library by its usual names.
    unsafe { sys::is_culib_present() }
}

/// True when libnvrtc can be loaded (kernels can be compiled).
pub fn nvrtc_present() -> bool {
    // SAFETY: as above, for libnvrtc.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// True when libcufft can be loaded.
pub fn cufft_present() -> bool {
    // SAFETY: as above, for libcufft.
    unsafe { cudarc::cufft::sys::is_culib_present() }
}

/// The GPUs the driver offers; `NoDriver` where there is none.
pub fn devices() -> Result<Vec<DeviceInfo>, GpuError> {
    if !driver_present() {
        return Err(GpuError::NoDriver);
    }
    let count = CudaContext::device_count().map_err(driver("counting GPUs"))?;
    if count <= 0 {
        return Err(GpuError::NoDevice);
    }
    let mut version = 0i32;
    // SAFETY: the driver library is loaded (checked above); writes one int.
    unsafe { sys::cuDriverGetVersion(&mut version) }
        .result()
        .map_err(driver("reading the driver version"))?;
    (0..count as usize)
        .map(|ordinal| {
            let ctx = CudaContext::new(ordinal).map_err(driver("creating a context"))?;
            Ok(DeviceInfo {
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
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_driver_is_an_error_not_a_panic() {
        match devices() {
            Ok(d) => assert!(driver_present() && !d.is_empty()),
            Err(GpuError::NoDriver) => assert!(!driver_present()),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
}
