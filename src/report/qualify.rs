//! The qualification as a document: verdicts first, then what was measured.

use super::charts::{Level, Series, bars, lines};
use super::document::{Align, Block, Document, Section};
use super::values::value;
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::qualify::{QualifyReport, Verdict};
use crate::units::{bytes_binary, bytes_decimal};

fn tally(r: &QualifyReport) -> String {
    let count = |v: Verdict| r.checks.iter().filter(|c| c.verdict == v).count();
    [
        Verdict::Pass,
        Verdict::Warn,
        Verdict::Fail,
        Verdict::Inconclusive,
        Verdict::NotMeasured,
    ]
    .iter()
    .filter(|v| count(**v) > 0)
    .map(|v| format!("{} {}", count(*v), v.label()))
    .collect::<Vec<_>>()
    .join(", ")
}

fn verdict_section(r: &QualifyReport) -> Section {
    let rows = r
        .checks
        .iter()
        .map(|c| {
            let measured = match (c.value, c.min, c.max) {
                (Some(v), Some(lo), Some(hi)) if hi > lo => format!(
                    "{} ({}..{})",
                    value(&c.unit, &c.id, v),
                    value(&c.unit, &c.id, lo),
                    value(&c.unit, &c.id, hi)
                ),
                (Some(v), _, _) => value(&c.unit, &c.id, v),
                _ => "-".into(),
            };
            vec![
                c.label.clone(),
                c.verdict.label().to_string(),
                measured,
                c.minimum.map_or("-".into(), |v| value(&c.unit, &c.id, v)),
                c.recommended
                    .map_or("-".into(), |v| value(&c.unit, &c.id, v)),
                if c.note.is_empty() {
                    c.source.clone()
                } else {
                    c.note.clone()
                },
            ]
        })
        .collect();
    Section::new(format!("Verdicts: {}", tally(r))).with(Block::table(
        &[
            "check",
            "verdict",
            "measured",
            "minimum",
            "recommended",
            "source / note",
        ],
        "llrrrl",
        rows,
    ))
}

fn host_section(r: &QualifyReport, node: &str) -> Section {
    let h = &r.host;
    let mut pairs = vec![
        ("node".to_string(), node.to_string()),
        (
            "CPU".to_string(),
            format!(
                "{} ({} physical cores, {} logical CPUs, {} MHz)",
                h.cpu_model,
                h.physical_cores.map_or("?".into(), |c| c.to_string()),
                h.logical_cpus,
                h.cpu_mhz
            ),
        ),
        ("RAM".to_string(), bytes_binary(h.ram_bytes)),
        ("OS".to_string(), format!("{} (kernel {})", h.os, h.kernel)),
    ];
    for d in &h.disks {
        pairs.push((
            format!("disk {}", d.mount_point),
            format!(
                "{} {} on {}, {} free of {} (reported {})",
                d.file_system,
                d.device,
                d.mount_point,
                bytes_decimal(d.available_bytes),
                bytes_decimal(d.total_bytes),
                d.kind
            ),
        ));
    }
    Section::new("Host").with(Block::Pairs(pairs))
}

fn measurement_section(r: &QualifyReport) -> Section {
    let rows = r
        .metrics
        .iter()
        .map(|m| {
            vec![
                m.label.clone(),
                value(&m.unit, &m.id, m.value),
                value(&m.unit, &m.id, m.min),
                value(&m.unit, &m.id, m.max),
                m.samples.len().to_string(),
                m.counts.clone(),
            ]
        })
        .collect();
    Section::new("Measurements").with(Block::table(
        &["metric", "median", "min", "max", "samples", "counts"],
        "lrrrrl",
        rows,
    ))
}

fn bottleneck_section(r: &QualifyReport) -> Option<Section> {
    if r.bottlenecks.is_empty() {
        return None;
    }
    let mut sec = Section::new("Bottlenecks (particles/s)");
    for b in &r.bottlenecks {
        let rows = b
            .stages
            .iter()
            .map(|s| vec![s.label.clone(), format!("{:.0}", s.particles_per_second)])
            .collect();
        let mut summary = format!("box {}: bound by {}", b.box_size, b.bound_by);
        if let Some(g) = b.cache_gain {
            summary.push_str(&format!(
                "; the SSD cache reads {g:.1}x faster than the project storage"
            ));
        }
        if let Some(n) = b.gpus_storage_can_feed {
            summary.push_str(&format!("; storage feeds {n:.1} GPUs"));
        }
        sec = sec.with(Block::Text(summary)).with(Block::Table {
            headers: vec!["stage".into(), "particles/s".into()],
            align: vec![Align::Left, Align::Right],
            rows,
        });
    }
    Some(sec)
}

