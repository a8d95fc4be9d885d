//! `cryocap recommend` results as a document and CSV.

use super::document::{Align, Block, Document, Section};
use super::{LongCsv, Render, charts};
use crate::results::Envelope;
use crate::results::recommend::{
    ConstraintsUsed, MeasuredFigure, PrunedConfig, RankedConfig, RecommendReport, WorkloadClass,
};
use crate::units::{bytes_binary, bytes_decimal, group_digits, utc_timestamp};

fn money(v: f64, currency: &str) -> String {
    format!("{} {currency}", group_digits(v.round().max(0.0) as u64))
}

/// Input, the recommendation, the ranking, the frontier, the slowest
/// dataset's jobs, what was left out and the notes.
fn document(r: &RecommendReport) -> Document {
    let mut sections = vec![
        Section::new("Input").with(Block::Pairs(input_pairs(r))),
        recommendation_section(r),
        Section::new("Ranked configurations").with(ranked_table(r)),
        Section::new("Pareto frontier (node price against datasets per month)")
            .with(Block::Bullets(r.frontier.clone())),
    ];
    if let Some(x) = r.ranked.first().filter(|x| !x.jobs.is_empty()) {
        sections.push(slowest_jobs_section(x));
    }
    if !r.pruned.is_empty() {
        sections.push(left_out_section(&r.pruned));
    }
    sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    Document {
        title: format!(
            "cryocap recommend: {} configuration(s) ranked, {} left out",
            r.ranked.len(),
            r.pruned.len()
        ),
        sections,
    }
}

/// The workload, prices, constraints, rate reference, measured figures and
/// the VRAM the workload needs.
fn input_pairs(r: &RecommendReport) -> Vec<(String, String)> {
    let cur = &r.prices.currency;
    let mut input: Vec<(String, String)> = r.workload.iter().map(workload_pair).collect();
    input.push(("prices".into(), format!("{} ({cur})", r.prices.file)));
    if !r.prices.placeholders.is_empty() {
        input.push((
            "placeholder prices".into(),
            r.prices.placeholders.join(", "),
        ));
    }
    input.push(("constraints".into(), constraints(&r.constraints, cur)));
    let label = if r.gpu_reference.starts_with("job-time model") {
        "job times"
    } else {
        "GPU rate reference"
    };
    input.push((label.into(), r.gpu_reference.clone()));
    input.extend(r.measured.iter().map(measured_pair));
    input.push((
        "VRAM needed".into(),
        format!(
            "{} (largest box, most demanding job)",
            bytes_binary(r.vram_needed_bytes)
        ),
    ));
    input
}

/// One workload class: how often, how big, and its chain of jobs.
fn workload_pair(c: &WorkloadClass) -> (String, String) {
    (
        format!("workload: {}", c.name),
        format!(
            "{}/month, {} particles, box {}, {:?}, stack {}; chain {}",
            c.per_month,
            group_digits(c.particles),
            c.box_size,
            c.dtype,
            bytes_decimal(c.stack_bytes),
            c.chain.join(", ")
        ),
    )
}

/// The target, node count, budget and years, and the power price where
/// one was given.
fn constraints(k: &ConstraintsUsed, cur: &str) -> String {
    format!(
        "target {}/month{}, {}, budget {}, over {} years",
        k.target_per_month,
        k.max_hours_per_dataset
            .map_or(String::new(), |h| format!(" and at most {h} h per dataset")),
        match k.nodes {
            Some(n) => format!("exactly {n} node(s)"),
            None => format!("at most {} node(s)", k.max_nodes),
        },
        k.budget.map_or("none".into(), |b| money(b, cur)),
        k.years
    ) + &k.power_price.map_or(String::new(), |p| {
        format!(
            ", power at {p} {cur}/kWh (GPUs at catalog board power + {} W base per node)",
            k.base_power_w.unwrap_or(0.0)
        )
    })
}

/// A measured figure that replaces the model, and where it was measured.
fn measured_pair(m: &MeasuredFigure) -> (String, String) {
    let value = match m.at_box {
        Some(b) => format!(
            "{} particles/s per GPU at box {b}",
            group_digits(m.value.round().max(0.0) as u64)
        ),
        None => format!(
            "{}/s sequential read",
            bytes_decimal(m.value.max(0.0) as u64)
        ),
    };
    (
        format!("measured: {} of {}", m.figure, m.node_type),
        format!(
            "{value}, from {} {} on host {}, {}; replaces the model in {} configuration(s)",
            m.kind,
            m.file,
            m.host,
            m.started_at
                .map_or("time not recorded".into(), utc_timestamp),
            m.applies_to
        ),
    )
}

