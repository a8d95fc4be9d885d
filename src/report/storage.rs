//! The storage commands' results: `stack create`, `stack info`, `probe` and
//! `bench io`.

use super::{Align, Block, Document, LongCsv, Render, Section};
use crate::results::Envelope;
use crate::results::bench_io::{BenchIoReport, GpuFeed, IoRun};
use crate::results::probe::{BlockDevice, MdRaid, Member, ProbeReport};
use crate::results::stack::{StackCreated, StackInfo};
use crate::units::{bytes_binary, bytes_decimal, group_digits, rate_decimal};

fn pairs(v: Vec<(&str, String)>) -> Block {
    Block::Pairs(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn stack_created(r: &StackCreated) -> Document {
    let mode = if r.mode == 12 { "float16" } else { "float32" };
    Document {
        title: format!(
            "cryocap stack create: {} particles, box {}, {mode} (MRC mode {}), in {}",
            group_digits(r.particles),
            r.box_size,
            r.mode,
            r.dir
        ),
        sections: vec![Section::new("").with(pairs(vec![
            (
                "files",
                format!(
                    "{} ({} … {})",
                    r.files.len(),
                    r.files.first().cloned().unwrap_or_default(),
                    r.files.last().cloned().unwrap_or_default()
                ),
            ),
            (
                "bytes",
                format!("{} = {}", group_digits(r.bytes), bytes_decimal(r.bytes)),
            ),
            (
                "took",
                format!(
                    "{:.2} s ({}, including fsync)",
                    r.seconds,
                    rate_decimal(r.bytes_per_second)
                ),
            ),
            (
                "content",
                format!("uniform noise in [-1, 1), seed {}", r.seed),
            ),
        ]))],
    }
}

fn stack_info(r: &StackInfo) -> Document {
    let mut doc = Document {
        title: format!(
            "cryocap stack info: {} file(s), all consistent with their headers",
            r.files.len()
        ),
        sections: Vec::new(),
    };
    for f in &r.files {
        doc.sections
            .push(Section::new(f.path.clone()).with(pairs(vec![
                (
                    "dimensions",
                    format!("{} × {} × {} (NX × NY × NZ)", f.nx, f.ny, f.nz),
                ),
                ("mode", format!("{} ({})", f.mode, f.mode_name)),
                (
                    "ispg",
                    format!(
                        "{} ({})",
                        f.ispg,
                        if f.ispg == 0 { "image stack" } else { "volume" }
                    ),
                ),
                ("nsymbt", format!("{} bytes of extended header", f.nsymbt)),
                ("nversion", f.nversion.to_string()),
                ("machine stamp", f.machine_stamp.clone()),
                (
                    "cell",
                    format!(
                        "{:.3} × {:.3} × {:.3} Å",
                        f.cell_a[0], f.cell_a[1], f.cell_a[2]
                    ),
                ),
                (
                    "pixel size",
                    f.pixel_size_a
                        .map(|p| format!("{p:.4} Å"))
                        .unwrap_or_else(|| "unknown (cell or MX is 0)".to_string()),
                ),
                ("image bytes", group_digits(f.image_bytes)),
                (
                    "file bytes",
                    format!("{} (matches the header)", group_digits(f.file_bytes)),
                ),
                (
                    "labels",
                    if f.labels.is_empty() {
                        "none".to_string()
                    } else {
                        f.labels.join(" | ")
                    },
                ),
            ])));
    }
    doc
}

/// Where the path lives and whether O_DIRECT works there, then its block
/// device, what could not be told and the notes.
fn probe(r: &ProbeReport) -> Document {
    let mut doc = Document {
        title: format!("cryocap probe: {}", r.path),
        sections: vec![Section::new("").with(pairs(probe_pairs(r)))],
    };
    if let Some(b) = &r.device {
        doc.sections
            .push(Section::new("Block device").with(pairs(block_device_pairs(b))));
    }
    if !r.unknown.is_empty() {
        doc.sections
            .push(Section::new("Could not tell").with(Block::Bullets(r.unknown.clone())));
    }
    if !r.notes.is_empty() {
        doc.sections
            .push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    }
    doc
}

/// The mount, file system, sizes, O_DIRECT and alignment.
fn probe_pairs(r: &ProbeReport) -> Vec<(&'static str, String)> {
    let mut main = vec![
        ("mount", opt(&r.mount_point)),
        ("file system", opt(&r.fs_type)),
        ("source", opt(&r.source)),
        (
            "network fs",
            r.network_fs.clone().unwrap_or_else(|| "no".to_string()),
        ),
        (
            "size",
            r.total_bytes
                .map(bytes_decimal)
                .unwrap_or_else(|| "unknown".to_string()),
        ),
        (
            "available",
            r.available_bytes
                .map(bytes_decimal)
                .unwrap_or_else(|| "unknown".to_string()),
        ),
    ];
    let d = &r.direct_io;
    main.push((
        "O_DIRECT",
        match d.supported {
            Some(true) => format!("works ({})", d.how),
            Some(false) => format!("refused ({})", d.how),
            None => "unknown".to_string(),
        },
    ));
    main.push((
        "alignment",
        format!(
            "{} bytes offset, {} bytes memory ({})",
            d.alignment, d.memory_alignment, d.alignment_source
        ),
    ));
    main
}

/// The block device: name, kind, model, size, rotational, block sizes,
/// then its md RAID, device mapper and members where it has them.
fn block_device_pairs(b: &BlockDevice) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (
            "name",
            if b.name == b.disk {
                b.name.clone()
            } else {
                format!("{} on {}", b.name, b.disk)
            },
        ),
        ("kind", b.kind.clone()),
        ("model", opt(&b.model)),
        (
            "size",
            b.size_bytes
                .map(bytes_decimal)
                .unwrap_or_else(|| "unknown".to_string()),
        ),
        ("rotational", rotational(b.rotational)),
        (
            "block size",
            format!(
                "{} logical, {} physical",
                opt(&b.logical_block_bytes),
                opt(&b.physical_block_bytes)
            ),
        ),
    ];
    if let Some(md) = &b.md {
        v.push(("md RAID", md_raid(md)));
    }
    if let Some(dm) = &b.dm {
        v.push((
            "device mapper",
            format!("{} ({})", dm.target, opt(&dm.name)),
        ));
    }
    if !b.members.is_empty() {
        v.push(("members", members(&b.members)));
    }
    v
}

