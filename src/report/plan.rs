//! The plan as a document: what a facility manager reads on one screen.

use super::document::{Align, Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::plan::*;
use crate::units::{bytes_binary, bytes_decimal, duration, gib, group_digits, rate_decimal};

fn title(r: &PlanReport) -> String {
    let i = &r.input;
    let mut t = format!(
        "cryocap plan: {} particles, box {}, {}",
        group_digits(i.particles),
        i.box_size,
        i.dtype.label()
    );
    if let Some(px) = i.pixel_size_a {
        t.push_str(&format!(
            " ({px} Å/px, {:.0} Å box)",
            px * f64::from(i.box_size)
        ));
    }
    if let Some(d) = &i.dataset {
        t.push_str(&format!(", {d}"));
    }
    t.push_str(&format!(", {} GPUs per node", i.gpus));
    t
}

fn stack_section(r: &PlanReport) -> Section {
    let s = &r.stack;
    let mut pairs = vec![
        (
            "size".to_string(),
            format!(
                "{} bytes = {} = {}",
                group_digits(s.bytes),
                bytes_decimal(s.bytes),
                bytes_binary(s.bytes)
            ),
        ),
        (
            "per particle".to_string(),
            format!(
                "{} bytes ({} of pixels)",
                group_digits(s.bytes_per_particle.round() as u64),
                group_digits(s.pixel_bytes_per_particle)
            ),
        ),
        (
            "counted by".to_string(),
            format!("{} = {}", r.input.size_model, s.formula),
        ),
    ];
    if let Some(files) = s.files {
        pairs.push((
            "files".to_string(),
            format!(
                "{} of up to {} particles, NSYMBT {}",
                group_digits(files),
                group_digits(r.input.particles_per_file.unwrap_or(0)),
                r.input.nsymbt
            ),
        ));
    }
    Section::new("Stack").with(Block::Pairs(pairs))
}

fn remedy_line(m: &Remedy, r: &PlanReport) -> String {
    let verdict = if m.fits { "fits" } else { "does not fit" };
    match m.kind.as_str() {
        "float16" => format!(
            "save as float16 (MRC mode 12): {} ({verdict})",
            bytes_decimal(m.stack_bytes)
        ),
        "fourier_crop" => format!(
            "Fourier-crop to box {} or smaller: {} ({verdict})",
            m.value.unwrap_or(0),
            bytes_decimal(m.stack_bytes)
        ),
        _ => format!(
            "at most {} particles at box {}: {} (consolidate a subset)",
            group_digits(m.value.unwrap_or(0)),
            r.input.box_size,
            bytes_decimal(m.stack_bytes)
        ),
    }
}

fn ssd_section(r: &PlanReport) -> Section {
    let s = &r.ssd;
    let mut sec = Section::new("SSD cache");
    let mut pairs = vec![(
        "needed".to_string(),
        format!(
            "{} (the cache copies whole stack files)",
            bytes_decimal(s.needed_bytes)
        ),
    )];
    match (&s.recommended_class, s.recommended_smallest_bytes) {
        (Some(class), Some(smallest)) => pairs.push((
            "recommended".to_string(),
            format!(
                "{class} class SSD (checked against a {} drive with {} MB reserved; holds {} such stack{})",
                bytes_decimal(smallest),
                group_digits(s.reserve_mb),
                s.stacks_held.unwrap_or(0),
                if s.stacks_held == Some(1) { "" } else { "s" }
            ),
        )),
        _ => pairs.push((
            "recommended".to_string(),
            "no single SSD class holds this stack".to_string(),
        )),
    }
    sec = sec.with(Block::Pairs(pairs));
    if let Some(cmd) = &s.connect_command {
        sec = sec.with(Block::Command(cmd.clone()));
    }
    if let Some(g) = &s.given {
        let verdict = if g.fits {
            "fits".to_string()
        } else {
            format!(
                "DOES NOT FIT (short by {})",
                bytes_decimal(s.needed_bytes - g.capacity_bytes.min(s.needed_bytes))
            )
        };
        let quota = g
            .quota_mb
            .map(|q| format!(", quota {} MB", group_digits(q)))
            .unwrap_or_default();
        sec = sec.with(Block::Pairs(vec![(
            "your SSD".to_string(),
            format!(
                "{} drive{quota}, reserve {} MB: cache holds {}; the stack {verdict}",
                bytes_decimal(g.drive_bytes),
                group_digits(s.reserve_mb),
                bytes_decimal(g.capacity_bytes)
            ),
        )]));
        if !g.remedies.is_empty() {
            sec = sec.with(Block::Text("what would make it fit:".to_string()));
            sec = sec.with(Block::Bullets(
                g.remedies.iter().map(|m| remedy_line(m, r)).collect(),
            ));
        }
        sec = sec.with(Block::Command(g.connect_command.clone()));
    }
    sec
}

/// Which catalog GPUs a job fits on, as the plan recorded it.
fn fits_on(v: &VramRow, catalog_gpus: Option<u32>) -> String {
    let names = v.fits_gpus.as_deref().unwrap_or(&[]);
    let of = catalog_gpus.map(|n| format!(" of {n}")).unwrap_or_default();
    match &v.smallest_fit {
        Some(g) if !names.is_empty() => format!(
            "{}{of} (smallest: {}, {} GiB)",
            names.len(),
            g.id,
            g.vram_gib
        ),
        _ if names.is_empty() => format!("none{of}"),
        _ => format!("{}{of}", names.len()),
    }
}

fn vram_section(r: &PlanReport) -> Section {
    let mut rows = Vec::new();
    let headers: Vec<String>;
    let align;
    match &r.vram_target {
        Some(_) => {
            headers = ["job", "basis", "needs", "max box", "fits"]
                .map(String::from)
                .to_vec();
            align = vec![
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Left,
            ];
            for v in &r.vram {
                let max_box = match (v.max_box, v.max_box_limit) {
                    (Some(0), _) | (None, _) => "none".to_string(),
                    (Some(b), Some(BoxLimit::SoftwareCap)) => format!("{b} (cap)"),
                    (Some(b), Some(BoxLimit::Ceiling)) => format!("{b}+"),
                    (Some(b), _) => b.to_string(),
                };
                rows.push(vec![
                    job_name(v),
                    v.basis.clone(),
                    gib(v.bytes_needed),
                    max_box,
                    if v.fits == Some(true) { "yes" } else { "NO" }.to_string(),
                ]);
            }
        }
        None => {
            headers = ["job", "basis", "needs", "catalog GPUs it fits"]
                .map(String::from)
                .to_vec();
            align = vec![Align::Left, Align::Left, Align::Right, Align::Left];
            for v in &r.vram {
                rows.push(vec![
                    job_name(v),
                    v.basis.clone(),
                    gib(v.bytes_needed),
                    fits_on(v, r.catalog_gpus),
                ]);
            }
        }
    }
    let title = match &r.vram_target {
        Some(t) => format!(
            "VRAM per GPU at box {} on {} ({})",
            r.input.box_size,
            t.label,
            bytes_binary(t.bytes)
        ),
        None => format!("VRAM per GPU at box {}", r.input.box_size),
    };
    Section::new(title).with(Block::Table {
        headers,
        align,
        rows,
    })
}

fn job_name(v: &VramRow) -> String {
    if v.job == "hetero-refine" || v.job == "class2d" {
        format!("{} (K={})", v.job, v.classes)
    } else {
        v.job.clone()
    }
}

fn storage_section(r: &PlanReport) -> Section {
    let passes = r.input.passes;
    let cache_label = r
        .storage
        .iter()
        .find(|s| s.tier == r.cache_tier)
        .map_or(r.cache_tier.clone(), |s| s.label.clone());
    let headers = vec![
        "tier".to_string(),
        "read".to_string(),
        "pass in order".to_string(),
        "pass random".to_string(),
        format!("{passes}x random"),
        "fill SSD".to_string(),
        format!("fill + {passes}x SSD"),
        "gain".to_string(),
    ];
    let mut align = vec![Align::Right; headers.len()];
    align[0] = Align::Left;
    let rows = r
        .storage
        .iter()
        .map(|s| {
            vec![
                s.label.clone(),
                rate_decimal(s.seq_bytes_per_second),
                duration(s.seconds_per_pass_sequential),
                duration(s.seconds_per_pass_random),
                duration(s.seconds_all_passes_random),
                duration(s.seconds_fill_cache),
                duration(s.seconds_all_passes_cached),
                cache_gain(s),
            ]
        })
        .collect();
    Section::new(format!(
        "Storage: {} particles of {}; {passes} random passes, direct or via an SSD cache ({cache_label})",
        group_digits(r.input.particles),
        bytes_decimal(r.stack.pixel_bytes_per_particle)
    ))
    .with(Block::Table {
        headers,
        align,
        rows,
    })
}

/// How many times faster the passes are when read from the SSD cache
/// (filling it included) than straight from the tier.
fn cache_gain(s: &StorageRow) -> String {
    let gain = s.seconds_all_passes_random / s.seconds_all_passes_cached;
    if !gain.is_finite() {
        "-".to_string()
    } else if gain >= 1.05 {
        format!("{gain:.1}x")
    } else {
        "none".to_string()
    }
}

/// A requirement value in the unit a person expects for it.
pub(super) fn format_item_value(item: &NodeItem, v: f64) -> String {
    super::values::value(&item.unit, &item.id, v)
}

fn node_section(r: &PlanReport) -> Section {
    let n = &r.requirements;
    let rows = n
        .items
        .iter()
        .map(|i| {
            vec![
                format!(
                    "{}{}",
                    i.label,
                    if i.applies_to == "each GPU" {
                        " (each GPU)"
                    } else {
                        ""
                    }
                ),
                i.minimum.map_or("-".into(), |v| format_item_value(i, v)),
                i.recommended
                    .map_or("-".into(), |v| format_item_value(i, v)),
            ]
        })
        .collect();
    let mut sec = Section::new(format!("Node with {} GPUs ({} profile)", n.gpus, n.profile)).with(
        Block::table(&["item", "minimum", "recommended"], "lrr", rows),
    );
    if !n.examples.is_empty() {
        sec = sec
            .with(Block::Text("for comparison:".into()))
            .with(Block::Bullets(n.examples.clone()));
    }
    sec
}

impl Render for PlanReport {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        csv(self, w)
    }
}

