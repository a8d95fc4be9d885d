//! One run of a real job: read back from the directory RELION or CryoSPARC
//! wrote (`jobs import`), or watched while it ran (`bench app`). What could
//! not be read is `null` and named in `missing`; a run still going or one
//! that failed says so in `status` rather than passing for a finished run.
//! `calibrate` fits the job-time model on finished runs of this kind.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRun {
    /// Where the figures come from: `relion-dir`, `cryosparc-dir` or `bench-app`.
    pub source: String,
    /// The job directory read, as given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// `relion`, `cryosparc` or `unknown` (a program `bench app` ran that
    /// no job directory describes).
    pub software: String,
    #[serde(default)]
    pub version: Option<String>,
    /// The job as the job-time model names it (`relion-class3d`,
    /// `cryosparc-nu-refine`, ...), when known.
    #[serde(default)]
    pub job: Option<String>,
    /// The program's own name for the job (`Class3D`, `nonuniform_refine_new`).
    #[serde(default)]
    pub job_label: Option<String>,
    pub status: RunStatus,
    /// The command line as the program recorded it (or as `bench app` ran it).
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub shape: JobShape,
    #[serde(default)]
    pub layout: RunLayout,
    /// When the run started and ended, seconds since the Unix epoch; in
    /// JSON `run_started_at` and `run_ended_at`, apart from the envelope's
    /// `started_at` (when cryocap ran).
    #[serde(default, rename = "run_started_at")]
    pub started_at: Option<f64>,
    #[serde(default, rename = "run_ended_at")]
    pub ended_at: Option<f64>,
    /// Wall time of the run: ended minus started where both are known.
    #[serde(default)]
    pub wall_seconds: Option<f64>,
    /// How the wall time was obtained (`job.json started_at/completed_at`,
    /// `note.txt and the last iteration's files`, `monitored`).
    #[serde(default)]
    pub timed_by: Option<String>,
    /// What a model input or the time could not be read from, one line each.
    #[serde(default)]
    pub missing: Vec<String>,
    /// The monitor's figures when `bench app` ran the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<Monitor>,
}

impl JobRun {
    /// A run from `source` (`relion-dir`, ...) of `software`, nothing read yet.
    pub fn new(source: &str, software: &str) -> JobRun {
        JobRun {
            source: source.to_string(),
            dir: None,
            software: software.to_string(),
            version: None,
            job: None,
            job_label: None,
            status: RunStatus::Unknown,
            command: None,
            shape: JobShape::default(),
            layout: RunLayout::default(),
            started_at: None,
            ended_at: None,
            wall_seconds: None,
            timed_by: None,
            missing: Vec::new(),
            monitor: None,
        }
    }
}

impl JobRun {
    /// Joins the job directory a monitored program wrote (`bench app
    /// --import`): the job, its shape and layout come from the directory;
    /// the status, wall time and monitor stay the monitor's.
    pub fn attach(&mut self, dir: JobRun) {
        self.software = dir.software;
        self.version = dir.version.or(self.version.take());
        self.job = dir.job.or(self.job.take());
        self.job_label = dir.job_label.or(self.job_label.take());
        self.shape = dir.shape;
        self.layout = dir.layout;
        self.dir = dir.dir;
        self.missing.extend(dir.missing);
    }
}

/// How a run ended, as far as its files tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Finished,
    Running,
    Failed,
    Killed,
    Unknown,
}

impl RunStatus {
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Finished => "finished",
            RunStatus::Running => "running (or stopped without a trace)",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
            RunStatus::Unknown => "unknown",
        }
    }
}

/// What the job computed on: the job-time model's inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobShape {
    pub particles: Option<u64>,
    /// Box of the particle images, pixels.
    pub box_size: Option<u32>,
    pub pixel_a: Option<f64>,
    /// The largest image size the job worked at (RELION's
    /// `_rlnCurrentImageSize` of its last iteration), pixels.
    pub image_size: Option<u32>,
    pub classes: Option<u32>,
    pub iterations: Option<u32>,
    pub healpix_order: Option<u32>,
    pub symmetry: Option<String>,
    /// Resolution reached, Å.
    pub resolution_a: Option<f64>,
}

/// How the run was laid out on the node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunLayout {
    /// MPI processes (RELION's leader included).
    pub ranks: Option<u32>,
    /// Threads per process (`--j`).
    pub threads: Option<u32>,
    /// GPUs the job used (0: a CPU run).
    pub gpus: Option<u32>,
    /// The GPU model, as the catalog names it where it matches one.
    pub gpu_model: Option<String>,
    /// Node the job ran on, where its files say.
    pub host: Option<String>,
    /// The node's CPU model (CryoSPARC's `instance_information.cpu_model`).
    #[serde(default)]
    pub cpu_model: Option<String>,
    /// RELION `--scratch_dir`, `--preread_images`, `--pool`.
    pub scratch_dir: Option<String>,
    pub preread_images: Option<bool>,
    pub pool: Option<u32>,
    /// RELION `--cpu` (the accelerated CPU path).
    pub cpu_accel: Option<bool>,
}

/// What `bench app` measured while the program ran, sampled about once a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// The program's exit status, or the signal that ended it.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub wall_seconds: f64,
    /// User and system CPU seconds of the program and its children.
    pub user_cpu_seconds: f64,
    pub system_cpu_seconds: f64,
    /// Largest resident set seen, summed over the process tree, bytes.
    pub peak_rss_bytes: u64,
    /// Storage bytes read and written by the process tree (/proc/PID/io
    /// read_bytes and write_bytes), and all bytes through read/write calls.
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub rchar: u64,
    pub wchar: u64,
    pub samples: u64,
    pub gpus: Vec<GpuUse>,
    /// Why there are no GPU figures, when there are none.
    #[serde(default)]
    pub gpu_note: Option<String>,
    /// Seconds between samples.
    #[serde(default)]
    pub interval_seconds: Option<f64>,
    /// What else a reader of the figures should know, one line each:
    /// signals passed on to the program, processes it left running.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One GPU while the program ran (NVML): the device's figures, whichever
/// processes used it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuUse {
    pub index: u32,
    pub name: String,
    pub mean_utilization_pct: f64,
    pub max_utilization_pct: f64,
    /// The device's memory in use at its peak, every process's.
    pub peak_memory_bytes: u64,
    /// The device's memory in use before the program started.
    #[serde(default)]
    pub memory_before_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Envelope, Kind};

    #[test]
    fn a_job_run_reads_back_as_written_inside_its_envelope() {
        let run = JobRun {
            source: "bench-app".into(),
            dir: None,
            software: "unknown".into(),
            version: None,
            job: None,
            job_label: None,
            status: RunStatus::Finished,
            command: Some("true".into()),
            shape: JobShape::default(),
            layout: RunLayout::default(),
            started_at: Some(1_796_673_722.5),
            ended_at: Some(1_796_673_723.5),
            wall_seconds: Some(1.0),
            timed_by: Some("monitored".into()),
            missing: Vec::new(),
            monitor: None,
        };
        let env = Envelope::new(Kind::JobRun(Box::new(run)), "n", 1_796_673_722);
        let text = serde_json::to_string(&env).unwrap();
        assert_eq!(text.matches("\"started_at\"").count(), 1, "{text}");
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!(back, env);
    }
}
