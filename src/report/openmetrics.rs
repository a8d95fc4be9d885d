//! Results as OpenMetrics text for Prometheus, written where node_exporter's
//! textfile collector reads `*.prom` files: every figure a gauge named
//! `cryocap_<id>` (the metric's id with anything but letters, digits and `_`
//! made `_`), labelled with the node, the unit and, for `qualify`, the
//! verdict of the check the metric answers. A check nothing measured is a
//! gauge of NaN with verdict `NOT_MEASURED`, so an alert can see it.
//!
//! The text keeps to what both the OpenMetrics 1.0 text format and the older
//! Prometheus text format read (the textfile collector parses the latter):
//! `# HELP` and `# TYPE` per family, one family per name, samples of a family
//! together, and `# EOF` last.
//! (<https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md>,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>.)

use std::fmt::Write as _;

use super::ReportError;
use crate::results::gpu::{GpuBenchReport, GpuDeviceResult};
use crate::results::job_run::{JobRun, Monitor};
use crate::results::metrics::Metric;
use crate::results::qualify::{QualifyReport, Verdict};
use crate::results::{Envelope, Kind};

/// One gauge family: its name, help and samples (labels, value).
struct Family {
    name: String,
    help: String,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

/// The families of one result, in order of first appearance.
#[derive(Default)]
struct Families(Vec<Family>);

impl Families {
    /// Adds a sample of gauge `cryocap_<id>`; a second sample with the same
    /// labels (two ids that differ only in punctuation) is left out.
    fn add(&mut self, id: &str, help: &str, labels: Vec<(&'static str, String)>, value: f64) {
        let name = metric_name(id);
        let i = match self.0.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.0.push(Family {
                    name,
                    help: help.to_string(),
                    samples: Vec::new(),
                });
                self.0.len() - 1
            }
        };
        let family = &mut self.0[i];
        if !family.samples.iter().any(|(l, _)| *l == labels) {
            family.samples.push((labels, value));
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.0 {
            let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
            let _ = writeln!(out, "# TYPE {} gauge", f.name);
            for (labels, v) in &f.samples {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(out, "{}{{{}}} {}", f.name, labels.join(","), number(*v));
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

/// `cryocap_` and `id` with every character outside `[A-Za-z0-9_]` as `_`.
pub(crate) fn metric_name(id: &str) -> String {
    let body: String = id
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || c == '_' {
            true => c,
            false => '_',
        })
        .collect();
    format!("cryocap_{body}")
}

/// A label value between double quotes: backslash, double quote and line
/// feed escaped, as both text formats define.
pub(crate) fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text: backslash and line feed escaped (the Prometheus text format
/// escapes only these two in HELP; a double quote is written as `'`, which
/// both formats read the same).
fn escape_help(v: &str) -> String {
    escape_label(v).replace("\\\"", "'")
}

/// A sample value: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that reads
/// back to the same f64.
fn number(v: f64) -> String {
    match v {
        v if v.is_nan() => "NaN".into(),
        v if v == f64::INFINITY => "+Inf".into(),
        v if v == f64::NEG_INFINITY => "-Inf".into(),
        v => format!("{v}"),
    }
}

/// The result as OpenMetrics text; `None` for kinds that measure nothing a
/// monitoring system would keep (plans, simulations, renders).
pub(crate) fn openmetrics(r: &Envelope) -> Result<String, ReportError> {
    let mut f = Families::default();
    match &r.kind {
        Kind::Qualify(q) => qualify(q, &r.node, &mut f),
        Kind::BenchIo(b) => plain(&b.metrics, &r.node, "bench io", &mut f),
        Kind::CacheCopyBench(c) => plain(&c.metrics, &r.node, "cache copy-bench", &mut f),
        Kind::BenchMovies(b) => plain(&b.metrics, &r.node, "bench movies", &mut f),
        Kind::BenchGpu(g) => gpu(g, &r.node, &mut f),
        Kind::JobRun(j) => job_run(j, &r.node, &mut f),
        other => return Err(ReportError::NoSuchFormat(other.name(), "OpenMetrics")),
    }
    if let Some(t) = r.started_at {
        f.add(
            "run_started_seconds",
            "When the cryocap run that measured these started (Unix time)",
            vec![
                ("node", r.node.clone()),
                ("kind", r.kind.name().to_string()),
            ],
            t as f64,
        );
    }
    Ok(f.text())
}

fn labels(node: &str, unit: &str) -> Vec<(&'static str, String)> {
    vec![("node", node.to_string()), ("unit", unit.to_string())]
}

fn plain(metrics: &[Metric], node: &str, command: &str, f: &mut Families) {
    for m in metrics {
        let help = format!(
            "{} (median of the repeats), measured by cryocap {command}",
            m.label
        );
        f.add(&m.id, &help, labels(node, &m.unit), m.value);
    }
}

/// Each metric with the verdict of the check it answers, then each check
/// that no metric answered.
fn qualify(q: &QualifyReport, node: &str, f: &mut Families) {
    // files written before checks named their metric: the ids that match
    let answers = |m: &Metric| {
        q.checks.iter().find(|c| c.metric == m.id).or_else(|| {
            q.checks
                .iter()
                .find(|c| c.metric.is_empty() && c.id == m.id)
        })
    };
    for m in &q.metrics {
        let mut l = labels(node, &m.unit);
        let help = match answers(m) {
            Some(c) => {
                l.push(("verdict", verdict(c.verdict).to_string()));
                format!(
                    "{}, held against the {} profile by cryocap qualify",
                    m.label, q.profile.id
                )
            }
            None => format!("{}, measured by cryocap qualify", m.label),
        };
        f.add(&m.id, &help, l, m.value);
    }
    for c in &q.checks {
        let id = if c.metric.is_empty() {
            &c.id
        } else {
            &c.metric
        };
        if q.metrics.iter().any(|m| &m.id == id) {
            continue;
        }
        let mut l = labels(node, &c.unit);
        l.push(("verdict", verdict(c.verdict).to_string()));
        let help = format!(
            "{}, held against the {} profile by cryocap qualify",
            c.label, q.profile.id
        );
        f.add(id, &help, l, c.value.unwrap_or(f64::NAN));
    }
}

/// A job run's labels: the node, the unit, the software and the job.
fn job_labels(j: &JobRun, node: &str, unit: &str) -> Vec<(&'static str, String)> {
    let mut l = labels(node, unit);
    l.push(("software", j.software.clone()));
    l.push(("job", j.job.clone().unwrap_or_default()));
    l
}

/// A job run's wall time and, where `bench app` watched it, what the
/// monitor took; labelled with the software and the job.
fn job_run(j: &JobRun, node: &str, f: &mut Families) {
    if let Some(w) = j.wall_seconds {
        let help = "Wall time of the job";
        f.add("job.wall_seconds", help, job_labels(j, node, "s"), w);
    }
    if let Some(m) = &j.monitor {
        job_monitor(j, m, node, f);
    }
}

/// What `bench app`'s monitor took of a job: CPU time, memory, bytes read
/// and written, the exit status and each GPU's use.
fn job_monitor(j: &JobRun, m: &Monitor, node: &str, f: &mut Families) {
    let figures = [
        (
            "job.user_cpu_seconds",
            "User CPU time of the job's process tree",
            "s",
            m.user_cpu_seconds,
        ),
        (
            "job.system_cpu_seconds",
            "System CPU time of the job's process tree",
            "s",
            m.system_cpu_seconds,
        ),
        (
            "job.peak_rss_bytes",
            "Largest resident set of the job's process tree, summed over its processes",
            "bytes",
            m.peak_rss_bytes as f64,
        ),
        (
            "job.read_bytes",
            "Bytes the job's process tree read from storage",
            "bytes",
            m.read_bytes as f64,
        ),
        (
            "job.write_bytes",
            "Bytes the job's process tree wrote to storage",
            "bytes",
            m.write_bytes as f64,
        ),
    ];
    for (id, help, unit, v) in figures {
        let help = format!("{help}, measured by cryocap bench app");
        f.add(id, &help, job_labels(j, node, unit), v);
    }
    if let Some(c) = m.exit_code {
        let help = "Exit status of the job's program";
        f.add("job.exit_code", help, job_labels(j, node, ""), f64::from(c));
    }
    for g in &m.gpus {
        let gl = |unit: &str| {
            let mut l = job_labels(j, node, unit);
            l.push(("gpu", g.index.to_string()));
            l.push(("model", g.name.clone()));
            l
        };
        f.add(
            "job.gpu.mean_utilization",
            "Mean utilisation of the GPU while the job ran (NVML, every process's)",
            gl("percent"),
            g.mean_utilization_pct,
        );
        f.add(
            "job.gpu.peak_memory_bytes",
            "GPU memory in use at its peak while the job ran (NVML, every process's)",
            gl("bytes"),
            g.peak_memory_bytes as f64,
        );
    }
}

/// A verdict as the JSON results spell it.
fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::NotMeasured => "NOT_MEASURED",
    }
}

/// bench gpu's figures per device: copies, FFTs, insertion, the whole path,
/// the largest box, and the kernel checks (verdict PASS or FAIL).
fn gpu(g: &GpuBenchReport, node: &str, f: &mut Families) {
    f.add(
        "gpu.devices",
        "GPUs cryocap bench gpu measured (0 where no CUDA driver or GPU was found)",
        vec![("node", node.to_string())],
        g.devices.len() as f64,
    );
    for d in &g.devices {
        gpu_copies(d, node, f);
        gpu_kernels(d, node, f);
    }
}

/// A device's labels: the node, the unit, the GPU's ordinal and model.
fn device_labels(d: &GpuDeviceResult, node: &str, unit: &str) -> Vec<(&'static str, String)> {
    let mut l = labels(node, unit);
    l.push(("gpu", d.device.ordinal.to_string()));
    l.push(("model", d.device.name.clone()));
    l
}

/// A device's copy bandwidths: on the device by cryocap's kernel and by
/// the driver, and each way between it and pinned host memory.
fn gpu_copies(d: &GpuDeviceResult, node: &str, f: &mut Families) {
    let copies = [
        (
            "gpu.copy_kernel",
            "Device-to-device copy by cryocap's kernel",
            &d.copy,
        ),
        (
            "gpu.copy_memcpy",
            "Device-to-device copy by the driver",
            &d.copy_memcpy,
        ),
        (
            "gpu.host_to_device",
            "Pinned host memory to the GPU",
            &d.host_to_device,
        ),
        (
            "gpu.device_to_host",
            "The GPU to pinned host memory",
            &d.device_to_host,
        ),
    ];
    for (id, what, bw) in copies {
        if let Some(b) = bw {
            let help = format!(
                "{what} (median, {}), measured by cryocap bench gpu",
                b.counts
            );
            let l = device_labels(d, node, "bytes_per_second");
            f.add(id, &help, l, b.median_bytes_per_second);
        }
    }
}

/// A device's kernel checks, insertion, FFT and end-to-end rates, and the
/// largest box it could allocate.
fn gpu_kernels(d: &GpuDeviceResult, node: &str, f: &mut Families) {
    let base = |unit: &str| device_labels(d, node, unit);
    for c in &d.checks {
        let mut l = base("ratio");
        l.push(("kernel", c.kernel.clone()));
        l.push(("box", c.box_size.to_string()));
        l.push(("pad", c.pad.to_string()));
        l.push((
            "verdict",
            if c.passed { "PASS" } else { "FAIL" }.to_string(),
        ));
        let help = "Relative error of a GPU kernel against the CPU reference";
        f.add("gpu.kernel_relative_error", help, l, c.relative_error);
    }
    for i in d.insertion.iter().filter(|i| i.error.is_none()) {
        let mut l = base("particles_per_second");
        l.push(("kernel", i.kernel.clone()));
        l.push(("box", i.box_size.to_string()));
        l.push(("pad", i.pad.to_string()));
        let help = "Fourier insertion of images already on the GPU (median)";
        f.add("gpu.insertion", help, l, i.median_particles_per_second);
    }
    for x in d.fft.iter().filter(|x| x.error.is_none()) {
        let mut l = base("images_per_second");
        l.push(("box", x.box_size.to_string()));
        let help = "Batched 2D real-to-complex FFTs by cuFFT (median)";
        f.add("gpu.fft", help, l, x.median_images_per_second);
    }
    for e in d.end_to_end.iter().filter(|e| e.error.is_none()) {
        let mut l = base("particles_per_second");
        l.push(("box", e.box_size.to_string()));
        l.push(("pad", e.pad.to_string()));
        l.push(("input", e.input.clone()));
        let help = "Particles from pinned host memory through copy, FFT and insertion (median)";
        f.add("gpu.end_to_end", help, l, e.median_particles_per_second);
    }
    if let Some(m) = &d.max_box
        && let Some(b) = m.by_allocation
    {
        let mut l = base("pixels");
        l.push(("pad", m.pad.to_string()));
        let help = "Largest even box whose insertion working set could be allocated";
        f.add("gpu.max_box", help, l, f64::from(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_label("µs ok, {x}=1"), "µs ok, {x}=1");
        assert_eq!(escape_help("say \"hi\"\\"), "say 'hi'\\\\");
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            metric_name("io.project.random.p99_latency"),
            "cryocap_io_project_random_p99_latency"
        );
        assert_eq!(metric_name("a-b c/é"), "cryocap_a_b_c__");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(1.5e10), "15000000000");
        assert_eq!(number(0.1).parse::<f64>().unwrap(), 0.1);
    }

    #[test]
    fn one_family_per_name_and_a_hostile_node_stays_in_its_label() {
        let mut f = Families::default();
        let node = "n\"1\\\n} 5";
        f.add("x.y", "help", labels(node, "bytes"), 1.0);
        f.add("x_y", "other help", labels(node, "bytes"), 2.0);
        f.add("x.y", "help", labels("n2", "bytes"), 3.0);
        let text = f.text();
        assert_eq!(
            text.matches("# TYPE cryocap_x_y gauge").count(),
            1,
            "{text}"
        );
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(
            text.contains(r#"cryocap_x_y{node="n\"1\\\n} 5",unit="bytes"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