/// The cheapest configuration meeting the target, then what would change
/// the answer.
fn recommendation_section(r: &RecommendReport) -> Section {
    Section::new("Recommendation").with(Block::Pairs(
        std::iter::once(("cheapest meeting the target".to_string(), answer(r)))
            .chain(
                r.change
                    .iter()
                    .map(|c| ("what would change the answer".to_string(), c.clone())),
            )
            .collect(),
    ))
}

/// The chosen configuration with its price, throughput and cost, or why
/// there is none.
fn answer(r: &RecommendReport) -> String {
    let cur = &r.prices.currency;
    match (&r.chosen, &r.short) {
        (Some(c), _) => {
            let row = r.ranked.iter().find(|x| &x.label == c);
            match row {
                Some(x) => format!(
                    "{} × ({}) for {}: {:.1} datasets/month, {:.1} h per dataset, {:.2} {cur} per dataset",
                    x.nodes,
                    x.label,
                    money(x.fleet_price, cur),
                    x.fleet_datasets_per_month,
                    x.hours_per_dataset,
                    x.cost_per_dataset
                ),
                None => c.clone(),
            }
        }
        (None, Some(s)) => format!("none: {s}"),
        (None, None) => "none".into(),
    }
}

/// Every feasible configuration, one row each, in ranked order.
fn ranked_table(r: &RecommendReport) -> Block {
    let headers = [
        "configuration",
        "job times",
        "storage rate",
        "node price",
        "nodes",
        "fleet price",
        "datasets/month",
        "h/dataset (90 %)",
        "cost/dataset",
        "cost/M particle-passes",
        "bottleneck",
        "meets target",
    ];
    let cur = &r.prices.currency;
    let mut align = vec![Align::Left, Align::Left, Align::Left];
    align.extend([Align::Right; 7]);
    align.extend([Align::Left; 2]);
    Block::Table {
        headers: headers.iter().map(|h| h.to_string()).collect(),
        align,
        rows: r.ranked.iter().map(|x| ranked_row(x, cur)).collect(),
    }
}

/// One ranked configuration's cells; ` *` marks a placeholder price.
fn ranked_row(x: &RankedConfig, cur: &str) -> Vec<String> {
    let mark = if x.placeholder_price { " *" } else { "" };
    vec![
        x.label.clone(),
        x.gpu_rate_basis.clone(),
        x.tier_read_basis
            .clone()
            .unwrap_or_else(|| "modelled".into()),
        format!("{}{mark}", money(x.node_price, cur)),
        x.nodes.to_string(),
        money(x.fleet_price, cur),
        format!("{:.1}", x.fleet_datasets_per_month),
        match (x.hours_low, x.hours_high) {
            (Some(l), Some(h)) => format!("{:.1} ({l:.1}–{h:.1})", x.hours_per_dataset),
            _ => format!("{:.1}", x.hours_per_dataset),
        },
        format!("{:.2} {cur}", x.cost_per_dataset),
        x.cost_per_million_particle_passes
            .map_or("-".into(), |c| format!("{c:.4} {cur}")),
        x.bottleneck.clone(),
        match (x.meets_target, x.within_budget) {
            (true, true) => "yes".into(),
            (true, false) => "over budget".into(),
            (false, _) => "no".into(),
        },
    ]
}

/// The jobs of the slowest dataset on the top-ranked configuration.
fn slowest_jobs_section(x: &RankedConfig) -> Section {
    Section::new(format!("Jobs of the slowest dataset on {}", x.label)).with(Block::table(
        &["job", "hours", "90 % interval", "bottleneck", "basis"],
        "lrrll",
        x.jobs
            .iter()
            .map(|j| {
                vec![
                    j.job.clone(),
                    format!("{:.2}", j.hours),
                    format!("{:.2}–{:.2}", j.low, j.high),
                    j.bottleneck.clone(),
                    j.basis.clone(),
                ]
            })
            .collect(),
    ))
}

/// The configurations left out, each with its reason.
fn left_out_section(pruned: &[PrunedConfig]) -> Section {
    Section::new("Left out").with(Block::Table {
        headers: vec!["configuration".into(), "reason".into()],
        align: vec![Align::Left, Align::Left],
        rows: pruned
            .iter()
            .map(|p| vec![p.label.clone(), p.reason.clone()])
            .collect(),
    })
}