impl Render for QualifyReport {
    fn document(&self, header: &Envelope) -> Document {
        document(self, &header.node)
    }
    fn charts(&self, _: &Envelope) -> Vec<Block> {
        charts(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        csv(self, w)
    }
}

fn document(r: &QualifyReport, node: &str) -> Document {
    let mut sections = vec![
        verdict_section(r),
        host_section(r, node),
        measurement_section(r),
    ];
    sections.extend(bottleneck_section(r));
    if !r.notes.is_empty() {
        sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    }
    Document {
        title: format!(
            "cryocap qualify: {} against {} ({} GPU{}{}, {:.0} s)",
            node,
            r.profile.id,
            r.gpus,
            if r.gpus == 1 { "" } else { "s" },
            if r.quick { ", quick" } else { "" },
            r.duration_seconds
        ),
        sections,
    }
}

/// The results' metrics and checks in long CSV form: section `metric`
/// (median, min, max, samples of each) and `check` (verdict and value).
fn csv(r: &QualifyReport, w: &mut LongCsv) {
    for m in &r.metrics {
        w.add_spread("metric", &m.id, [m.value, m.min, m.max], &m.unit);
        w.add("metric", &m.id, "samples", m.samples.len(), "samples");
    }
    for c in &r.checks {
        w.add("check", &c.id, "verdict", c.verdict.label(), "");
        if let Some(v) = c.value {
            w.add("check", &c.id, "value", v, &c.unit);
        }
    }
}

/// VRAM each job type needs against box size, with the GPU's VRAM (or the
/// profile's minimum when no GPU was measured) as a line.
fn vram_chart(r: &QualifyReport) -> Option<Block> {
    if r.vram_curves.is_empty() {
        return None;
    }
    let gib = crate::units::GIB as f64;
    let series = r
        .vram_curves
        .iter()
        .map(|c| Series {
            name: c.job.clone(),
            points: c
                .points
                .iter()
                .map(|&(b, bytes)| (f64::from(b), bytes as f64 / gib))
                .collect(),
        })
        .collect::<Vec<_>>();
    let vram = r.checks.iter().find(|c| c.id == "gpu_vram");
    // the GPU's VRAM, else the profile's minimum, else no line
    let level = match (vram.and_then(|c| c.value), vram.and_then(|c| c.minimum)) {
        (Some(v), _) => Some(Level {
            name: format!("this GPU: {:.0} GiB", v / gib),
            y: v / gib,
        }),
        (None, Some(m)) => Some(Level {
            name: format!("profile minimum: {:.0} GiB", m / gib),
            y: m / gib,
        }),
        (None, None) => None,
    };
    let svg = lines(
        "VRAM needed per job type (modelled)",
        "box size (pixels)",
        "GiB",
        &series,
        level.as_slice(),
        &|v| format!("{v:.0}"),
    )
    .ok()?;
    Some(Block::Chart {
        caption:
            "VRAM need against box size, as the run's datasets/vram.csv modelled it; the black line is the GPU's VRAM (or the profile's minimum)"
                .into(),
        svg,
    })
}

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    crate::results::metrics::median(&values.collect::<Vec<_>>())
}

/// Sequential against random reads for each storage measured.
fn throughput_chart(r: &QualifyReport) -> Option<Block> {
    let mut bars_data = Vec::new();
    for io in &r.io {
        for pattern in ["sequential", "random"] {
            let rates = io
                .runs
                .iter()
                .filter(|x| x.pattern == pattern)
                .map(|x| x.bytes_per_second / 1e6);
            let v = median_of(rates);
            if v.is_finite() {
                bars_data.push((format!("{} {pattern}", io.storage), v));
            }
        }
    }
    if bars_data.is_empty() {
        return None;
    }
    let svg = bars(
        "Storage reads: in order against random (median)",
        "MB/s",
        &bars_data,
        &|v| format!("{v:.0}"),
    )
    .ok()?;
    let mut sizes: Vec<String> =
        r.io.iter()
            .map(|io| match io.particle_bytes {
                b if b % 1024 == 0 => format!("{} KiB", b / 1024),
                b => crate::units::bytes_binary(b),
            })
            .collect();
    sizes.dedup();
    Some(Block::Chart {
        caption: format!(
            "Particle bytes per second, {} particles, O_DIRECT, one reader",
            sizes.join(" and ")
        ),
        svg,
    })
}

