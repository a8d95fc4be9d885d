//! The command line as clap derive types, with typed values ([`values`]):
//! every flag is parsed and range-checked here, once, and its default is
//! written once (shown in `--help`). Only `commands` reads these types.
//!
//! One name, one meaning, in every command (fio's words where fio has one):
//! `--box` is a box size (or a list of them where a command takes several),
//! `--gpu` a GPU model from the catalog, `--gpus` the GPUs of a node,
//! `--ssd` the size of an SSD and `--ssd-dir` a directory on one,
//! `--ssd-quota`/`--ssd-reserve` CryoSPARC's cache quota and reserve,
//! `--reserve` the free space a writer leaves, `--particles-per-file` the
//! particles of one stack file, `--repeats` the repeats of a measurement,
//! `--iodepth`, `--runtime` and `--ramp-time` as in fio, `--threads`
//! worker threads. Older spellings still work for this release, hidden,
//! with a notice on stderr ([`deprecated`]).
//!
//! Flags that several commands take with the same help, default and range
//! are one group, flattened into each: [`OutputArgs`], [`HistoryArg`],
//! [`OpenMetricsArg`], [`JunitArg`], [`CalibrationArg`], [`MovieShapeArgs`]
//! and `cache`'s `CacheLimits`. The dataset flags (`--particles`, `--box`,
//! `--dtype`), the GPU flags (`--gpu`, `--gpus`, `--vram`,
//! `--ranks-per-gpu`) and the node flags (`--ram`, `--cores`) are not: each
//! command says in its help what the value is for there (plan: the dataset,
//! fit: or read from --particles-file, recommend: the recurring dataset),
//! and several differ in default, range or whether they take a list, so one
//! group would change `--help`. Their values share the parsers of
//! [`values`] and the limits of `crate::sizing` instead.

mod bench;
mod cache;
pub mod deprecated;
mod facility;
mod fit;
mod fleet;
mod jobs;
mod movies;
mod plan;
mod qualify;
mod recommend;
mod shell;
mod stack;
mod stored;
pub mod values;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use bench::{BenchAppArgs, BenchCommand, BenchGpuArgs, BenchIoArgs};
pub use cache::{
    CacheCommand, CacheSimulateArgs, CacheSubsetArgs, CacheWorkloadArgs, CopyBenchArgs,
};
pub use facility::FacilityArgs;
pub use fit::FitArgs;
pub use fleet::{FleetCommand, FleetReportArgs, FleetSharedReadArgs, FleetSubmitArgs};
pub use jobs::{
    CalibrateArgs, CalibrationArg, CopyArg, JobsCommand, JobsImportArgs, JobsPredictArgs,
    JobsValidateArgs,
};
pub use movies::{
    BenchMoviesArgs, MovieFormatArg, MovieShapeArgs, MoviesCommand, MoviesCreateArgs,
    MoviesPlanArgs,
};
pub use plan::{PlanArgs, SizeModelArg};
pub use qualify::QualifyArgs;
pub use recommend::RecommendArgs;
pub use shell::{CompletionsArgs, ManpagesArgs, ShellArg};
pub use stack::{ProbeArgs, StackCommand, StackCreateArgs, StackInfoArgs};
pub use stored::{CompareArgs, HistoryArgs, ReportArgs};

