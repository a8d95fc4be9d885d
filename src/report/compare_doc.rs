//! A comparison as a document (Markdown fits a CI step summary).

use super::document::{Block, Document, Section};
use super::values::value;
use crate::results::compare::{Change, Comparison};

pub fn document(c: &Comparison, baseline: &str, current: &str) -> Document {
    let rows = c
        .rows
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                value(&r.unit, &r.id, r.baseline),
                value(&r.unit, &r.id, r.current),
                format!("{:+.1}%", 100.0 * r.relative_change),
                match r.change {
                    Change::Regression => "REGRESSION",
                    Change::Improvement => "improvement",
                    Change::WithinNoise => "within noise",
                    Change::Unchanged => "unchanged",
                }
                .to_string(),
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