/// Hours of each `--job` on each tier.
fn jobs_section(r: &PlanReport) -> Section {
    let rows: Vec<Vec<String>> = r
        .job_times
        .iter()
        .map(|j| {
            vec![
                j.job.clone(),
                j.tier.clone(),
                duration(j.seconds),
                format!("{} to {}", duration(j.low), duration(j.high)),
                j.bottleneck.clone(),
                j.basis.clone(),
            ]
        })
        .collect();
    let title = match r.job_times.first() {
        Some(j) => format!(
            "Job times on {}, {} iterations each (job-time model, 90 % interval)",
            j.device, j.iterations
        ),
        None => "Job times".to_string(),
    };
    Section::new(title).with(Block::table(
        &[
            "job",
            "tier",
            "time",
            "90 % interval",
            "bottleneck",
            "basis",
        ],
        "llrrll",
        rows,
    ))
}

/// The plan, section by section.
fn document(r: &PlanReport) -> Document {
    let mut sections = vec![
        stack_section(r),
        ssd_section(r),
        vram_section(r),
        storage_section(r),
    ];
    if !r.job_times.is_empty() {
        sections.push(jobs_section(r));
    }
    sections.push(node_section(r));
    sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    Document {
        title: title(r),
        sections,
    }
}

/// Every figure of the plan in long form.
fn csv(r: &PlanReport, w: &mut LongCsv) {
    input_csv(r, w);
    stack_csv(&r.stack, w);
    ssd_csv(&r.ssd, w);
    vram_csv(&r.vram, w);
    storage_csv(&r.storage, w);
    for i in &r.requirements.items {
        if let Some(v) = i.minimum {
            w.add("node", &i.id, "minimum", v, &i.unit);
        }
        if let Some(v) = i.recommended {
            w.add("node", &i.id, "recommended", v, &i.unit);
        }
    }
}

