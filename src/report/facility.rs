//! `facility` results: the variants side by side, each lab's time to
//! structure, queues, utilisation, the binding resource; charts of the
//! first variant's days and of time to structure.

use super::charts::{Series, lines};
use super::{Block, Document, LongCsv, Render, Section};
use crate::results::Envelope;
use crate::results::facility::{DayPoint, FacilityReport, Spread, Variant};
use crate::units::bytes_decimal;

fn hours(s: Option<Spread>) -> [String; 3] {
    match s {
        Some(s) => [
            format!("{:.1}", s.p50),
            format!("{:.1}", s.p90),
            format!("{:.1}", s.max),
        ],
        None => ["-".into(), "-".into(), "-".into()],
    }
}

fn pct(v: f64) -> String {
    format!("{:.0} %", v * 100.0)
}

fn side_by_side(r: &FacilityReport) -> Block {
    let rows = r
        .variants
        .iter()
        .map(|v| {
            let wait = |q: &str| {
                v.queues
                    .iter()
                    .find(|x| x.queue == q)
                    .map_or("-".into(), |x| format!("{:.2}", x.mean_wait_h))
            };
            let gpu = v
                .resources
                .iter()
                .filter(|u| u.resource.starts_with("gpu:"))
                .map(|u| u.mean)
                .fold(0.0, f64::max);
            vec![
                v.name.clone(),
                format!("{}/{}", v.finished, v.datasets),
                slowest_lab_p90(v),
                wait("gpu"),
                wait("pre-processing"),
                pct(gpu),
                v.binding.resource.clone(),
                v.cost.as_ref().map_or("-".into(), cost_cell),
            ]
        })
        .collect();
    let headers = [
        "variant",
        "finished",
        "final p90, slowest lab (h)",
        "GPU wait (h)",
    ];
    let mut headers = headers.to_vec();
    headers.extend(["pre-proc. wait (h)", "GPU busy", "binding", "added cost"]);
    Block::table(&headers, "lrrrrrll", rows)
}

/// The slowest lab's p90 hours from session end to final.
fn slowest_lab_p90(v: &Variant) -> String {
    let fin = v
        .labs
        .iter()
        .filter_map(|l| l.final_h.map(|s| s.p90))
        .fold(f64::NAN, f64::max);
    if fin.is_finite() {
        format!("{fin:.1}")
    } else {
        "-".into()
    }
}

fn cost_cell(c: &crate::results::facility::Cost) -> String {
    let more = if c.unpriced.is_empty() {
        ""
    } else {
        " + unpriced"
    };
    let sign = if c.amount < 0.0 { "-" } else { "" };
    let amount = crate::units::group_digits(c.amount.abs().round().min(1e18) as u64);
    format!("{sign}{amount} {}{more}", c.currency)
}

fn lab_table(v: &Variant) -> Block {
    let rows = v
        .labs
        .iter()
        .map(|l| {
            let [f50, f90, fmax] = hours(l.final_h);
            let [m50, m90, _] = hours(l.first_map_h);
            let [w50, w90, _] = hours(l.queue_wait_h);
            let done = format!("{}/{}", l.finished, l.datasets);
            vec![l.lab.clone(), done, m50, m90, f50, f90, fmax, w50, w90]
        })
        .collect();
    let head = [
        "lab",
        "finished",
        "first map p50 (h)",
        "p90",
        "final p50 (h)",
        "p90",
        "max",
    ];
    let mut headers = head.to_vec();
    headers.extend(["GPU wait p50 (h)", "p90"]);
    Block::table(&headers, "lrrrrrrrr", rows)
}

fn queue_table(v: &Variant) -> Block {
    let rows = v
        .queues
        .iter()
        .map(|q| {
            let [p50, p90, max] = hours(q.wait_h);
            let (mean, len) = (
                format!("{:.2}", q.mean_wait_h),
                format!("{:.2}", q.mean_length),
            );
            vec![
                q.queue.clone(),
                q.jobs.to_string(),
                mean,
                p50,
                p90,
                max,
                len,
            ]
        })
        .collect();
    let headers = [
        "queue",
        "jobs",
        "mean wait (h)",
        "p50",
        "p90",
        "max",
        "mean length",
    ];
    Block::table(&headers, "lrrrrrr", rows)
}

