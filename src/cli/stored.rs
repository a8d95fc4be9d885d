//! Flags of the commands over stored results: `compare`, `history`, `report`.

use std::path::PathBuf;

use clap::Args;

use super::values::{self, Percent};
use super::{FormatArg, JunitArg, OutputFiles};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASELINE.json CURRENT.json, or only CURRENT.json with --history.
    #[arg(value_name = "FILES", num_args = 1..=2, required = true)]
    pub files: Vec<PathBuf>,
    /// Change that counts, as a percentage.
    #[arg(long, value_name = "PCT", default_value_t = Percent(5.0),
          value_parser = values::percent(0.0, 1000.0))]
    pub threshold: Percent,
    /// Compare against the node's recent runs in this history database.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// How many recent runs make the baseline.
    #[arg(long, value_name = "N", requires = "history", default_value_t = 5,
          value_parser = values::count::<usize>(1, 1000))]
    pub last: usize,
    /// Format of what is printed on stdout.
    #[arg(long, value_enum, default_value_t = FormatArg::Markdown)]
    pub format: FormatArg,
    #[command(flatten)]
    pub junit: JunitArg,
    #[command(flatten)]
    pub files_out: OutputFiles,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history database.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results JSON file written by cryocap (any command, any schema version).
    #[arg(value_name = "RESULTS.json")]
    pub results: PathBuf,
    /// Format to render it in [default: from -o's extension (.html, .md,
    /// .csv, .json, .txt), else html].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write to FILE instead of stdout (`-` is stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
