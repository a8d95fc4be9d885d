//! The `cryocap cache` results: simulation, sweep (with its chart), subset
//! and copy benchmark.

use super::{Block, Document, LongCsv, Render, Section};
use crate::results::Envelope;
use crate::results::cache::{
    CacheSetup, CopyBenchReport, SimStats, SimulationReport, SubsetFit, SubsetReport, SweepReport,
};
use crate::units::{bytes_decimal, duration, group_digits, rate_decimal};

fn setup_pairs(s: &CacheSetup, sweep: bool) -> Vec<(String, String)> {
    let mut p = Vec::new();
    if !sweep {
        p.push(("SSD".into(), bytes_decimal(s.ssd_bytes)));
    }
    p.push(("reserve".into(), bytes_decimal(s.reserve_bytes)));
    if let Some(q) = s.quota_bytes {
        p.push(("quota".into(), bytes_decimal(q)));
    }
    if s.foreign_bytes > 0 {
        p.push((
            "other files".into(),
            format!(
                "{} (not the cache's; never evicted)",
                bytes_decimal(s.foreign_bytes)
            ),
        ));
    }
    if !sweep {
        p.push((
            "cache capacity".into(),
            format!(
                "{} = min(quota, SSD − reserve − other files)",
                bytes_decimal(s.capacity_bytes)
            ),
        ));
    }
    p.push((
        "file lifetime".into(),
        format!("{} days unused", s.lifetime_days),
    ));
    p.push((
        "copy rate".into(),
        format!(
            "{} per job ({})",
            rate_decimal(s.copy_rate),
            s.copy_rate_source
        ),
    ));
    p
}

fn hours(s: f64) -> String {
    format!("{:.1} h", s / 3600.0)
}

fn stats_pairs(s: &SimStats) -> Vec<(String, String)> {
    vec![
        (
            "bytes copied".into(),
            format!(
                "{} ({} bytes)",
                bytes_decimal(s.bytes_copied),
                group_digits(s.bytes_copied)
            ),
        ),
        (
            "hits".into(),
            format!(
                "{} of {} job-file reads ({} waited for another job's copy)",
                group_digits(s.hits),
                group_digits(s.events),
                group_digits(s.shared_copies)
            ),
        ),
        (
            "misses".into(),
            format!("{} (files copied)", group_digits(s.misses)),
        ),
        (
            "evictions".into(),
            format!(
                "{} files, {}",
                group_digits(s.evictions),
                bytes_decimal(s.bytes_evicted)
            ),
        ),
        (
            "expirations".into(),
            format!(
                "{} files unused past the lifetime",
                group_digits(s.expirations)
            ),
        ),
        (
            "waiting for copies".into(),
            format!(
                "{} jobs, {} in all",
                s.jobs_waited_copy,
                hours(s.copy_wait_seconds)
            ),
        ),
        (
            "waiting for space".into(),
            format!(
                "{} jobs, {} in all",
                s.jobs_waited_space,
                hours(s.space_wait_seconds)
            ),
        ),
        ("longest wait".into(), duration(s.max_job_wait_seconds)),
        ("peak space".into(), bytes_decimal(s.peak_bytes)),
        (
            "failed jobs".into(),
            format!("{} of {}", s.failed_jobs.len(), s.jobs),
        ),
    ]
}

fn failed_section(s: &SimStats) -> Option<Section> {
    if s.failed_jobs.is_empty() {
        return None;
    }
    let mut items: Vec<String> = s
        .failed_jobs
        .iter()
        .take(20)
        .map(|f| format!("{}: {}", f.job, f.reason))
        .collect();
    if s.failed_jobs.len() > 20 {
        items.push(format!(
            "... and {} more (see --format json)",
            s.failed_jobs.len() - 20
        ));
    }
    Some(Section::new("Failed jobs").with(Block::Bullets(items)))
}

fn simulation(r: &SimulationReport) -> Document {
    let mut sections = vec![
        Section::new("Cache").with(Block::Pairs(setup_pairs(&r.setup, false))),
        Section::new("What the cache did").with(Block::Pairs(stats_pairs(&r.stats))),
    ];
    sections.extend(failed_section(&r.stats));
    Document {
        title: format!(
            "cryocap cache simulate: {}, {} jobs, {} job-file reads",
            r.trace,
            group_digits(r.stats.jobs),
            group_digits(r.stats.events)
        ),
        sections,
    }
}