fn resource_table(v: &Variant) -> Block {
    let rows = v
        .resources
        .iter()
        .map(|u| vec![u.resource.clone(), pct(u.mean), pct(u.peak_day)])
        .collect();
    Block::table(&["resource", "mean", "busiest day"], "lrr", rows)
}

fn storage_line(s: &crate::results::facility::StorageUse) -> String {
    let full = s
        .full_on_day
        .map_or(String::new(), |d| format!("; full on day {d:.1}"));
    let (start, cap) = (
        bytes_decimal(s.start_bytes),
        bytes_decimal(s.capacity_bytes),
    );
    format!(
        "{start} of {cap} at the start, {} at the end{full}",
        bytes_decimal(s.end_bytes)
    )
}

fn variant_pairs(v: &Variant) -> Block {
    let counts = format!(
        "{} sessions, {} datasets, {} finished",
        v.sessions, v.datasets, v.finished
    );
    let mut pairs = vec![
        (
            "binding resource".to_string(),
            format!("{}: {}", v.binding.resource, v.binding.evidence),
        ),
        ("sessions, datasets".to_string(), counts),
        ("storage".to_string(), storage_line(&v.storage)),
    ];
    if let Some(c) = &v.cost {
        let unpriced = if c.unpriced.is_empty() {
            String::new()
        } else {
            format!("; not in the price list: {}", c.unpriced.join(", "))
        };
        pairs.push((
            "added cost".into(),
            format!("{} ({}{unpriced})", cost_cell(c), c.what),
        ));
    }
    let k = &v.checks;
    let (read, asked) = (
        bytes_decimal(k.bytes_read as u64),
        bytes_decimal(k.bytes_demanded as u64),
    );
    pairs.push((
        "checks".into(),
        format!(
            "Little's law gap {:.1e}; bytes read {read} of {asked} demanded; highest daily utilisation {}",
            k.littles_law_error,
            pct(k.max_utilisation)
        ),
    ));
    Block::Pairs(pairs)
}

fn variant_section(v: &Variant) -> Section {
    Section::new(format!("Variant: {}", v.name))
        .with(variant_pairs(v))
        .with(lab_table(v))
        .with(queue_table(v))
        .with(resource_table(v))
}

/// The first variant's days: utilisation of each resource kind (percent)
/// and the GPU queue's length.
fn day_series(v: &Variant) -> (Vec<Series>, Vec<Series>) {
    let day = |f: &dyn Fn(&DayPoint) -> f64, name: &str| Series {
        name: name.into(),
        points: v
            .timeline
            .iter()
            .map(|d| (f64::from(d.day), f(d)))
            .collect(),
    };
    let util = vec![
        day(&|d| d.gpu * 100.0, "GPUs"),
        day(&|d| d.preprocessing * 100.0, "pre-processing"),
        day(&|d| d.link * 100.0, "storage link"),
        day(&|d| d.ssd * 100.0, "SSD caches"),
        day(&|d| d.storage * 100.0, "storage capacity"),
    ];
    (util, vec![day(&|d| d.gpu_queue, "GPU jobs waiting")])
}

/// Each lab's time to structure as a CDF, every variant.
fn cdf_series(r: &FacilityReport) -> Vec<Series> {
    r.variants
        .iter()
        .flat_map(|v| {
            v.time_to_final_cdf.iter().map(move |c| Series {
                name: format!("{} ({})", c.lab, v.name),
                points: c
                    .hours
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (*h, i as f64 * 5.0))
                    .collect(),
            })
        })
        .collect()
}

