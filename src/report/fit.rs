//! A fit as a document: does the job fit, what stops it, what to ask for.

use super::document::{Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::fit::*;
use crate::units::{bytes_binary, bytes_decimal, duration, group_digits};

fn yes(b: bool) -> &'static str {
    if b { "fits" } else { "DOES NOT FIT" }
}

fn title(r: &FitReport) -> String {
    let i = &r.input;
    let mut t = format!(
        "cryocap fit: {} at box {}, {} particles ({}) on {}",
        i.job,
        i.box_size,
        group_digits(i.particles),
        i.dtype.label(),
        r.target.label
    );
    if let Some(m) = &r.target.mig {
        t.push_str(&format!(" as MIG {m}"));
    }
    t.push_str(&format!(
        ": {}",
        if r.fits { "fits" } else { "does not fit" }
    ));
    t
}

fn vram_section(r: &FitReport) -> Section {
    let v = &r.vram;
    let i = &r.input;
    let per = match i.software.as_str() {
        "relion" => "per rank",
        _ => "per job",
    };
    let mut pairs = vec![
        (
            per.to_string(),
            format!("{} ({})", bytes_binary(v.per_rank_bytes), v.basis),
        ),
        (
            "per GPU".to_string(),
            format!(
                "{} = {} of {} ({})",
                bytes_binary(v.per_gpu_bytes),
                v.formula,
                bytes_binary(r.target.budget_bytes),
                yes(v.fits)
            ),
        ),
    ];
    let mut settings = format!(
        "{} class(es), {} rank(s) per GPU",
        i.classes, i.ranks_per_gpu
    );
    if let Some(p) = i.pad {
        settings = format!("--pad {p}, {settings}");
    }
    pairs.push(("settings".to_string(), settings));
    pairs.push((
        "largest box".to_string(),
        match (v.max_box, v.max_box_limit.as_deref()) {
            (Some(b), Some("memory")) => format!("{b} (memory)"),
            (Some(b), Some(l)) => format!("{b} ({l}, not memory)"),
            _ => "none: not even box 2 fits".to_string(),
        },
    ));
    if let Some(m) = &v.smallest_mig {
        pairs.push(("smallest MIG slice".to_string(), m.clone()));
    } else if !v.mig.is_empty() {
        pairs.push(("smallest MIG slice".to_string(), "none holds it".into()));
    }
    pairs.push(("source".to_string(), v.source.clone()));
    let mut sec = Section::new("GPU memory").with(Block::Pairs(pairs));
    if !v.mig.is_empty() {
        let rows = v
            .mig
            .iter()
            .map(|m| {
                vec![
                    m.profile.clone(),
                    bytes_binary(m.bytes),
                    m.max_instances.to_string(),
                    m.max_box.map_or("-".into(), |b| b.to_string()),
                    if m.fits { "yes" } else { "no" }.to_string(),
                ]
            })
            .collect();
        sec = sec.with(Block::table(
            &[
                "MIG profile",
                "memory",
                "instances",
                "largest box",
                "holds it",
            ],
            "lrrrl",
            rows,
        ));
    }
    sec
}

fn host_section(r: &FitReport) -> Section {
    let m = &r.ram;
    let c = &r.cpu;
    let mut pairs = vec![
        (
            "RAM per rank".to_string(),
            match m.preread_bytes_per_rank {
                0 => bytes_binary(m.working_bytes_per_rank),
                p => format!(
                    "{} + {} pre-read images",
                    bytes_binary(m.working_bytes_per_rank),
                    bytes_binary(p)
                ),
            },
        ),
        (
            "RAM per node".to_string(),
            format!(
                "{} for {}{}",
                bytes_binary(m.per_node_bytes),
                match r.input.software.as_str() {
                    "relion" => format!("{} rank(s) and the leader", m.ranks),
                    _ => "the job".to_string(),
                },
                match (m.fits, r.target.ram_bytes) {
                    (Some(f), Some(have)) => format!(", of {} ({})", bytes_binary(have), yes(f)),
                    _ => String::new(),
                }
            ),
        ),
        ("RAM basis".to_string(), m.basis.clone()),
        (
            "threads".to_string(),
            format!(
                "{} rank(s) × {} = {}{}",
                c.ranks,
                c.threads_per_rank,
                c.threads,
                c.cores.map_or(String::new(), |k| format!(" of {k} cores"))
            ),
        ),
    ];
    if let (Some(k), true) = (c.cores, r.input.gpus > 0) {
        let per = k / r.input.gpus;
        if per < c.cores_per_gpu_minimum {
            pairs.push((
                "cores per GPU".to_string(),
                format!(
                    "{per}: below the minimum of {} (docs/sources.md §4)",
                    c.cores_per_gpu_minimum
                ),
            ));
        }
    }
    Section::new("Host").with(Block::Pairs(pairs))
}