/// Read latency percentiles for each storage and pattern.
fn latency_chart(r: &QualifyReport) -> Option<Block> {
    let mut series = Vec::new();
    for io in &r.io {
        for pattern in ["sequential", "random"] {
            let runs: Vec<_> = io.runs.iter().filter(|x| x.pattern == pattern).collect();
            if runs.is_empty() {
                continue;
            }
            let pick = |f: &dyn Fn(&crate::results::bench_io::Latency) -> u64| {
                median_of(runs.iter().map(|x| f(&x.latency_ns) as f64 / 1e3))
            };
            series.push(Series {
                name: format!("{} {pattern}", io.storage),
                // x in "nines": -log10(1 - p), with the max drawn at 4
                points: vec![
                    (0.301, pick(&|l| l.p50)),
                    (1.0, pick(&|l| l.p90)),
                    (2.0, pick(&|l| l.p99)),
                    (3.0, pick(&|l| l.p999)),
                    (4.0, pick(&|l| l.max)),
                ],
            });
        }
    }
    if series.is_empty() {
        return None;
    }
    let svg = lines(
        "Read latency percentiles",
        "percentile in nines: 1 = p90, 2 = p99, 3 = p99.9, 4 = max",
        "µs",
        &series,
        &[],
        &|v| format!("{v:.0}"),
    )
    .ok()?;
    Some(Block::Chart {
        caption: "Per-particle read latency from an HDR histogram: p50, p90, p99, p99.9 and max"
            .into(),
        svg,
    })
}

/// Particles/s each stage delivers or consumes, per box.
fn bottleneck_chart(r: &QualifyReport) -> Option<Block> {
    let data: Vec<(String, f64)> = r
        .bottlenecks
        .iter()
        .flat_map(|b| {
            b.stages.iter().map(move |s| {
                (
                    format!("box {}: {}", b.box_size, s.label),
                    s.particles_per_second,
                )
            })
        })
        .collect();
    if data.is_empty() {
        return None;
    }
    let svg = bars(
        "Bottleneck: particles/s per stage",
        "particles/s",
        &data,
        &|v| format!("{v:.0}"),
    )
    .ok()?;
    Some(Block::Chart {
        caption: "The shortest bar at each box bounds the node".into(),
        svg,
    })
}

/// Fourier insertion throughput against box for each GPU measured
/// (metrics `gpuN.insertion.boxB.particles_per_second`).
fn gpu_chart(r: &QualifyReport) -> Option<Block> {
    let mut series: Vec<Series> = Vec::new();
    for m in &r.metrics {
        let Some((gpu, rest)) = m.id.split_once(".insertion.box") else {
            continue;
        };
        let Some(b) = rest
            .strip_suffix(".particles_per_second")
            .and_then(|b| b.parse::<f64>().ok())
        else {
            continue;
        };
        let name = format!("{} insertion, padding 2", gpu.replace("gpu", "GPU "));
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push((b, m.value)),
            None => series.push(Series {
                name,
                points: vec![(b, m.value)],
            }),
        }
    }
    if series.is_empty() {
        return None;
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let svg = lines(
        "GPU throughput against box",
        "box size (pixels)",
        "particles/s",
        &series,
        &[],
        &|v| format!("{v:.0}"),
    )
    .ok()?;
    Some(Block::Chart {
        caption: "Fourier insertion of images already on the GPU (bench gpu), median per box"
            .into(),
        svg,
    })
}

/// The charts of the HTML report.
fn charts(r: &QualifyReport) -> Vec<Block> {
    let mut out = Vec::new();
    out.extend(throughput_chart(r));
    out.extend(latency_chart(r));
    out.extend(bottleneck_chart(r));
    out.extend(gpu_chart(r));
    out.extend(vram_chart(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Format, render};
    use crate::results::Kind;
    use crate::results::metrics::{Better, Metric};

    #[test]
    fn gpu_throughput_is_charted_per_device_and_box() {
        let text = include_str!("../../tests/fixtures/qualify-vm.json");
        let mut env = crate::results::read::parse(std::path::Path::new("q.json"), text).unwrap();
        let Kind::Qualify(r) = &mut env.kind else {
            panic!("a qualify fixture")
        };
        assert!(gpu_chart(r).is_none(), "no GPU in the fixture");
        for (b, rate) in [(432, 5.0e4), (128, 7.0e5), (256, 1.7e5)] {
            r.metrics.push(Metric::from_samples(
                format!("gpu0.insertion.box{b}.particles_per_second"),
                "insertion",
                "particles_per_second",
                Better::Higher,
                vec![rate],
            ));
        }
        let Some(Block::Chart { svg, .. }) = gpu_chart(r) else {
            panic!("a GPU chart")
        };
        assert!(svg.contains("GPU 0 insertion, padding 2"));
        assert!(
            render(&env, Format::Html)
                .unwrap()
                .contains("GPU throughput against box")
        );
    }
}