#[derive(Debug, Parser)]
#[command(
    name = "cryocap",
    version,
    about = "Capacity planning and benchmarking for cryo-EM processing nodes",
    long_about = "Capacity planning and benchmarking for cryo-EM processing nodes.\n\n\
                  Start with `cryocap plan --particles 2e6 --box 432`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Size a particle dataset: stack bytes, SSD cache, VRAM per job type,
    /// hours per pass on each storage tier, and the node it needs.
    Plan(Box<PlanArgs>),
    /// List the data cryocap ships: GPUs, storage tiers, datasets, VRAM job models, SSD sizes.
    Catalog(CatalogArgs),
    /// Fit one job to a node and its scheduler: VRAM per rank and GPU, MIG
    /// slice, RAM, threads, scratch, and the #SBATCH, RELION and CryoSPARC
    /// lines to ask for it; exit 1 when it does not fit.
    Fit(Box<FitArgs>),
    /// Which node configuration to buy for a lab's monthly workload, a price list and a budget.
    Recommend(Box<RecommendArgs>),
    /// Simulate a whole facility over a month (or --days): microscopes,
    /// labs, queues, shared storage; time from session to structure, the
    /// binding resource, and what-ifs side by side.
    Facility(Box<FacilityArgs>),
    /// Reconstruct a 3D volume from a RELION particles STAR file and the MRC
    /// stacks it names (trilinear Fourier insertion on the CPU or a GPU).
    Reconstruct(Box<ReconstructArgs>),
    /// SSD cache planning: replay a job trace against a cache (or a range of
    /// SSD sizes), generate a workload trace, size a particle subset, and
    /// measure cache-fill copy threads.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Measure this node, hold it against a requirement profile, and report.
    Qualify(Box<QualifyArgs>),
    /// Compare results against a baseline (or the history); exit 1 on regression.
    Compare(CompareArgs),
    /// List the runs stored in a history database.
    History(HistoryArgs),
    /// Render a results JSON file again, as HTML, Markdown, CSV, JSON or a table.
    Report(ReportArgs),
    /// Qualify every node of a Slurm cluster through a job array, and merge the results.
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Write real MRC2014 particle stacks of seeded noise, or check existing ones.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Describe the storage under a path: mount, file system, device, RAID, free space, O_DIRECT.
    Probe(ProbeArgs),
    /// Measure what this node delivers.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Movies for pre-processing: size a collection, write synthetic movies in the detectors' formats.
    #[command(subcommand)]
    Movies(MoviesCommand),
    /// Refit the job-time model on the shipped rows and your own runs, and
    /// write the calibration every command that times a job reads.
    Calibrate(CalibrateArgs),
    /// Job times: predict a job's time from the calibrated model, validate the
    /// model, and import real runs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Print a shell completion script: `source <(cryocap completions bash)`.
    Completions(CompletionsArgs),
    /// Write a man page for cryocap and each of its commands into a directory.
    Manpages(ManpagesArgs),
}

impl Command {
    /// The subcommand's words, e.g. `["cache", "simulate"]`.
    pub fn path(&self) -> Vec<&'static str> {
        match self {
            Command::Plan(_) => vec!["plan"],
            Command::Fit(_) => vec!["fit"],
            Command::Catalog(_) => vec!["catalog"],
            Command::Reconstruct(_) => vec!["reconstruct"],
            Command::Recommend(_) => vec!["recommend"],
            Command::Facility(_) => vec!["facility"],
            Command::Cache(c) => vec!["cache", c.name()],
            Command::Qualify(_) => vec!["qualify"],
            Command::Compare(_) => vec!["compare"],
            Command::History(_) => vec!["history"],
            Command::Report(_) => vec!["report"],
            Command::Fleet(c) => vec!["fleet", c.name()],
            Command::Stack(c) => vec!["stack", c.name()],
            Command::Probe(_) => vec!["probe"],
            Command::Bench(c) => vec!["bench", c.name()],
            Command::Movies(c) => vec!["movies", c.name()],
            Command::Jobs(c) => vec!["jobs", c.name()],
            Command::Calibrate(_) => vec!["calibrate"],
            Command::Completions(_) => vec!["completions"],
            Command::Manpages(_) => vec!["manpages"],
        }
    }
}

/// Formats of what a command prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned text for a terminal.
    Table,
    /// The results file: one JSON document (see docs/json.md).
    Json,
    Markdown,
    /// Long form: section,item,metric,value,unit.
    Csv,
    /// A self-contained page with charts.
    Html,
}

