//! Is a CUDA driver here, and which GPUs does it offer?

use cudarc::driver::sys;

use super::GpuError;
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
    Ok(super::Gpu::all()?
        .iter()
        .map(|g| g.info().clone())
        .collect())
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