impl Render for FacilityReport {
    fn document(&self, _: &Envelope) -> Document {
        let head = Section::new("")
            .with(Block::Pairs(vec![
                ("facility".into(), self.config.clone()),
                (
                    "span".into(),
                    format!(
                        "{} days, {} replicate(s) from seed {}",
                        self.days, self.replicates, self.seed
                    ),
                ),
                (
                    "job times".into(),
                    format!("{} (drawn: {})", self.job_time_basis, self.job_time_draw),
                ),
            ]))
            .with(side_by_side(self));
        let mut sections = vec![head];
        sections.extend(self.variants.iter().map(variant_section));
        sections.push(Section::new("Notes").with(Block::Bullets(self.notes.clone())));
        Document {
            title: "cryocap facility: session to structure".into(),
            sections,
        }
    }

    fn charts(&self, _: &Envelope) -> Vec<Block> {
        let Some(v) = self.variants.first() else {
            return Vec::new();
        };
        let (util, queue) = day_series(v);
        let cdf = cdf_series(self);
        let pct_axis = |y: f64| format!("{y:.0}");
        let drawn = [
            (
                "utilisation a day, as configured",
                lines("Utilisation", "day", "% of capacity", &util, &[], &pct_axis),
            ),
            (
                "GPU queue length a day, as configured",
                lines(
                    "GPU queue",
                    "day",
                    "jobs waiting (daily mean)",
                    &queue,
                    &[],
                    &|y| format!("{y:.1}"),
                ),
            ),
            (
                "time from session end to final refinement, per lab and variant (CDF)",
                lines(
                    "Time to structure",
                    "hours",
                    "% of datasets",
                    &cdf,
                    &[],
                    &pct_axis,
                ),
            ),
        ];
        drawn
            .into_iter()
            .filter_map(|(caption, svg)| {
                svg.ok().map(|svg| Block::Chart {
                    caption: caption.into(),
                    svg,
                })
            })
            .collect()
    }

    fn csv(&self, w: &mut LongCsv) {
        for v in &self.variants {
            let s = &v.name;
            for l in &v.labs {
                for (metric, spread) in [
                    ("first_map", l.first_map_h),
                    ("final", l.final_h),
                    ("gpu_wait", l.queue_wait_h),
                ] {
                    if let Some(x) = spread {
                        for (q, val) in [("p50", x.p50), ("p90", x.p90), ("max", x.max)] {
                            w.add(
                                s,
                                &format!("lab {}", l.lab),
                                &format!("{metric}_{q}"),
                                val,
                                "h",
                            );
                        }
                    }
                }
                w.add(
                    s,
                    &format!("lab {}", l.lab),
                    "finished",
                    l.finished,
                    "datasets",
                );
            }
            for q in &v.queues {
                w.add(
                    s,
                    &format!("queue {}", q.queue),
                    "mean_wait",
                    q.mean_wait_h,
                    "h",
                );
                w.add(
                    s,
                    &format!("queue {}", q.queue),
                    "mean_length",
                    q.mean_length,
                    "jobs",
                );
            }
            for u in &v.resources {
                w.add(s, &u.resource, "mean_utilisation", u.mean, "ratio");
                w.add(s, &u.resource, "peak_day_utilisation", u.peak_day, "ratio");
            }
            w.add(s, "storage", "end", v.storage.end_bytes, "bytes");
            if let Some(d) = v.storage.full_on_day {
                w.add(s, "storage", "full_on_day", d, "days");
            }
            w.add(s, "binding", &v.binding.resource, 1, "flag");
            if let Some(c) = &v.cost {
                w.add(s, "cost", "added", c.amount, &c.currency);
            }
            w.add(
                s,
                "checks",
                "littles_law_error",
                v.checks.littles_law_error,
                "ratio",
            );
            w.add(s, "checks", "bytes_read", v.checks.bytes_read, "bytes");
            w.add(
                s,
                "checks",
                "bytes_demanded",
                v.checks.bytes_demanded,
                "bytes",
            );
        }
    }
}
