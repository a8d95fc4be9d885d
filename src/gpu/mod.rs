//! Everything that touches CUDA (cudarc, loaded at run time). Every entry
//! point first checks that the library it needs can be loaded
//! (`is_culib_present`): cudarc panics when it cannot, and a machine without
//! a GPU must get a clear "skipped" instead.

pub mod align;
pub(crate) mod bench;
mod device;
pub mod from_files;
pub(crate) mod insert;
pub(crate) mod job_memory;
pub(crate) mod kernels;
pub(crate) mod max_box;
pub(crate) mod pipeline;
pub mod probe;
pub mod reconstruct;

pub use device::Gpu;

/// Why GPU work could not run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no CUDA driver found (libcuda.so could not be loaded)")]
    NoDriver,
    #[error(
        "NVRTC (libnvrtc.so) could not be loaded; install the CUDA toolkit or `pip install nvidia-cuda-nvrtc-cu12` and add its nvidia/cuda_nvrtc/lib to LD_LIBRARY_PATH"
    )]
    NoNvrtc,
    #[error("the CUDA driver has no GPU to offer")]
    NoDevice,
    #[error("CUDA driver call failed while {doing}: {source}")]
    Driver {
        doing: &'static str,
        source: cudarc::driver::DriverError,
    },
    #[error("kernel {file} did not compile for {arch}: {log}")]
    Compile {
        file: &'static str,
        arch: String,
        log: String,
    },
    #[error("cuFFT failed while {doing}: {detail}")]
    Fft { doing: &'static str, detail: String },
    #[error(
        "cuFFT (libcufft.so) could not be loaded; install the CUDA toolkit's libcufft or `pip install nvidia-cufft-cu12`"
    )]
    NoCufft,
    #[error("compute capability {0}.{1} is not one NVRTC is asked to compile for here")]
    UnknownArch(i32, i32),
}

/// Wraps a driver error with what was being done.
pub(crate) fn driver(doing: &'static str) -> impl FnOnce(cudarc::driver::DriverError) -> GpuError {
    move |source| GpuError::Driver { doing, source }
}