fn sweep(r: &SweepReport) -> Document {
    let rows = r
        .points
        .iter()
        .map(|p| {
            let rec = r
                .recommendation
                .as_ref()
                .is_some_and(|x| x.ssd_bytes == p.ssd_bytes);
            vec![
                format!(
                    "{}{}",
                    bytes_decimal(p.ssd_bytes),
                    if rec { " *" } else { "" }
                ),
                bytes_decimal(p.capacity_bytes),
                bytes_decimal(p.stats.bytes_copied),
                group_digits(p.stats.hits),
                group_digits(p.stats.evictions),
                hours(p.stats.copy_wait_seconds),
                hours(p.stats.space_wait_seconds),
                p.stats.failed_jobs.len().to_string(),
                bytes_decimal(p.stats.peak_bytes),
            ]
        })
        .collect();
    let table = Block::table(
        &[
            "SSD",
            "capacity",
            "copied",
            "hits",
            "evictions",
            "copy wait",
            "space wait",
            "failed",
            "peak",
        ],
        "lrrrrrrrr",
        rows,
    );
    let mut rec = Section::new("Recommendation");
    match &r.recommendation {
        Some(x) => {
            rec = rec.with(Block::Pairs(vec![
                ("SSD".into(), bytes_decimal(x.ssd_bytes)),
                ("why".into(), x.reason.clone()),
            ]));
        }
        None => rec = rec.with(Block::Text("no size could be recommended".into())),
    }
    if let Some(c) = &r.chart {
        rec = rec.with(Block::Text(format!("chart: {c}")));
    }
    let jobs = r.points.first().map_or(0, |p| p.stats.jobs);
    let events = r.points.first().map_or(0, |p| p.stats.events);
    Document {
        title: format!(
            "cryocap cache simulate --sweep: {}, {} jobs, {} job-file reads, {} sizes",
            r.trace,
            group_digits(jobs),
            group_digits(events),
            r.points.len()
        ),
        sections: vec![
            Section::new("Cache").with(Block::Pairs(setup_pairs(&r.setup, true))),
            Section::new("By SSD size (* recommended)").with(table),
            rec,
        ],
    }
}

fn add_stats(w: &mut LongCsv, item: &str, s: &SimStats) {
    w.add("stats", item, "bytes_copied", s.bytes_copied, "bytes");
    w.add("stats", item, "hits", s.hits, "reads");
    w.add("stats", item, "misses", s.misses, "reads");
    w.add("stats", item, "evictions", s.evictions, "files");
    w.add("stats", item, "expirations", s.expirations, "files");
    w.add("stats", item, "copy_wait_seconds", s.copy_wait_seconds, "s");
    w.add(
        "stats",
        item,
        "space_wait_seconds",
        s.space_wait_seconds,
        "s",
    );
    w.add("stats", item, "wait_seconds", s.wait_seconds, "s");
    w.add("stats", item, "failed_jobs", s.failed_jobs.len(), "jobs");
    w.add("stats", item, "peak_bytes", s.peak_bytes, "bytes");
}

fn simulation_csv(r: &SimulationReport, w: &mut LongCsv) {
    w.add(
        "setup",
        "",
        "capacity_bytes",
        r.setup.capacity_bytes,
        "bytes",
    );
    w.add("setup", "", "copy_rate", r.setup.copy_rate, "bytes/s");
    add_stats(w, &r.setup.ssd_bytes.to_string(), &r.stats);
}

fn sweep_csv(r: &SweepReport, w: &mut LongCsv) {
    w.add("setup", "", "copy_rate", r.setup.copy_rate, "bytes/s");
    for p in &r.points {
        w.add(
            "stats",
            &p.ssd_bytes.to_string(),
            "capacity_bytes",
            p.capacity_bytes,
            "bytes",
        );
        add_stats(w, &p.ssd_bytes.to_string(), &p.stats);
    }
    if let Some(x) = &r.recommendation {
        w.add("recommendation", "", "ssd_bytes", x.ssd_bytes, "bytes");
    }
}

/// The subset's particles, stack files, what the cache copies, what the
/// subset alone takes, and the saving.
fn subset_pairs(r: &SubsetReport) -> Vec<(String, String)> {
    let pct = if r.stack_bytes > 0 {
        100.0 * r.saving_bytes as f64 / r.stack_bytes as f64
    } else {
        0.0
    };
    vec![
        ("particles".into(), group_digits(r.particles)),
        (
            "stack files".into(),
            format!(
                "{} ({} measured on disk, {} estimated from metadata)",
                group_digits(r.stack_files),
                r.files_measured,
                r.files_estimated
            ),
        ),
        (
            "cache copies".into(),
            format!(
                "{} ({} bytes): whole stack files",
                bytes_decimal(r.stack_bytes),
                group_digits(r.stack_bytes)
            ),
        ),
        (
            "subset alone".into(),
            format!(
                "{} ({} bytes) once consolidated",
                bytes_decimal(r.subset_bytes),
                group_digits(r.subset_bytes)
            ),
        ),
        (
            "saving".into(),
            format!(
                "{} ({pct:.1}% of the cache fill)",
                bytes_decimal(r.saving_bytes)
            ),
        ),
    ]
}

/// Whether the whole stacks and the consolidated subset fit the SSD.
fn subset_ssd_section(f: &SubsetFit) -> Section {
    let yn = |b: bool| if b { "fits" } else { "DOES NOT FIT" };
    Section::new(format!(
        "On a {} SSD (cache holds {})",
        bytes_decimal(f.ssd_bytes),
        bytes_decimal(f.capacity_bytes)
    ))
    .with(Block::Pairs(vec![
        ("whole stacks".into(), yn(f.stacks_fit).into()),
        ("consolidated subset".into(), yn(f.subset_fits).into()),
    ]))
}

