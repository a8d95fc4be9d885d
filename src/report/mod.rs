//! One results model in, many formats out. Text and Markdown are rendered
//! from a format-neutral [`Document`] built from the results; JSON is the
//! model itself; CSV is the model's numbers in long form.

pub mod cache_doc;
pub mod catalog_doc;
pub mod charts;
pub mod compare_doc;
pub mod csv_out;
pub mod document;
pub mod fleet_doc;
pub mod gpu_doc;
pub mod io_doc;
pub mod plan_doc;
pub mod qualify_doc;
pub mod reconstruct_doc;
pub mod values;

pub use document::{Align, Block, Document, Section};

use crate::results::PlanReport;

/// Output formats every command that reports accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" | "text" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "'{other}' is not a format; use table, json, markdown or csv"
            )),
        }
    }
}

/// Renders a plan in `format`.
pub fn render_plan(report: &PlanReport, format: Format) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Table => plan_doc::document(report).to_text(),
        Format::Markdown => plan_doc::document(report).to_markdown(),
        Format::Json => serde_json::to_string_pretty(report)? + "\n",
        Format::Csv => csv_out::plan(report),
    })
}
