//! `cryocap history`: the runs stored in a history database.

use std::io::Write;

use super::output::{emit_document, format};
use super::{CommandError, Outcome};
use crate::cli::HistoryArgs;
use crate::history::History;
use crate::report::writer::{self, Destination};
use crate::report::{Block, Document, Format, LongCsv, ReportError, Section};
use crate::units;

pub(super) fn run(a: &HistoryArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let listed = History::open_existing(&a.file)?.list()?;
    super::output::notice_unreadable(&a.file, &listed.unreadable);
    let runs = listed.runs;
    let text = match format(a.format) {
        Format::Json => serde_json::to_string_pretty(&runs).map_err(ReportError::from)? + "\n",
        Format::Csv => {
            let mut w = LongCsv::default();
            for r in &runs {
                let id = r.id.to_string();
                w.add("run", &id, "recorded_at", r.recorded_at, "s since 1970");
                w.add("run", &id, "node", &r.node, "");
                w.add("run", &id, "kind", &r.kind, "");
                w.add("run", &id, "metrics", r.metrics, "metrics");
            }
            w.finish().map_err(ReportError::from)?
        }
        f => {
            let rows = runs
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        units::utc_timestamp(r.recorded_at),
                        r.node.clone(),
                        r.kind.clone(),
                        r.metrics.to_string(),
                    ]
                })
                .collect();
            let doc = Document {
                title: format!("cryocap history {}: {} runs", a.file.display(), runs.len()),
                sections: vec![Section::new("").with(Block::table(
                    &["run", "recorded", "node", "kind", "metrics"],
                    "rrllr",
                    rows,
                ))],
            };
            return emit_document(&doc, f, "history", out).map(|()| Outcome::Ok);
        }
    };
    writer::write(&Destination::Stdout, text.as_bytes(), out)?;
    Ok(Outcome::Ok)
}