/// The input, then each job's time on each tier.
fn input_csv(r: &PlanReport, w: &mut LongCsv) {
    w.add("input", "", "particles", r.input.particles, "particles");
    w.add("input", "", "box", r.input.box_size, "pixels");
    w.add("input", "", "dtype", r.input.dtype.label(), "");
    w.add("input", "", "size_model", &r.input.size_model, "");
    w.add("input", "", "gpus", r.input.gpus, "GPUs");
    w.add("input", "", "passes", r.input.passes, "passes");
    for j in &r.job_times {
        let item = format!("{} {}", j.job, j.tier);
        w.add("job_time", &item, "seconds", j.seconds, "s");
        w.add("job_time", &item, "low", j.low, "s");
        w.add("job_time", &item, "high", j.high, "s");
    }
}

/// The stack's size, per particle and in files.
fn stack_csv(s: &StackReport, w: &mut LongCsv) {
    w.add("stack", "", "bytes", s.bytes, "bytes");
    w.add(
        "stack",
        "",
        "bytes_per_particle",
        s.bytes_per_particle,
        "bytes",
    );
    w.add(
        "stack",
        "",
        "pixel_bytes_per_particle",
        s.pixel_bytes_per_particle,
        "bytes",
    );
    if let Some(f) = s.files {
        w.add("stack", "", "files", f, "files");
    }
}