/// Whether the kernel says the device spins.
fn rotational(r: Option<bool>) -> String {
    match r {
        Some(true) => "yes (as the kernel reports it; virtual disks often misreport)".to_string(),
        Some(false) => "no (as the kernel reports it; virtual disks often misreport)".to_string(),
        None => "unknown".to_string(),
    }
}

/// An md RAID's level, chunk and disk count.
fn md_raid(md: &MdRaid) -> String {
    format!(
        "level {}, chunk {}, {} disks",
        opt(&md.level),
        md.chunk_bytes
            .map(bytes_binary)
            .unwrap_or_else(|| "unknown".to_string()),
        opt(&md.raid_disks)
    )
}

/// The member devices, each rotational or not.
fn members(members: &[Member]) -> String {
    let m: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "{} ({})",
                m.name,
                match m.rotational {
                    Some(true) => "rotational",
                    Some(false) => "non-rotational",
                    None => "unknown",
                }
            )
        })
        .collect();
    m.join(", ")
}

fn us(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.0} µs", ns as f64 / 1e3)
    }
}

/// The stack read, the reads, how many GPUs that keeps fed, and the notes.
fn bench_io(r: &BenchIoReport) -> Document {
    let mut sections = vec![stack_section(r), reads_section(&r.runs)];
    if let Some(f) = &r.feed {
        sections.push(feed_section(f));
    }
    if !r.notes.is_empty() {
        sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    }
    Document {
        title: "cryocap bench io".to_string(),
        sections,
    }
}

