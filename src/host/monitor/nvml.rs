//! GPU use through NVML (`libnvidia-ml.so.1`, the driver's management
//! library), loaded at run time so that the binary runs where there is no
//! NVIDIA driver. cudarc 0.19 has no NVML binding, so the seven calls the
//! monitor makes are bound here over libloading (which cudarc loads its own
//! libraries with). Utilisation and memory are the device's, whatever
//! process uses it: NVML's utilisation is the share of the last sample
//! period in which a kernel ran.

use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void};

use libloading::Library;

pub(super) const LIBRARY: &str = "libnvidia-ml.so.1";

type Device = *mut c_void;

#[repr(C)]
#[derive(Default)]
struct Utilization {
    gpu: c_uint,
    memory: c_uint,
}

#[repr(C)]
#[derive(Default)]
struct Memory {
    total: c_ulonglong,
    free: c_ulonglong,
    used: c_ulonglong,
}

type InitFn = unsafe extern "C" fn() -> c_int;
type CountFn = unsafe extern "C" fn(*mut c_uint) -> c_int;
type HandleFn = unsafe extern "C" fn(c_uint, *mut Device) -> c_int;
type NameFn = unsafe extern "C" fn(Device, *mut c_char, c_uint) -> c_int;
type UtilFn = unsafe extern "C" fn(Device, *mut Utilization) -> c_int;
type MemFn = unsafe extern "C" fn(Device, *mut Memory) -> c_int;

/// One sample of one GPU: utilisation in percent, memory used in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct GpuSample {
    pub utilization_pct: u32,
    pub memory_used: u64,
}

/// NVML started, with the GPUs it lists. Dropping it shuts NVML down.
pub(super) struct Nvml {
    shutdown: InitFn,
    utilization: UtilFn,
    memory: MemFn,
    /// (NVML index, name, handle)
    devices: Vec<(u32, String, Device)>,
    // the functions above point into the library: it goes last
    _lib: Library,
}

/// What NVML answers when asked for a symbol or a call fails.
fn call(what: &str, code: c_int) -> Result<(), String> {
    match code {
        0 => Ok(()),
        c => Err(format!("NVML {what} failed (error {c})")),
    }
}

impl Nvml {
    /// Loads the library and starts NVML; the error is the line saying why
    /// there are no GPU figures.
    pub(super) fn start() -> Result<Nvml, String> {
        // SAFETY: loading the NVIDIA driver's library runs its initialisers,
        // which are written to be loaded by any process.
        let lib = unsafe { Library::new(LIBRARY) }.map_err(|_| {
            format!("no NVIDIA driver ({LIBRARY} not found): GPU figures not taken")
        })?;
        let missing = |name: &str| format!("{LIBRARY} has no {name}: GPU figures not taken");
        // SAFETY: each symbol is NVML's C function of the signature it is
        // read as (nvml.h); the pointers are used only while `lib` lives.
        let (init, shutdown, count, handle, name, utilization, memory) = unsafe {
            (
                *lib.get::<InitFn>(b"nvmlInit_v2\0")
                    .map_err(|_| missing("nvmlInit_v2"))?,
                *lib.get::<InitFn>(b"nvmlShutdown\0")
                    .map_err(|_| missing("nvmlShutdown"))?,
                *lib.get::<CountFn>(b"nvmlDeviceGetCount_v2\0")
                    .map_err(|_| missing("nvmlDeviceGetCount_v2"))?,
                *lib.get::<HandleFn>(b"nvmlDeviceGetHandleByIndex_v2\0")
                    .map_err(|_| missing("nvmlDeviceGetHandleByIndex_v2"))?,
                *lib.get::<NameFn>(b"nvmlDeviceGetName\0")
                    .map_err(|_| missing("nvmlDeviceGetName"))?,
                *lib.get::<UtilFn>(b"nvmlDeviceGetUtilizationRates\0")
                    .map_err(|_| missing("nvmlDeviceGetUtilizationRates"))?,
                *lib.get::<MemFn>(b"nvmlDeviceGetMemoryInfo\0")
                    .map_err(|_| missing("nvmlDeviceGetMemoryInfo"))?,
            )
        };
        let not_taken = |e: String| format!("{e}: GPU figures not taken");
        // SAFETY: nvmlInit_v2 takes no arguments.
        call("nvmlInit_v2", unsafe { init() }).map_err(not_taken)?;
        let mut nvml = Nvml {
            shutdown,
            utilization,
            memory,
            devices: Vec::new(),
            _lib: lib,
        };
        let mut n: c_uint = 0;
        // SAFETY: `n` is a valid out-pointer.
        call("nvmlDeviceGetCount_v2", unsafe { count(&mut n) }).map_err(not_taken)?;
        for i in 0..n {
            let mut dev: Device = std::ptr::null_mut();
            // SAFETY: `i` is below the count; `dev` is a valid out-pointer.
            if call("handle", unsafe { handle(i, &mut dev) }).is_err() {
                continue;
            }
            // NVML_DEVICE_NAME_V2_BUFFER_SIZE is 96
            let mut buf = [0u8; 96];
            // SAFETY: the buffer holds the length passed; NVML writes a
            // NUL-terminated name into it.
            let label = match unsafe { name(dev, buf.as_mut_ptr().cast(), buf.len() as c_uint) } {
                0 => {
                    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                    String::from_utf8_lossy(&buf[..end]).into_owned()
                }
                _ => "unknown".to_string(),
            };
            nvml.devices.push((i, label, dev));
        }
        if nvml.devices.is_empty() {
            return Err("NVML lists no GPU: GPU figures not taken".to_string());
        }
        Ok(nvml)
    }