/// The SSD cache needed and recommended, and a given drive with its
/// remedies.
fn ssd_csv(ssd: &SsdReport, w: &mut LongCsv) {
    w.add("ssd", "", "needed_bytes", ssd.needed_bytes, "bytes");
    w.add("ssd", "", "reserve_mb", ssd.reserve_mb, "MB");
    if let Some(b) = ssd.recommended_bytes {
        w.add("ssd", "", "recommended_bytes", b, "bytes");
    }
    if let Some(q) = ssd.quota_mb {
        w.add("ssd", "", "quota_mb", q, "MB");
    }
    if let Some(g) = &ssd.given {
        w.add("ssd", "given", "drive_bytes", g.drive_bytes, "bytes");
        w.add("ssd", "given", "capacity_bytes", g.capacity_bytes, "bytes");
        w.add("ssd", "given", "fits", g.fits, "");
        for m in &g.remedies {
            w.add("ssd", &m.kind, "stack_bytes", m.stack_bytes, "bytes");
            if let Some(v) = m.value {
                w.add(
                    "ssd",
                    &m.kind,
                    "value",
                    v,
                    if m.kind == "fourier_crop" {
                        "pixels"
                    } else {
                        "particles"
                    },
                );
            }
        }
    }
}

/// Each job's VRAM need, largest box and whether it fits.
fn vram_csv(vram: &[VramRow], w: &mut LongCsv) {
    for v in vram {
        w.add("vram", &v.job, "bytes_needed", v.bytes_needed, "bytes");
        if let Some(b) = v.max_box {
            w.add("vram", &v.job, "max_box", b, "pixels");
        }
        if let Some(f) = v.fits {
            w.add("vram", &v.job, "fits", f, "");
        }
    }
}

/// Each storage tier's seconds per pass, sequential, random and cached.
fn storage_csv(storage: &[StorageRow], w: &mut LongCsv) {
    for s in storage {
        w.add(
            "storage",
            &s.tier,
            "seconds_per_pass_sequential",
            s.seconds_per_pass_sequential,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_per_pass_random",
            s.seconds_per_pass_random,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_all_passes_random",
            s.seconds_all_passes_random,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_fill_cache",
            s.seconds_fill_cache,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_all_passes_cached",
            s.seconds_all_passes_cached,
            "s",
        );
    }
}