/// The stack read, by which readers, at which alignment.
fn stack_section(r: &BenchIoReport) -> Section {
    let s = &r.stack;
    Section::new("").with(pairs(vec![
        (
            "stack",
            format!(
                "{} file(s), {} particles of {} = {}{}",
                s.files,
                group_digits(s.particles),
                bytes_binary(s.particle_bytes),
                bytes_decimal(s.bytes),
                if s.created {
                    " (written for this run, then deleted)"
                } else {
                    ""
                }
            ),
        ),
        ("readers", r.engine.clone()),
        (
            "alignment",
            format!("{} bytes ({})", s.alignment, s.alignment_source),
        ),
    ]))
}

/// One row per access pattern: settings, rates and latency percentiles.
fn reads_section(runs: &[IoRun]) -> Section {
    let headers = [
        "pattern",
        "direct",
        "T×Q",
        "passes",
        "particle bytes/s",
        "particles/s",
        "IOPS",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
    ];
    let mut align = vec![Align::Right; headers.len()];
    align[0] = Align::Left;
    align[1] = Align::Left;
    Section::new("Reads").with(Block::Table {
        headers: headers.iter().map(|h| h.to_string()).collect(),
        align,
        rows: runs.iter().map(read_row).collect(),
    }).with(Block::Text(
        "bytes/s counts particle bytes delivered; latency is per particle read (HDR histogram, µs).".to_string(),
    ))
}

/// One access pattern's cells.
fn read_row(x: &IoRun) -> Vec<String> {
    vec![
        x.pattern.clone(),
        if x.direct { "yes".into() } else { "no".into() },
        format!("{}×{}", x.threads, x.iodepth),
        format!("{:.2}", x.passes),
        rate_decimal(x.bytes_per_second),
        group_digits(x.particles_per_second.round() as u64),
        group_digits(x.iops.round() as u64),
        us(x.latency_ns.p50),
        us(x.latency_ns.p90),
        us(x.latency_ns.p99),
        us(x.latency_ns.p999),
        us(x.latency_ns.max),
    ]
}