/// The first 20 stack files the subset reads, and how many more there are.
fn subset_stacks_section(r: &SubsetReport) -> Section {
    let mut rows: Vec<Vec<String>> = r
        .stacks
        .iter()
        .take(20)
        .map(|s| {
            vec![
                s.path.clone(),
                group_digits(s.particles),
                bytes_decimal(s.bytes),
                s.bytes_from.clone(),
            ]
        })
        .collect();
    if r.stacks.len() > 20 {
        rows.push(vec![
            format!("... {} more (see --format json)", r.stacks.len() - 20),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    Section::new("Stack files").with(Block::table(
        &["stack", "particles", "bytes", "size from"],
        "lrrl",
        rows,
    ))
}

/// `cache subset` as a document: the figures, the SSD check, the stack
/// files and the notes.
fn subset(r: &SubsetReport) -> Document {
    let mut sections = vec![Section::new("").with(Block::Pairs(subset_pairs(r)))];
    if let Some(f) = &r.ssd {
        sections.push(subset_ssd_section(f));
    }
    sections.push(subset_stacks_section(r));
    if !r.notes.is_empty() {
        sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    }
    Document {
        title: format!("cryocap cache subset: {} ({})", r.file, r.format),
        sections,
    }
}

fn subset_csv(r: &SubsetReport, w: &mut LongCsv) {
    w.add("subset", "", "particles", r.particles, "particles");
    w.add("subset", "", "stack_files", r.stack_files, "files");
    w.add("subset", "", "stack_bytes", r.stack_bytes, "bytes");
    w.add("subset", "", "subset_bytes", r.subset_bytes, "bytes");
    w.add("subset", "", "saving_bytes", r.saving_bytes, "bytes");
    for s in &r.stacks {
        w.add("stack", &s.path, "particles", s.particles, "particles");
        w.add("stack", &s.path, "bytes", s.bytes, "bytes");
    }
}

fn copy_bench(r: &CopyBenchReport) -> Document {
    let rows = r
        .rows
        .iter()
        .map(|x| {
            vec![
                format!(
                    "{}{}",
                    x.threads,
                    if x.threads == r.recommended_threads {
                        " *"
                    } else {
                        ""
                    }
                ),
                rate_decimal(x.median_bytes_per_s),
                rate_decimal(x.min_bytes_per_s),
                rate_decimal(x.max_bytes_per_s),
            ]
        })
        .collect();
    Document {
        title: format!(
            "cryocap cache copy-bench: {} files, {} per repeat, {} repeats per thread count",
            r.files,
            bytes_decimal(r.bytes_per_repeat),
            r.repeats
        ),
        sections: vec![
            Section::new(format!(
                "Copy rate (bytes copied per second of wall time, {}, fsync per file)",
                match r.source_evicted {
                    true => "source evicted from the page cache first",
                    false => "source NOT evicted from the page cache (posix_fadvise failed): rates may include cached reads",
                }
            ))
            .with(Block::table(&["threads", "median", "min", "max"], "lrrr", rows)),
            Section::new("Recommendation")
                .with(Block::Command(format!("export CRYOSPARC_CACHE_NUM_THREADS={}", r.recommended_threads)))
                .with(Block::Text(r.reason.clone())),
        ],
    }
}

fn copy_bench_csv(r: &CopyBenchReport, w: &mut LongCsv) {
    for x in &r.rows {
        let t = x.threads.to_string();
        let spread = [x.median_bytes_per_s, x.min_bytes_per_s, x.max_bytes_per_s];
        w.add_spread("copy", &t, spread, "bytes/s");
    }
    w.add(
        "recommendation",
        "",
        "threads",
        r.recommended_threads,
        "threads",
    );
}

impl Render for SimulationReport {
    fn document(&self, _: &Envelope) -> Document {
        simulation(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        simulation_csv(self, w)
    }
}

impl Render for SweepReport {
    fn document(&self, _: &Envelope) -> Document {
        sweep(self)
    }
    fn charts(&self, _: &Envelope) -> Vec<Block> {
        match super::sweep_svg(self) {
            Ok(svg) => vec![Block::Chart {
                caption: "bytes copied into the cache and hours jobs waited, against SSD size"
                    .into(),
                svg,
            }],
            Err(_) => Vec::new(),
        }
    }
    fn csv(&self, w: &mut LongCsv) {
        sweep_csv(self, w)
    }
}

impl Render for SubsetReport {
    fn document(&self, _: &Envelope) -> Document {
        subset(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        subset_csv(self, w)
    }
}

impl Render for CopyBenchReport {
    fn document(&self, _: &Envelope) -> Document {
        copy_bench(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        copy_bench_csv(self, w)
    }
}