    /// The GPUs: NVML index (PCI bus order) and name.
    pub(super) fn devices(&self) -> Vec<(u32, String)> {
        self.devices
            .iter()
            .map(|(i, n, _)| (*i, n.clone()))
            .collect()
    }

    /// One sample of each GPU, in the order of [`Nvml::devices`]; None for
    /// a GPU that did not answer.
    pub(super) fn sample(&self) -> Vec<Option<GpuSample>> {
        self.devices
            .iter()
            .map(|&(_, _, dev)| {
                let mut u = Utilization::default();
                let mut m = Memory::default();
                // SAFETY: `dev` came from NVML, which is still started; the
                // structs match nvml.h's nvmlUtilization_t and nvmlMemory_t.
                let ok = unsafe {
                    (self.utilization)(dev, &mut u) == 0 && (self.memory)(dev, &mut m) == 0
                };
                ok.then_some(GpuSample {
                    utilization_pct: u.gpu,
                    memory_used: m.used,
                })
            })
            .collect()
    }
}

impl Drop for Nvml {
    fn drop(&mut self) {
        // SAFETY: NVML was started by `start`; the library is still loaded.
        let _ = unsafe { (self.shutdown)() };
    }
}

/// Mean and maximum utilisation, and peak memory, of one GPU's samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct GpuTotals {
    samples: u64,
    util_sum: f64,
    pub max_utilization_pct: f64,
    pub peak_memory_bytes: u64,
}

impl GpuTotals {
    pub(super) fn add(&mut self, s: GpuSample) {
        self.samples += 1;
        self.util_sum += f64::from(s.utilization_pct);
        self.max_utilization_pct = self.max_utilization_pct.max(f64::from(s.utilization_pct));
        self.peak_memory_bytes = self.peak_memory_bytes.max(s.memory_used);
    }

    pub(super) fn mean_utilization_pct(&self) -> f64 {
        match self.samples {
            0 => 0.0,
            n => self.util_sum / n as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_keep_the_mean_the_maximum_and_the_peak() {
        let mut t = GpuTotals::default();
        assert_eq!(t.mean_utilization_pct(), 0.0);
        for (u, m) in [(0, 10), (100, 30), (50, 20)] {
            t.add(GpuSample {
                utilization_pct: u,
                memory_used: m,
            });
        }
        assert_eq!(t.mean_utilization_pct(), 50.0);
        assert_eq!(t.max_utilization_pct, 100.0);
        assert_eq!(t.peak_memory_bytes, 30);
    }

    #[test]
    fn without_a_driver_nvml_says_why_and_does_not_panic() {
        match Nvml::start() {
            Ok(n) => assert!(!n.devices().is_empty()),
            Err(e) => assert!(e.ends_with("GPU figures not taken"), "{e}"),
        }
    }
}