/// How many GPUs each pattern keeps fed at the GPU's particle rate.
fn feed_section(f: &GpuFeed) -> Section {
    let rows = f
        .per_run
        .iter()
        .map(|x| {
            vec![
                x.pattern.clone(),
                format!("{:.2}", x.gpus_fed),
                match x.enough {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    Section::new(format!(
        "GPUs this storage keeps fed at {} particles/s per GPU{}",
        group_digits(f.gpu_particles_per_second.round() as u64),
        f.gpus
            .map(|g| format!(" ({g} in the node)"))
            .unwrap_or_default()
    ))
    .with(Block::Table {
        headers: vec!["pattern".into(), "GPUs fed".into(), "enough".into()],
        align: vec![Align::Left, Align::Right, Align::Left],
        rows,
    })
}

impl Render for BenchIoReport {
    fn document(&self, _: &Envelope) -> Document {
        bench_io(self)
    }
    /// Section `stack`, then one `run` item per pattern with its settings
    /// and figures.
    fn csv(&self, w: &mut LongCsv) {
        let s = &self.stack;
        w.add("stack", "", "files", s.files, "files");
        w.add("stack", "", "particles", s.particles, "particles");
        w.add("stack", "", "particle_bytes", s.particle_bytes, "bytes");
        w.add("stack", "", "bytes", s.bytes, "bytes");
        w.add("stack", "", "alignment", s.alignment, "bytes");
        for x in &self.runs {
            let p = x.pattern.as_str();
            w.add("run", p, "threads", x.threads, "threads");
            w.add("run", p, "iodepth", x.iodepth, "reads");
            w.add("run", p, "direct", x.direct, "");
            let figures: [(&str, f64, &str); 11] = [
                ("bytes_read", x.bytes_read as f64, "bytes"),
                ("passes", x.passes, "passes"),
                ("bytes_per_second", x.bytes_per_second, "bytes/s"),
                (
                    "particles_per_second",
                    x.particles_per_second,
                    "particles/s",
                ),
                ("iops", x.iops, "reads/s"),
                ("seconds", x.seconds, "s"),
                ("latency_p50", x.latency_ns.p50 as f64, "ns"),
                ("latency_p90", x.latency_ns.p90 as f64, "ns"),
                ("latency_p99", x.latency_ns.p99 as f64, "ns"),
                ("latency_p999", x.latency_ns.p999 as f64, "ns"),
                ("latency_max", x.latency_ns.max as f64, "ns"),
            ];
            for (m, v, u) in figures {
                w.add("run", p, m, v, u);
            }
        }
        if let Some(f) = &self.feed {
            for x in &f.per_run {
                w.add("feed", &x.pattern, "gpus_fed", x.gpus_fed, "GPUs");
                if let Some(e) = x.enough {
                    w.add("feed", &x.pattern, "enough", e, "");
                }
            }
        }
    }
}

impl Render for StackCreated {
    fn document(&self, _: &Envelope) -> Document {
        stack_created(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        w.add("stack", "", "files", self.files.len(), "files");
        w.add("stack", "", "particles", self.particles, "particles");
        w.add("stack", "", "box", self.box_size, "pixels");
        w.add("stack", "", "mode", self.mode, "");
        w.add("stack", "", "bytes", self.bytes, "bytes");
        w.add("stack", "", "seconds", self.seconds, "s");
        w.add(
            "stack",
            "",
            "bytes_per_second",
            self.bytes_per_second,
            "bytes/s",
        );
        w.add("stack", "", "seed", self.seed, "");
    }
}

impl Render for StackInfo {
    fn document(&self, _: &Envelope) -> Document {
        stack_info(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        for f in &self.files {
            let p = f.path.as_str();
            w.add("file", p, "nx", f.nx, "pixels");
            w.add("file", p, "ny", f.ny, "pixels");
            w.add("file", p, "nz", f.nz, "sections");
            w.add("file", p, "mode", f.mode, "");
            w.add("file", p, "nsymbt", f.nsymbt, "bytes");
            if let Some(px) = f.pixel_size_a {
                w.add("file", p, "pixel_size", px, "Å");
            }
            w.add("file", p, "image_bytes", f.image_bytes, "bytes");
            w.add("file", p, "file_bytes", f.file_bytes, "bytes");
        }
    }
}

impl Render for ProbeReport {
    fn document(&self, _: &Envelope) -> Document {
        probe(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        let p = self.path.as_str();
        let text = |w: &mut LongCsv, metric: &str, v: &Option<String>| {
            if let Some(v) = v {
                w.add("mount", p, metric, v, "");
            }
        };
        text(w, "mount_point", &self.mount_point);
        text(w, "fs_type", &self.fs_type);
        text(w, "source", &self.source);
        text(w, "network_fs", &self.network_fs);
        if let Some(b) = self.total_bytes {
            w.add("mount", p, "total_bytes", b, "bytes");
        }
        if let Some(b) = self.available_bytes {
            w.add("mount", p, "available_bytes", b, "bytes");
        }
        if let Some(d) = &self.device {
            w.add("device", &d.name, "kind", &d.kind, "");
            if let Some(b) = d.size_bytes {
                w.add("device", &d.name, "size_bytes", b, "bytes");
            }
            if let Some(r) = d.rotational {
                w.add("device", &d.name, "rotational", r, "");
            }
        }
        if let Some(ok) = self.direct_io.supported {
            w.add("direct_io", p, "supported", ok, "");
        }
        w.add(
            "direct_io",
            p,
            "alignment",
            self.direct_io.alignment,
            "bytes",
        );
    }
}