fn scratch_section(r: &FitReport) -> Option<Section> {
    let s = r.scratch.as_ref()?;
    let rule = match s.rule.as_str() {
        "relion-scratch" => {
            "RELION copies particles in STAR order, as float32, until only --keep_free_scratch is left, and reads the rest from the project"
        }
        _ => {
            "CryoSPARC copies whole stack files, as stored; a set larger than the cache waits for space"
        }
    };
    let pairs = vec![
        ("rule".to_string(), rule.to_string()),
        (
            "space".to_string(),
            format!(
                "{} free, {} kept free",
                bytes_decimal(s.free_bytes),
                bytes_decimal(s.keep_free_bytes)
            ),
        ),
        ("whole set there".to_string(), bytes_decimal(s.set_bytes)),
        (
            "on scratch".to_string(),
            format!(
                "{} particles, {} ({})",
                group_digits(s.particles_on_scratch),
                bytes_decimal(s.bytes_on_scratch),
                match (s.fits_whole, s.particles_on_scratch) {
                    (true, _) => "all of it",
                    (false, 0) => "none of it",
                    (false, _) => "part of it",
                }
            ),
        ),
        (
            "from the project each pass".to_string(),
            format!(
                "{} particles, {}",
                group_digits(s.particles_from_project),
                bytes_decimal(s.bytes_per_pass_from_project)
            ),
        ),
        (
            "copying".to_string(),
            match s.bytes_on_scratch {
                0 => "nothing is copied".to_string(),
                _ => format!("{} onto {}", duration(s.seconds_fill), s.scratch_tier),
            },
        ),
    ];
    Some(Section::new("Scratch and cache").with(Block::Pairs(pairs)))
}

fn time_section(r: &FitReport) -> Section {
    let t = &r.time;
    Section::new("Time").with(Block::Pairs(vec![
        (
            "reading per pass".to_string(),
            format!(
                "{} (project tier {})",
                duration(t.seconds_per_pass),
                t.project_tier
            ),
        ),
        ("first read or copy".to_string(), duration(t.seconds_first)),
        (
            "compute".to_string(),
            match (t.seconds_compute, t.seconds_compute_high) {
                (Some(c), Some(h)) => format!(
                    "{} (up to {} at the top of the 90 % interval; {})",
                    duration(c),
                    duration(h),
                    t.compute_basis
                ),
                _ => format!("not timed: {}", t.compute_basis),
            },
        ),
        (
            "--time".to_string(),
            match (&t.time_limit, t.seconds_compute_high) {
                (Some(l), Some(h)) => format!(
                    "{l} = ({} + {} passes × {} + {}) × {} margin, at least an hour",
                    duration(t.seconds_first),
                    r.input.passes,
                    duration(t.seconds_per_pass),
                    duration(h),
                    t.margin
                ),
                (Some(l), None) => format!("{l} (as given)"),
                (None, _) => "none written: give --time".to_string(),
            },
        ),
    ]))
}

fn lines_section(r: &FitReport) -> Section {
    let mut sec = Section::new("Lines to use").with(Block::table(
        &["Slurm job script header"],
        "l",
        r.lines.sbatch.iter().map(|l| vec![l.clone()]).collect(),
    ));
    if let Some(f) = &r.lines.relion {
        sec = sec.with(Block::Text("RELION flags:".into()));
        sec = sec.with(Block::Command(f.clone()));
    }
    if !r.lines.lane.is_empty() {
        sec = sec.with(Block::Text("CryoSPARC cluster-lane variables:".into()));
        sec = sec.with(Block::Pairs(
            r.lines
                .lane
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        ));
    }
    sec
}

impl Render for FitReport {
    fn document(&self, _header: &Envelope) -> Document {
        let mut sections = vec![vram_section(self), host_section(self)];
        sections.extend(scratch_section(self));
        sections.push(time_section(self));
        sections.push(lines_section(self));
        if !self.remedies.is_empty() {
            sections.push(Section::new("What would make it fit").with(Block::Bullets(
                self.remedies.iter().map(|m| m.text.clone()).collect(),
            )));
        }
        sections.push(Section::new("Notes").with(Block::Bullets(self.notes.clone())));
        Document {
            title: title(self),
            sections,
        }
    }

    fn csv(&self, w: &mut LongCsv) {
        let i = &self.input;
        w.add("input", &i.job, "box", i.box_size, "pixels");
        w.add("input", &i.job, "particles", i.particles, "");
        w.add("input", &i.job, "classes", i.classes, "");
        w.add("input", &i.job, "ranks_per_gpu", i.ranks_per_gpu, "");
        if let Some(p) = i.pad {
            w.add("input", &i.job, "pad", p, "");
        }
        w.add("target", "", "budget", self.target.budget_bytes, "bytes");
        let v = &self.vram;
        w.add("vram", "", "per_rank", v.per_rank_bytes, "bytes");
        w.add("vram", "", "per_gpu", v.per_gpu_bytes, "bytes");
        w.add("vram", "", "fits", v.fits, "");
        if let Some(b) = v.max_box {
            w.add("vram", "", "max_box", b, "pixels");
        }
        for m in &v.mig {
            w.add("mig", &m.profile, "bytes", m.bytes, "bytes");
            w.add("mig", &m.profile, "fits", m.fits, "");
        }
        let m = &self.ram;
        w.add("ram", "", "per_rank", m.working_bytes_per_rank, "bytes");
        w.add(
            "ram",
            "",
            "preread_per_rank",
            m.preread_bytes_per_rank,
            "bytes",
        );
        w.add("ram", "", "per_node", m.per_node_bytes, "bytes");
        w.add("cpu", "", "threads", self.cpu.threads, "");
        if let Some(s) = &self.scratch {
            w.add(
                "scratch",
                &s.rule,
                "bytes_on_scratch",
                s.bytes_on_scratch,
                "bytes",
            );
            w.add(
                "scratch",
                &s.rule,
                "bytes_per_pass_from_project",
                s.bytes_per_pass_from_project,
                "bytes",
            );
            w.add("scratch", &s.rule, "seconds_fill", s.seconds_fill, "s");
        }
        w.add(
            "time",
            "",
            "seconds_per_pass",
            self.time.seconds_per_pass,
            "s",
        );
        w.add("time", "", "seconds_total", self.time.seconds_total, "s");
        for (k, v) in &self.lines.lane {
            w.add("lane", k, "value", v, "");
        }
        w.add("fit", "", "fits", self.fits, "");
    }
}
