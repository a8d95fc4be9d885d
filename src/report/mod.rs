//! One results model in, every format out. Each kind of result has a
//! [`Render`]: a format-neutral [`Document`] (with charts for HTML) and its
//! figures in long CSV form, built only from what the result stores, so
//! that re-rendering last year's JSON shows last year's figures. The
//! [`Exporter`]s turn an [`Envelope`] into text, Markdown, HTML, CSV or
//! JSON; [`writer`] puts the bytes on stdout or into a file atomically.

mod bench_gpu;
mod cache;
pub(crate) mod catalog;
mod charts;
mod compare;
mod document;
mod facility;
mod fit;
mod fleet;
mod job_run;
mod jobtime;
mod junit;
mod long_csv;
mod movies;
mod openmetrics;
mod plan;
mod qualify;
mod recommend;
mod reconstruct;
mod storage;
mod sweep_chart;
pub(crate) mod values;
pub mod writer;

pub use document::{Align, Block, Document, Section};
pub use long_csv::LongCsv;
pub use sweep_chart::sweep_svg;

use crate::results::{Envelope, Kind};

/// The formats every result renders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    Markdown,
    /// One self-contained page with inline SVG charts.
    Html,
    /// Long form: `section,item,metric,value,unit`.
    Csv,
    /// The envelope itself.
    Json,
    /// Gauges for Prometheus' textfile collector (qualify and the benches).
    OpenMetrics,
    /// JUnit XML for CI (qualify, compare, fleet).
    Junit,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not encode the results as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("a {0} result has no {1} form")]
    NoSuchFormat(&'static str, &'static str),
}

/// A kind of result, rendered from what it stores.
pub trait Render {
    /// The result as a document; `header` says where and when it was made.
    fn document(&self, header: &Envelope) -> Document;
    /// Charts for the HTML page, after the document's first section.
    fn charts(&self, _header: &Envelope) -> Vec<Block> {
        Vec::new()
    }
    /// Every figure as `section,item,metric,value,unit` rows.
    fn csv(&self, rows: &mut LongCsv);
}

/// The [`Render`] of the result an envelope holds.
pub fn render_of(kind: &Kind) -> &dyn Render {
    match kind {
        Kind::Plan(r) => r,
        Kind::BenchIo(r) => r,
        Kind::BenchGpu(r) => r,
        Kind::CacheSimulate(r) => r,
        Kind::CacheSweep(r) => r,
        Kind::CacheSubset(r) => r,
        Kind::CacheCopyBench(r) => r,
        Kind::Reconstruct(r) => r,
        Kind::Qualify(r) => r,
        Kind::Fleet(r) => r,
        Kind::Compare(r) => r,
        Kind::StackCreate(r) => r,
        Kind::MoviesPlan(r) => r,
        Kind::MoviesCreate(r) => r,
        Kind::BenchMovies(r) => r,
        Kind::StackInfo(r) => r,
        Kind::Probe(r) => r,
        Kind::Fit(r) => r.as_ref(),
        Kind::Recommend(r) => r.as_ref(),
        Kind::JobRun(r) => r.as_ref(),
        Kind::JobPredict(r) => r.as_ref(),
        Kind::JobValidate(r) => r.as_ref(),
        Kind::Facility(r) => r.as_ref(),
    }
}

/// Turns a result into the bytes of one format.
pub trait Exporter {
    fn export(&self, result: &Envelope) -> Result<String, ReportError>;
}

struct TableExporter;
struct MarkdownExporter;
struct HtmlExporter;
struct CsvExporter;
struct JsonExporter;
struct OpenMetricsExporter;
struct JunitExporter;

impl Exporter for TableExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        Ok(render_of(&r.kind).document(r).to_text())
    }
}

impl Exporter for MarkdownExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        Ok(render_of(&r.kind).document(r).to_markdown())
    }
}

impl Exporter for HtmlExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        let render = render_of(&r.kind);
        let mut doc = render.document(r);
        let charts = render.charts(r);
        if !charts.is_empty() {
            let mut sec = Section::new("Charts");
            sec.blocks = charts;
            doc.sections.insert(1.min(doc.sections.len()), sec);
        }
        Ok(doc.to_html())
    }
}

impl Exporter for CsvExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        let mut rows = LongCsv::default();
        render_of(&r.kind).csv(&mut rows);
        Ok(rows.finish()?)
    }
}

impl Exporter for JsonExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        Ok(serde_json::to_string_pretty(r)? + "\n")
    }
}

impl Exporter for OpenMetricsExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        openmetrics::openmetrics(r)
    }
}

impl Exporter for JunitExporter {
    fn export(&self, r: &Envelope) -> Result<String, ReportError> {
        junit::junit(r)
    }
}

/// The exporter of a format.
pub fn exporter(format: Format) -> &'static dyn Exporter {
    match format {
        Format::Table => &TableExporter,
        Format::Markdown => &MarkdownExporter,
        Format::Html => &HtmlExporter,
        Format::Csv => &CsvExporter,
        Format::Json => &JsonExporter,
        Format::OpenMetrics => &OpenMetricsExporter,
        Format::Junit => &JunitExporter,
    }
}

/// A result in one format.
pub fn render(result: &Envelope, format: Format) -> Result<String, ReportError> {
    exporter(format).export(result)
}

/// A document that is not a result (catalog, history) in one of the
/// document formats; None for CSV and JSON.
pub fn render_document(doc: &Document, format: Format) -> Option<String> {
    match format {
        Format::Table => Some(doc.to_text()),
        Format::Markdown => Some(doc.to_markdown()),
        Format::Html => Some(doc.to_html()),
        Format::Csv | Format::Json | Format::OpenMetrics | Format::Junit => None,
    }
}
