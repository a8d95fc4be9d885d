//! A `job-run` result (`jobs import`, `bench app`) as a document and CSV.

use super::document::{Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::job_run::{JobRun, Monitor};
use crate::units::{bytes_decimal, duration, group_digits};

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn run_pairs(r: &JobRun) -> Vec<(String, String)> {
    let s = &r.shape;
    let l = &r.layout;
    let label = r
        .job_label
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    let mut p = vec![
        (
            "job".to_string(),
            format!("{} {}{label}", r.software, opt(&r.job)),
        ),
        ("status".to_string(), r.status.label().to_string()),
    ];
    if let Some(d) = &r.dir {
        p.push(("directory".to_string(), d.clone()));
    }
    p.push((
        "wall time".to_string(),
        match r.wall_seconds {
            Some(w) => format!("{} ({})", duration(w), opt(&r.timed_by)),
            None => "unknown".to_string(),
        },
    ));
    // a program bench app ran alone says nothing of its shape or layout
    let watched = r.source == "bench-app";
    if watched && *s == Default::default() && *l == Default::default() {
        if let Some(c) = &r.command {
            p.push(("command".to_string(), c.clone()));
        }
        return p;
    }
    p.push((
        "particles".to_string(),
        s.particles.map(group_digits).unwrap_or("unknown".into()),
    ));
    p.push((
        "box / image size".to_string(),
        format!("{} / {} px", opt(&s.box_size), opt(&s.image_size)),
    ));
    if s.pixel_a.is_some() || s.resolution_a.is_some() {
        p.push((
            "pixel, resolution".to_string(),
            format!("{} Å, {} Å", opt(&s.pixel_a), opt(&s.resolution_a)),
        ));
    }
    p.push((
        "classes, iterations".to_string(),
        format!("{}, {}", opt(&s.classes), opt(&s.iterations)),
    ));
    p.push((
        "layout".to_string(),
        format!(
            "{} rank(s) × {} thread(s), {} GPU(s){}",
            opt(&l.ranks),
            opt(&l.threads),
            opt(&l.gpus),
            l.gpu_model
                .as_ref()
                .map(|m| format!(" {m}"))
                .unwrap_or_default()
        ),
    ));
    if let Some(h) = &l.host {
        p.push(("node".to_string(), h.clone()));
    }
    if let Some(c) = &r.command {
        p.push(("command".to_string(), c.clone()));
    }
    p
}

fn monitor_section(m: &Monitor) -> Section {
    let ended = match (m.exit_code, m.signal) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "unknown".to_string(),
    };
    let mut sec = Section::new("Monitor").with(Block::Pairs(vec![
        ("ended".to_string(), ended),
        ("wall".to_string(), duration(m.wall_seconds)),
        (
            "CPU".to_string(),
            format!(
                "{} user + {} system",
                duration(m.user_cpu_seconds),
                duration(m.system_cpu_seconds)
            ),
        ),
        ("peak RSS".to_string(), bytes_decimal(m.peak_rss_bytes)),
        (
            "storage".to_string(),
            format!(
                "{} read, {} written ({} and {} through read/write calls)",
                bytes_decimal(m.read_bytes),
                bytes_decimal(m.write_bytes),
                bytes_decimal(m.rchar),
                bytes_decimal(m.wchar)
            ),
        ),
        (
            "samples".to_string(),
            match m.interval_seconds {
                Some(i) => format!("{} (every {})", m.samples, duration(i)),
                None => m.samples.to_string(),
            },
        ),
    ]));
    if m.gpus.is_empty() {
        sec.blocks.push(Block::Text(
            m.gpu_note.clone().unwrap_or("no GPU figures".to_string()),
        ));
    } else {
        let rows = m
            .gpus
            .iter()
            .map(|g| {
                vec![
                    g.index.to_string(),
                    g.name.clone(),
                    format!("{:.0} %", g.mean_utilization_pct),
                    format!("{:.0} %", g.max_utilization_pct),
                    bytes_decimal(g.peak_memory_bytes),
                    g.memory_before_bytes
                        .map(bytes_decimal)
                        .unwrap_or_else(|| "unknown".into()),
                ]
            })
            .collect();
        sec.blocks.push(Block::table(
            &[
                "GPU",
                "name",
                "mean use",
                "max use",
                "peak memory",
                "memory before",
            ],
            "llrrrr",
            rows,
        ));
    }
    if !m.notes.is_empty() {
        sec.blocks.push(Block::Bullets(m.notes.clone()));
    }
    sec
}

impl Render for JobRun {
    fn document(&self, h: &Envelope) -> Document {
        let mut doc = Document {
            // an imported run ran elsewhere: the envelope's node only read it
            title: match self.source.as_str() {
                "bench-app" => format!("cryocap job run on {}", h.node),
                _ => format!("cryocap job run, read on {}", h.node),
            },
            sections: vec![Section::new("Run").with(Block::Pairs(run_pairs(self)))],
        };
        if !self.missing.is_empty() {
            doc.sections
                .push(Section::new("Missing").with(Block::Bullets(self.missing.clone())));
        }
        if let Some(m) = &self.monitor {
            doc.sections.push(monitor_section(m));
        }
        doc
    }

    fn csv(&self, w: &mut LongCsv) {
        let item = self.job.clone().unwrap_or_else(|| self.software.clone());
        if let Some(s) = self.wall_seconds {
            w.add("run", &item, "wall_seconds", s.to_string(), "s");
        }
        let s = &self.shape;
        let counts = [
            ("particles", s.particles, "particles"),
            ("box", s.box_size.map(u64::from), "pixels"),
            ("image_size", s.image_size.map(u64::from), "pixels"),
            ("classes", s.classes.map(u64::from), "classes"),
            ("iterations", s.iterations.map(u64::from), "iterations"),
        ];
        for (metric, v, unit) in counts {
            if let Some(v) = v {
                w.add("run", &item, metric, v.to_string(), unit);
            }
        }
        if let Some(m) = &self.monitor {
            let mut add =
                |metric: &str, v: String, unit: &str| w.add("monitor", &item, metric, v, unit);
            add("wall_seconds", m.wall_seconds.to_string(), "s");
            add("user_cpu_seconds", m.user_cpu_seconds.to_string(), "s");
            add("system_cpu_seconds", m.system_cpu_seconds.to_string(), "s");
            add("peak_rss_bytes", m.peak_rss_bytes.to_string(), "bytes");
            add("read_bytes", m.read_bytes.to_string(), "bytes");
            add("write_bytes", m.write_bytes.to_string(), "bytes");
            for g in &m.gpus {
                w.add(
                    "gpu",
                    &g.index.to_string(),
                    "peak_memory_bytes",
                    g.peak_memory_bytes.to_string(),
                    "bytes",
                );
                w.add(
                    "gpu",
                    &g.index.to_string(),
                    "mean_utilization",
                    g.mean_utilization_pct.to_string(),
                    "%",
                );
            }
        }
    }
}
