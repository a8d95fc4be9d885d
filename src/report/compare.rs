//! A comparison as a document (Markdown fits a CI step summary).

use super::document::{Block, Document, Section};
use super::values::value;
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::compare::{Change, Comparison};

impl Render for Comparison {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    /// One item per metric: baseline, current, change, and the verdict.
    fn csv(&self, w: &mut LongCsv) {
        for r in &self.rows {
            w.add("metric", &r.id, "baseline", r.baseline, &r.unit);
            w.add("metric", &r.id, "current", r.current, &r.unit);
            w.add("metric", &r.id, "relative_change", r.relative_change, "");
            w.add("metric", &r.id, "change", change_label(r.change), "");
        }
        for m in &self.missing {
            w.add("missing", m, "in_current", false, "");
        }
        for m in &self.added {
            w.add("added", m, "in_baseline", false, "");
        }
    }
}

fn change_label(c: Change) -> &'static str {
    match c {
        Change::Regression => "REGRESSION",
        Change::Improvement => "improvement",
        Change::WithinNoise => "within noise",
        Change::Unchanged => "unchanged",
    }
}

fn document(c: &Comparison) -> Document {
    let (baseline, current) = (&c.baseline, &c.current);
    let rows = c
        .rows
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                value(&r.unit, &r.id, r.baseline),
                value(&r.unit, &r.id, r.current),
                format!("{:+.1}%", 100.0 * r.relative_change),
                change_label(r.change).to_string(),
            ]
        })
        .collect();
    let mut sections = vec![
        Section::new(format!(
            "{} regression{} beyond {:.1}%",
            c.regressions(),
            if c.regressions() == 1 { "" } else { "s" },
            100.0 * c.threshold
        ))
        .with(Block::Text(format!(
            "baseline: {baseline}; current: {current}. A regression is a change for the worse \
             beyond the threshold whose sample range does not overlap the baseline's."
        )))
        .with(Block::table(
            &["metric", "baseline", "current", "change", "verdict"],
            "lrrrl",
            rows,
        )),
    ];
    if !c.missing.is_empty() || !c.added.is_empty() {
        let mut items = Vec::new();
        if !c.missing.is_empty() {
            items.push(format!(
                "missing from the current run: {}",
                c.missing.join(", ")
            ));
        }
        if !c.added.is_empty() {
            items.push(format!("new in the current run: {}", c.added.join(", ")));
        }
        sections.push(Section::new("Metrics not compared").with(Block::Bullets(items)));
    }
    Document {
        title: "cryocap compare".into(),
        sections,
    }
}