/// Where a result goes: stdout in one format, and any number of files.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Format of what is printed on stdout.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub files: OutputFiles,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The result written to files, each atomically, besides stdout; `-` is stdout.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputFiles {
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// Also write the results as Markdown to FILE (e.g. a CI step summary).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<std::path::PathBuf>,
    /// Also write the results as CSV (long form) to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// `--openmetrics`, set by the commands that take it ([`OpenMetricsArg`]).
    #[arg(skip)]
    pub openmetrics: Option<std::path::PathBuf>,
    /// `--junit`, set by the commands that take it ([`JunitArg`]).
    #[arg(skip)]
    pub junit: Option<std::path::PathBuf>,
}

/// `--openmetrics`: on the commands that measure (qualify, the benches).
#[derive(Debug, Clone, Default, Args)]
pub struct OpenMetricsArg {
    /// Also write the figures as OpenMetrics gauges to FILE, atomically (for
    /// node_exporter's textfile collector: a `*.prom` file in its directory).
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<std::path::PathBuf>,
}

/// `--junit`: on the commands that decide pass or fail (qualify, compare,
/// fleet report).
#[derive(Debug, Clone, Default, Args)]
pub struct JunitArg {
    /// Also write the checks as JUnit XML to FILE (one test case per check;
    /// FAIL a failure, NOT MEASURED skipped), for a CI system's test report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
}

/// The SQLite history a measurement is stored in.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryArg {
    /// Store this run in the SQLite history FILE (created when absent).
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
}

/// Pixel type of particles on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    /// float32, MRC mode 2.
    #[value(alias = "float32")]
    F32,
    /// float16, MRC mode 12.
    #[value(alias = "float16")]
    F16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogKind {
    Gpus,
    Storage,
    Datasets,
    Jobs,
    Ssd,
    /// Direct electron detectors: frame sizes, frame rates, formats.
    Detectors,
}

/// Formats `catalog` prints: its tables are documents, not results files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormatArg {
    Table,
    Markdown,
    Html,
    /// Refused with a message saying what catalog writes.
    #[value(hide = true)]
    Json,
    #[value(hide = true)]
    Csv,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// What to list.
    #[arg(value_enum)]
    pub kind: CatalogKind,
    /// Output format (table, markdown or html).
    #[arg(long, value_enum, default_value_t = CatalogFormatArg::Table)]
    pub format: CatalogFormatArg,
}

/// Where the Fourier insertion of `reconstruct` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The CPU reference implementation.
    Cpu,
    /// GPU 0 through CUDA; needs an NVIDIA driver.
    Gpu,
}

/// What reconstruct does with an image holding NaN or infinite pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NonFiniteArg {
    /// Stop, naming the stack and the image.
    Refuse,
    /// Leave the image out; the result says how many.
    Skip,
}

/// Padding factor of the Fourier grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PadArg {
    #[value(name = "1")]
    One,
    #[value(name = "2")]
    Two,
}

