//! What the model is asked: a job's shape and the device it runs on.

use super::jobs::{JobType, Search};

/// The hardware a job runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum Device {
    /// `count` GPUs of one model on one node, `ranks_per_gpu` MPI followers
    /// each (RELION), when known.
    Gpu {
        model: String,
        memory_bandwidth_gb_s: f64,
        fp32_tflops: f64,
        count: u32,
    },
    /// CPU cores across the job's nodes; `accelerated` is RELION's `--cpu`
    /// path (vectorised kernels), false its plain CPU code.
    Cpu { cores: u32, accelerated: bool },
}

/// One job to time.
#[derive(Debug, Clone, PartialEq)]
pub struct JobQuery {
    pub job: &'static JobType,
    pub particles: u64,
    pub box_size: u32,
    /// The image size the job works at; the job type's fraction of the box
    /// when not given.
    pub image_size: Option<u32>,
    pub classes: Option<u32>,
    /// Iterations (epochs for a network); the job type's default when not given.
    pub iterations: Option<f64>,
    pub healpix_order: Option<u32>,
    /// Order of the point group (C1: 1, D2: 4, ...).
    pub symmetry_order: u32,
    pub device: Device,
    /// RELION MPI followers per GPU (ranks less the leader, over the GPUs);
    /// None where unknown or not RELION (no penalty then).
    pub followers_per_gpu: Option<f64>,
    /// The dataset at its box, `KEY@BOX` with KEY as [`dataset_key`]
    /// spells it (one dataset extracted at two boxes is two), where the
    /// calibration may know it.
    pub dataset: Option<String>,
}

/// A dataset's key: `empiar-NNNNN` where the text names an EMPIAR entry,
/// else the text in lower case.
pub fn dataset_key(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    if let Some(at) = lower.find("empiar-") {
        let digits: String = lower[at + 7..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if !digits.is_empty() {
            return format!("empiar-{digits}");
        }
    }
    lower
}

impl Device {
    /// `count` GPUs of catalog model `g`.
    pub fn gpus(g: &crate::datasets::GpuModel, count: u32) -> Device {
        Device::Gpu {
            model: g.id.clone(),
            memory_bandwidth_gb_s: g.memory_bandwidth_gb_s,
            fp32_tflops: g.fp32_tflops,
            count,
        }
    }
}

impl JobQuery {
    /// `job` over `particles` at `box_size` on `device`, everything else
    /// the job type's default; a RELION job on GPUs runs the 2 followers
    /// per GPU that keep a card busy.
    pub fn new(job: &'static JobType, particles: u64, box_size: u32, device: Device) -> JobQuery {
        let relion_gpus = job.software == "relion" && matches!(device, Device::Gpu { .. });
        JobQuery {
            job,
            particles,
            box_size,
            image_size: None,
            classes: None,
            iterations: None,
            healpix_order: None,
            symmetry_order: 1,
            followers_per_gpu: relion_gpus.then_some(2.0),
            device,
            dataset: None,
        }
    }

    /// The image size the job works at, pixels.
    pub fn working_size(&self) -> f64 {
        match self.image_size {
            Some(n) => f64::from(n.min(self.box_size).max(2)),
            None => (f64::from(self.box_size) * self.job.image_fraction).max(2.0),
        }
    }

    pub fn iterations(&self) -> f64 {
        self.iterations.unwrap_or(self.job.default_iterations)
    }

    pub fn classes(&self) -> u32 {
        if self.job.takes_classes {
            self.classes.unwrap_or(self.job.default_classes).max(1)
        } else {
            1
        }
    }

    /// The job's work in arbitrary units: iterations × particles × classes
    /// × the cost of one image at the working size (n² log₂ n for the
    /// FFT-bound programs, n² for a network) × the orientations searched
    /// relative to the job type's default sampling ÷ the symmetry order.
    pub fn work(&self) -> f64 {
        let n = self.working_size();
        let per_image = if self.job.fft {
            n * n * n.log2()
        } else {
            n * n
        };
        let order = f64::from(self.healpix_order.unwrap_or(self.job.default_healpix))
            - f64::from(self.job.default_healpix);
        let sampling = match self.job.search {
            Search::ThreeD => 8f64.powf(order) / f64::from(self.symmetry_order.max(1)),
            Search::TwoD => 2f64.powf(order),
            Search::None => 1.0,
        };
        self.iterations() * self.particles as f64 * f64::from(self.classes()) * per_image * sampling
    }
}

/// The order of a point group named as RELION writes it (C1, C4, D2, T,
/// O, I, I1..I4); None for a name it does not know.
pub fn symmetry_order(name: &str) -> Option<u32> {
    let s = name.trim().to_ascii_uppercase();
    let (kind, rest) = s.split_at(s.chars().next()?.len_utf8());
    let n = || rest.parse::<u32>().ok().filter(|&n| n >= 1);
    match kind {
        "C" => n(),
        "D" => n().map(|n| 2 * n),
        "T" if rest.is_empty() => Some(12),
        "O" if rest.is_empty() => Some(24),
        "I" if rest.is_empty() || (rest.len() == 1 && ("1".."5").contains(&rest)) => Some(60),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobtime::jobs::find;

    fn q(job: &str, box_size: u32) -> JobQuery {
        JobQuery {
            job: find(job).unwrap(),
            particles: 1000,
            box_size,
            image_size: None,
            classes: None,
            iterations: None,
            healpix_order: None,
            symmetry_order: 1,
            device: Device::Cpu {
                cores: 1,
                accelerated: true,
            },
            followers_per_gpu: None,
            dataset: None,
        }
    }

    #[test]
    fn dataset_keys() {
        assert_eq!(dataset_key("EMPIAR-10028 Plasmodium 80S"), "empiar-10028");
        assert_eq!(dataset_key(" user data "), "user data");
        assert_eq!(dataset_key("empiar-x"), "empiar-x");
    }

    #[test]
    fn work_grows_as_n_squared_log_n_and_with_sampling_and_symmetry() {
        let a = q("relion-class3d", 128);
        let mut b = q("relion-class3d", 256);
        let ratio = b.work() / a.work();
        let na = 128.0 * 0.3;
        let nb = 256.0 * 0.3;
        let want = (nb * nb * f64::log2(nb)) / (na * na * f64::log2(na));
        assert!((ratio - want).abs() < 1e-9);
        let w = b.work();
        b.healpix_order = Some(3);
        assert!((b.work() / w - 8.0).abs() < 1e-9);
        b.symmetry_order = 4;
        assert!((b.work() / w - 2.0).abs() < 1e-9);
    }

    #[test]
    fn classes_count_only_where_the_job_takes_them() {
        let mut r = q("relion-refine3d", 200);
        let w = r.work();
        r.classes = Some(8);
        assert_eq!(r.work(), w);
        let mut c = q("relion-class3d", 200);
        let w = c.work();
        c.classes = Some(8);
        assert!((c.work() / w - 2.0).abs() < 1e-9);
    }

    #[test]
    fn point_groups() {
        assert_eq!(symmetry_order("C1"), Some(1));
        assert_eq!(symmetry_order("d2"), Some(4));
        assert_eq!(symmetry_order("O"), Some(24));
        assert_eq!(symmetry_order("I3"), Some(60));
        assert_eq!(symmetry_order("C0"), None);
        assert_eq!(symmetry_order("X"), None);
        assert_eq!(symmetry_order(""), None);
    }
}
