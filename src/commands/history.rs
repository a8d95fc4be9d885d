//! `cryocap history`: the runs stored in a history database.

use std::io::Write;

use super::output::{emit_document, list_format};
use super::{CommandError, Outcome};
use crate::cli::HistoryArgs;
use crate::history::History;
use crate::report::writer::{self, Destination};
use crate::report::{Block, Document, Format, Section};
use crate::units;

pub(super) fn run(a: &HistoryArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let runs = History::open_existing(&a.file)?.list()?;
    let format = list_format(a.format);
    if format == Format::Json {
        let text =
            serde_json::to_string_pretty(&runs).map_err(crate::report::ReportError::from)? + "\n";
        writer::write(&Destination::Stdout, text.as_bytes(), out)?;
        return Ok(Outcome::Ok);
    }
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
    emit_document(&doc, format, "history", out)?;
    Ok(Outcome::Ok)
}