impl PadArg {
    pub fn factor(self) -> u32 {
        match self {
            PadArg::One => 1,
            PadArg::Two => 2,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// RELION particles STAR file (_rlnImageName, _rlnAngleRot/Tilt/Psi, origins).
    #[arg(long, value_name = "FILE")]
    pub star: std::path::PathBuf,
    /// MRC volume to write (float32, ISPG 1), replaced atomically.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Where the Fourier insertion runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Deprecated spelling of `--backend cpu`.
    #[arg(long, hide = true, conflicts_with_all = ["gpu", "backend"])]
    pub cpu: bool,
    /// Deprecated spelling of `--backend gpu`.
    #[arg(long, hide = true, conflicts_with = "backend")]
    pub gpu: bool,
    /// Padding factor of the Fourier grid.
    #[arg(long, value_enum, default_value_t = PadArg::Two)]
    pub pad: PadArg,
    /// Insertion threads on the CPU; with `--backend gpu`, the threads
    /// reading the stacks [default: the cores, at most 8].
    #[arg(long, value_name = "N", value_parser = values::count::<usize>(1, 256))]
    pub threads: Option<usize>,
    /// With `--backend gpu`: read the stacks through the page cache instead
    /// of with O_DIRECT (used where the file system allows it).
    #[arg(long)]
    pub buffered: bool,
    /// Directory the STAR file's stack names are relative to [default: the
    /// working directory, else the STAR file's].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Å per pixel, overriding the STAR file and the stack headers.
    #[arg(long, value_name = "Å", value_parser = values::pixel_size)]
    pub angpix: Option<f64>,
    /// An image holding NaN or infinite pixels: refuse (naming it) or skip it.
    #[arg(long, value_enum, default_value_t = NonFiniteArg::Refuse)]
    pub non_finite: NonFiniteArg,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

/// The command tree, with negative numbers taken as values, so that
/// `--box -5` reaches the box parser and is refused with its message.
pub fn command() -> clap::Command {
    fn negative_numbers_are_values(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            if a.get_action().takes_values() {
                a.allow_negative_numbers(true)
            } else {
                a
            }
        })
        .mut_subcommands(negative_numbers_are_values)
    }
    negative_numbers_are_values(<Cli as clap::CommandFactory>::command())
}

/// Parses a command line (the program name first).
pub fn parse_from<I, T>(argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let root = command();
    let argv = negative_values_attached(&root, argv.into_iter().map(Into::into).collect());
    let matches = root.try_get_matches_from(argv)?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}

/// `argv` with a negative value that has a unit (`--ssd -1TB`,
/// `--threshold -5%`) attached to its option as `--ssd=-1TB`, so that the
/// option's parser refuses it by name; clap would take `-1TB` for an unknown
/// flag. Only long options of the command that take one value are joined,
/// and nothing after `--`.
fn negative_values_attached(
    root: &clap::Command,
    argv: Vec<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut cmd = root;
    let mut out: Vec<std::ffi::OsString> = Vec::with_capacity(argv.len());
    let mut rest = argv.into_iter();
    while let Some(arg) = rest.next() {
        let text = arg.to_string_lossy().into_owned();
        if text == "--" {
            out.push(arg);
            out.extend(rest);
            break;
        }
        if let Some(sub) = cmd.find_subcommand(&text) {
            cmd = sub;
            out.push(arg);
            continue;
        }
        let takes_one = text.strip_prefix("--").is_some_and(|long| {
            cmd.get_arguments().any(|a| {
                a.get_long() == Some(long)
                    && a.get_action().takes_values()
                    && a.get_num_args().is_none_or(|r| r.max_values() == 1)
            })
        });
        let next_is_negative = rest.as_slice().first().is_some_and(|v| {
            let v = v.to_string_lossy();
            v.len() > 1
                && v.starts_with('-')
                && v[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
        });
        match (takes_one, next_is_negative) {
            (true, true) => {
                let value = rest.next().unwrap_or_default();
                let mut joined = arg;
                joined.push("=");
                joined.push(value);
                out.push(joined);
            }
            _ => out.push(arg),
        }
    }
    out
}

/// The leading words of `argv` (after the program name) that name
/// subcommands: `["cache", "simulate"]`.
pub(crate) fn command_words(argv: &[std::ffi::OsString]) -> Vec<String> {
    let root = command();
    let mut cmd = &root;
    let mut words = Vec::new();
    for word in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        match cmd.find_subcommand(word.as_ref()) {
            Some(sub) => {
                words.push(sub.get_name().to_string());
                cmd = sub;
            }
            None => break,
        }
    }
    words
}

/// The command `words` name below `root`, if they do.
pub(crate) fn find_command<'a, S: AsRef<str>>(
    root: &'a clap::Command,
    words: &[S],
) -> Option<&'a clap::Command> {
    words
        .iter()
        .try_fold(root, |cmd, w| cmd.find_subcommand(w.as_ref()))
}

