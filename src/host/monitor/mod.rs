//! `bench app`'s monitor: runs a program (no shell), samples its whole
//! process tree about once an interval while it runs, and returns a
//! `job-run` result when it has ended.
//!
//! What is taken, and from where:
//! - peak resident set: each sample sums `VmRSS` over every descendant of
//!   cryocap (found through the parent pids in `/proc/*/stat`); the
//!   largest single reaped process (`ru_maxrss`) is a floor, for peaks
//!   shorter than an interval. Pages shared by several processes count
//!   once per process.
//! - CPU seconds: getrusage(RUSAGE_CHILDREN) before and after; a process's
//!   counts include every child it reaped, so the whole tree is in.
//! - bytes read and written: Linux adds a reaped child's I/O counters (and
//!   those of the children it reaped in turn) to its parent's, so the
//!   change in cryocap's own `/proc/self/io` from before the start to
//!   after reaping is the tree's (the tests check it with dd). cryocap's
//!   own reads of /proc in between are counted as it makes them and taken
//!   out of `rchar`; it writes nothing meanwhile.
//! - GPU: NVML, where the driver's library loads ([`nvml`]).
//!
//! Processes the program leaves running are counted while they run
//! (cryocap is their subreaper) and named in the notes; what they do after
//! the program ends is not measured.

mod child;
mod nvml;
mod procfs;

use std::ffi::OsString;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime};

use crate::interrupt;
use crate::results::job_run::{GpuUse, JobRun, Monitor, RunStatus};
use nvml::{GpuTotals, Nvml};
use procfs::ProcReader;

/// How long processes the program leaves behind may take to end after it.
const ORPHAN_GRACE: Duration = Duration::from_millis(250);

/// What to run and how to label it.
#[derive(Debug, Clone)]
pub struct AppRun {
    /// The program and its arguments, run as given.
    pub argv: Vec<OsString>,
    /// Time between samples.
    pub interval: Duration,
    /// Labels stored in the result: the software and the job-time model's
    /// name of the job.
    pub software: Option<String>,
    pub job: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("no program to run: give it after --, e.g. `cryocap bench app -- relion_refine ...`")]
    NoCommand,
    #[error(
        "cannot run '{program}': no such program (give its path, or add its directory to PATH)"
    )]
    NotFound { program: String },
    #[error("cannot run '{program}': {reason}")]
    Spawn { program: String, reason: String },
    #[error("lost the program while waiting for it: {0}")]
    Wait(String),
}

fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The command line as a shell would take it back: words with anything
/// but `[A-Za-z0-9_@%+=:,./-]` in single quotes.
pub(super) fn shell_line(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| {
            let w = a.to_string_lossy();
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
            match plain {
                true => w.into_owned(),
                false => format!("'{}'", w.replace('\'', r"'\''")),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One sample: the tree's summed resident set, and each GPU.
fn sample(reader: &mut ProcReader, me: i32, gpu: Option<&Nvml>, totals: &mut [GpuTotals]) -> u64 {
    let tree = procfs::descendants(me, &reader.parents());
    if let Some(g) = gpu {
        for (t, s) in totals.iter_mut().zip(g.sample()) {
            if let Some(s) = s {
                t.add(s);
            }
        }
    }
    reader.rss_sum(&tree)
}

/// Runs the program to its end and measures it. `notice` is told, once,
/// why there are no GPU figures. Signals to cryocap are passed on to the
/// program from its start (see [`interrupt::forward`]).
pub fn run(a: &AppRun, notice: &dyn Fn(&str)) -> Result<JobRun, MonitorError> {
    if a.argv.is_empty() {
        return Err(MonitorError::NoCommand);
    }
    // a program that is not there is the one line of the error
    child::check_program(&a.argv[0])?;
    // NVML starts before the program, so that the memory in use before is
    // known, and before cryocap's own counters are read, so that what it
    // reads and writes (the notice) is not counted as the program's
    let (gpu, gpu_note) = match Nvml::start() {
        Ok(g) => (Some(g), None),
        Err(why) => {
            notice(&why);
            (None, Some(why))
        }
    };
    let devices = gpu.as_ref().map(Nvml::devices).unwrap_or_default();
    let mut totals = vec![GpuTotals::default(); devices.len()];
    let before: Vec<Option<u64>> = match &gpu {
        Some(g) => g
            .sample()
            .iter()
            .map(|s| s.map(|s| s.memory_used))
            .collect(),
        None => Vec::new(),
    };
    child::become_subreaper();
    interrupt::forward();
    let me = std::process::id() as i32;
    let mut reader = ProcReader::default();
    let usage0 = child::children_usage();
    let own0 = reader.bytes_read;
    let io0 = reader.own_io();
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let mut program = child::spawn(&a.argv)?;
    interrupt::forward_to(program.id());
    let done = child::ended(program.id());
    let mut peak_rss = 0u64;
    let mut samples = 0u64;
    loop {
        peak_rss = peak_rss.max(sample(&mut reader, me, gpu.as_ref(), &mut totals));
        samples += 1;
        match done.recv_timeout(a.interval) {
            Err(RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let ended_at = SystemTime::now();
    interrupt::program_ended();
    let status = child::reap(&mut program)?;
    // what the program left behind gets a moment to end (a signal sent to
    // the whole group reaches them too), and is reaped to be counted
    let grace = Instant::now() + ORPHAN_GRACE;
    let left = loop {
        child::reap_orphans();
        let left = procfs::descendants(me, &reader.parents()).len();
        if left == 0 || Instant::now() >= grace {
            break left;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let usage = child::children_usage();
    let own = reader.bytes_read - own0;
    let io1 = reader.own_io();
    let mut notes = interrupt::forwarded();
    if left > 0 {
        notes.push(format!(
            "{left} process(es) the program started were still running when it ended: their work after that is not counted"
        ));
    }
    let io = match (io0, io1) {
        (Some(a), Some(b)) => {
            let mut d = b.since(a);
            d.rchar = d.rchar.saturating_sub(own);
            d
        }
        _ => {
            notes.push("/proc/self/io could not be read: bytes read and written not taken".into());
            procfs::IoCounters::default()
        }
    };
    use std::os::unix::process::ExitStatusExt;
    let (exit_code, signal) = (status.code(), status.signal());
    let run_status = match (exit_code, signal) {
        (Some(0), _) => RunStatus::Finished,
        (Some(_), _) => RunStatus::Failed,
        (None, Some(_)) => RunStatus::Killed,
        (None, None) => RunStatus::Unknown,
    };
    let gpus = devices
        .into_iter()
        .zip(totals)
        .enumerate()
        .map(|(i, ((index, name), t))| GpuUse {
            index,
            name,
            mean_utilization_pct: t.mean_utilization_pct(),
            max_utilization_pct: t.max_utilization_pct,
            peak_memory_bytes: t.peak_memory_bytes,
            memory_before_bytes: before.get(i).copied().flatten(),
        })
        .collect();
    let monitor = Monitor {
        exit_code,
        signal,
        wall_seconds: wall,
        user_cpu_seconds: (usage.user_seconds - usage0.user_seconds).max(0.0),
        system_cpu_seconds: (usage.system_seconds - usage0.system_seconds).max(0.0),
        peak_rss_bytes: peak_rss.max(usage.max_rss_bytes),
        read_bytes: io.read_bytes,
        write_bytes: io.write_bytes,
        rchar: io.rchar,
        wchar: io.wchar,
        samples,
        gpus,
        gpu_note,
        interval_seconds: Some(a.interval.as_secs_f64()),
        notes,
    };
    Ok(JobRun {
        source: "bench-app".into(),
        dir: None,
        software: a.software.clone().unwrap_or_else(|| "unknown".into()),
        version: None,
        job: a.job.clone(),
        job_label: None,
        status: run_status,
        command: Some(crate::text::printable(&shell_line(&a.argv))),
        shape: Default::default(),
        layout: Default::default(),
        started_at: Some(epoch_seconds(started_at)),
        ended_at: Some(epoch_seconds(ended_at)),
        wall_seconds: Some(wall),
        timed_by: Some("monitored".into()),
        missing: Vec::new(),
        monitor: Some(monitor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_quoted_where_a_shell_would_split_it() {
        let argv: Vec<OsString> = [
            "relion_refine",
            "--o",
            "Refine3D/job01/run",
            "a b",
            "it's",
            "",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        assert_eq!(
            shell_line(&argv),
            r#"relion_refine --o Refine3D/job01/run 'a b' 'it'\''s' ''"#
        );
    }
}