/// The Pareto frontier as an SVG chart: node price against datasets per
/// month per node, one circle per frontier configuration, a cross for each
/// other feasible one.
fn frontier_chart(r: &RecommendReport) -> Option<Block> {
    let point = |x: &RankedConfig| charts::Point {
        label: x.label.clone(),
        x: x.node_price,
        y: x.datasets_per_month_per_node,
    };
    let mut front: Vec<charts::Point> = r
        .frontier
        .iter()
        .filter_map(|f| r.ranked.iter().find(|x| &x.label == f))
        .map(point)
        .collect();
    front.sort_by(|a, b| a.x.total_cmp(&b.x));
    let others: Vec<charts::Point> = r
        .ranked
        .iter()
        .filter(|x| !r.frontier.contains(&x.label))
        .map(point)
        .collect();
    if front.is_empty() {
        return None;
    }
    let cur = r.prices.currency.clone();
    let svg = charts::frontier(
        "Pareto frontier: node price against throughput",
        &format!("node price ({cur}, from {})", r.prices.file),
        "datasets/month per node",
        &front,
        &others,
        &|v| group_digits(v.round().max(0.0) as u64),
    )
    .ok()?;
    Some(Block::Chart {
        caption: format!(
            "{} frontier configuration(s) (circles, joined) and {} dominated (grey crosses): no configuration is both cheaper and faster than a circle",
            front.len(),
            others.len()
        ),
        svg,
    })
}

/// One ranked configuration's figures as CSV rows (money in `cur`).
fn ranked_csv(x: &RankedConfig, on_frontier: bool, cur: &str, w: &mut LongCsv) {
    let mut add =
        |metric: &str, value: String, unit: &str| w.add("ranked", &x.label, metric, value, unit);
    add("node_price", x.node_price.to_string(), cur);
    add("nodes", x.nodes.to_string(), "nodes");
    add("fleet_price", x.fleet_price.to_string(), cur);
    add(
        "datasets_per_month_per_node",
        x.datasets_per_month_per_node.to_string(),
        "datasets/month",
    );
    add(
        "fleet_datasets_per_month",
        x.fleet_datasets_per_month.to_string(),
        "datasets/month",
    );
    add("hours_per_dataset", x.hours_per_dataset.to_string(), "h");
    add("cost_per_dataset", x.cost_per_dataset.to_string(), cur);
    if let Some(h) = x.fill_hours_per_dataset {
        add("fill_hours_per_dataset", h.to_string(), "h");
    }
    if let Some(w) = x.node_power_w {
        add("node_power", w.to_string(), "W");
    }
    if let Some(e) = x.energy_per_dataset {
        add("energy_per_dataset", e.to_string(), cur);
    }
    if let Some(c) = x.cost_per_million_particle_passes {
        add("cost_per_million_particle_passes", c.to_string(), cur);
    }
    if let Some(h) = x.slowest_hours_per_dataset {
        add("slowest_hours_per_dataset", h.to_string(), "h");
    }
    if let Some(m) = &x.misses {
        add("misses", m.clone(), "");
    }
    add("bottleneck", x.bottleneck.clone(), "");
    add("gpu_rate_basis", x.gpu_rate_basis.clone(), "");
    if let Some(v) = x.gpu_particles_per_second {
        add("gpu_particles_per_second", v.to_string(), "particles/s");
    }
    if let Some(v) = x.tier_read_bytes_per_second {
        add("tier_read_bytes_per_second", v.to_string(), "bytes/s");
    }
    if let Some(v) = &x.tier_read_basis {
        add("tier_read_basis", v.clone(), "");
    }
    add("meets_target", x.meets_target.to_string(), "");
    add("within_budget", x.within_budget.to_string(), "");
    add("on_frontier", on_frontier.to_string(), "");
}

impl Render for RecommendReport {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    fn charts(&self, _: &Envelope) -> Vec<Block> {
        frontier_chart(self).into_iter().collect()
    }
    fn csv(&self, w: &mut LongCsv) {
        let cur = self.prices.currency.as_str();
        w.add("input", "vram", "needed", self.vram_needed_bytes, "bytes");
        w.add(
            "input",
            "target",
            "datasets_per_month",
            self.constraints.target_per_month,
            "datasets/month",
        );
        for x in &self.ranked {
            let on_frontier = self.frontier.contains(&x.label);
            ranked_csv(x, on_frontier, cur, w);
        }
        for p in &self.pruned {
            w.add("pruned", &p.label, "reason", p.reason.clone(), "");
        }
        for m in &self.measured {
            let item = format!("{} of {}", m.figure, m.node_type);
            w.add("measured", &item, "value", m.value, &m.unit);
            w.add("measured", &item, "file", m.file.clone(), "");
            w.add("measured", &item, "host", m.host.clone(), "");
            if let Some(s) = m.started_at {
                w.add("measured", &item, "started_at", s, "s");
            }
        }
        if let Some(c) = &self.chosen {
            w.add("recommendation", c, "chosen", "true", "");
        }
    }
}