/// A clap error as one line: its message, the required arguments it lists,
/// and its tips; without the usage block and the pointer to `--help`.
pub fn one_line(e: &clap::Error) -> String {
    one_line_of(e, &[])
}

/// [`one_line`] for the command line `argv`: a command given without its
/// subcommand is named with the subcommands it takes, instead of its whole
/// help squeezed into one line.
pub fn one_line_of(e: &clap::Error, argv: &[std::ffi::OsString]) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let root = command();
        let words = command_words(argv);
        let subs: Vec<&str> = find_command(&root, &words)
            .into_iter()
            .flat_map(|cmd| cmd.get_subcommands())
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .map(|s| s.get_name())
            .collect();
        if !subs.is_empty() {
            let name = std::iter::once("cryocap")
                .chain(words.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            return format!(
                "error: `{name}` needs a command: {}; see {name} --help",
                subs.join(", ")
            );
        }
    }
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n") {
        let p = paragraph.trim();
        if p.is_empty() || p.starts_with("Usage:") || p.starts_with("For more information") {
            continue;
        }
        let joined = p.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        parts.push(joined);
    }
    let line = parts.join("; ");
    if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_line(args: &[&str]) -> String {
        let argv = std::iter::once("cryocap").chain(args.iter().copied());
        one_line(&parse_from(argv).expect_err("a usage error"))
    }

    #[test]
    fn the_command_tree_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn usage_errors_are_one_line_naming_the_flag() {
        let l = error_line(&["plan", "--particles", "1e6", "--box", "-5"]);
        assert!(
            !l.contains('\n') && l.starts_with("error:") && l.contains("--box"),
            "{l}"
        );
        let l = error_line(&["plan", "--boxx", "4"]);
        assert!(
            !l.contains('\n') && l.contains("--boxx") && l.contains("'--box'"),
            "{l}"
        );
        let l = error_line(&["stack", "create"]);
        assert!(
            !l.contains('\n') && l.contains("--dir") && l.contains("--particles"),
            "{l}"
        );
    }

    #[test]
    fn negative_values_with_units_reach_their_parser() {
        for (flag, value) in [
            ("--ssd", "-1TB"),
            ("--particles", "-1M"),
            ("--ssd", "-.5TB"),
        ] {
            let mut args = vec!["plan", "--box", "256", flag, value];
            if flag == "--ssd" {
                args.extend(["--particles", "1e6"]);
            }
            let l = error_line(&args);
            assert!(l.contains(flag) && l.contains("negative"), "{l}");
        }
        let l = error_line(&["compare", "a.json", "--threshold", "-5%"]);
        assert!(l.contains("--threshold"), "{l}");
        // a flag name is never taken for a value, and nothing after `--` is joined
        let l = error_line(&["plan", "--box", "--particles", "5"]);
        assert!(l.contains("a value is required for '--box"), "{l}");
        let joined = negative_values_attached(
            &command(),
            ["cryocap", "fleet", "submit", "--", "--gpus", "-1"]
                .map(std::ffi::OsString::from)
                .to_vec(),
        );
        assert_eq!(joined.len(), 6);
    }

    #[test]
    fn defaults_are_declared_once_and_parse() {
        let Cli {
            command: Command::Plan(p),
        } = parse_from(["cryocap", "plan"]).unwrap()
        else {
            panic!("plan")
        };
        assert_eq!((p.gpus, p.passes), (4, 20));
        assert_eq!(
            p.ssd_reserve,
            values::CryosparcMb(10_000 * crate::units::MIB)
        );
        let Cli {
            command: Command::Bench(BenchCommand::Io(b)),
        } = parse_from(["cryocap", "bench", "io", "--dir", "."]).unwrap()
        else {
            panic!("bench io")
        };
        assert_eq!(b.ramp_time, std::time::Duration::from_secs(1));
        assert_eq!(b.pattern.len(), 2);
    }
}
