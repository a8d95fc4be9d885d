//! `cryocap movies create` and `cryocap bench movies` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::values;
use super::{HistoryArg, OpenMetricsArg, OutputArgs};
use crate::storage::space::Reserve;

#[derive(Debug, Subcommand)]
pub enum MoviesCommand {
    /// Size a collection: bytes per movie, session, day and year; the read and decode rates and cores pre-processing needs.
    Plan(Box<MoviesPlanArgs>),
    /// Write synthetic counting-mode movies (LZW TIFF, EER, MRC or bzip2 MRC) and a gain reference.
    Create(Box<MoviesCreateArgs>),
}

impl MoviesCommand {
    pub fn name(&self) -> &'static str {
        match self {
            MoviesCommand::Plan(_) => "plan",
            MoviesCommand::Create(_) => "create",
        }
    }
}

/// Movie file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MovieFormatArg {
    /// Multi-page TIFF of 8-bit counts, LZW-compressed (K2/K3 as SerialEM and EPU write them).
    TiffLzw,
    /// Electron Event Representation (Falcon 4/4i): one TIFF directory per detector frame.
    Eer,
    /// MRC, one section per frame (--mode).
    Mrc,
    /// MRC compressed whole with bzip2, as CryoSPARC reads it.
    MrcBz2,
}

/// The shape and dose of synthetic movies.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct MovieShapeArgs {
    /// Movie file format (`--format` stays the output format, as in every command).
    #[arg(long = "movie-format", value_name = "FORMAT", value_enum, default_value_t = MovieFormatArg::TiffLzw)]
    pub movie_format: MovieFormatArg,
    /// MRC mode for --movie-format mrc and mrc-bz2: 0 (int8), 1 (int16), 2 (float32), 6 (uint16), 12 (float16).
    #[arg(long, value_name = "MODE", default_value_t = 1, value_parser = movie_mode)]
    pub mode: i32,
    /// Detector whose counting size to use (see `cryocap catalog detectors`).
    #[arg(long, value_name = "NAME", default_value = "k3")]
    pub detector: String,
    /// Use the detector's super-resolution size.
    #[arg(long)]
    pub super_resolution: bool,
    /// Frame size instead of the detector's, WIDTHxHEIGHT (e.g. 1024x1024).
    #[arg(long, value_name = "WxH", value_parser = frame_size)]
    pub size: Option<(u32, u32)>,
    /// Frames per movie (EER: detector frames) [default: 40; EER: 400].
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, 100_000))]
    pub frames: Option<u64>,
    /// Total dose in e⁻/Å².
    #[arg(long, value_name = "E/Å²", default_value_t = 40.0, value_parser = values::positive(10_000.0))]
    pub dose: f64,
    /// Pixel size in Å.
    #[arg(long, value_name = "Å", default_value_t = 0.83, value_parser = values::pixel_size)]
    pub pixel_size: f64,
    /// Relative contrast of a faint synthetic specimen (0: a flat field).
    #[arg(long, value_name = "C", default_value_t = 0.1, value_parser = contrast)]
    pub contrast: f64,
    /// Stage drift to plant, pixels a frame, DX,DY (e.g. 0.3,-0.2): frame i's specimen sits at i·(DX, DY).
    #[arg(long, value_name = "DX,DY", value_parser = drift, allow_hyphen_values = true)]
    pub drift: Option<(f64, f64)>,
    /// Seed of the counts.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u64>(0, u64::MAX))]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct MoviesPlanArgs {
    #[command(flatten)]
    pub shape: MovieShapeArgs,
    /// Fractions motion correction sees per movie (EER: detector frames are grouped into these) [default: 40 for EER, else the frames].
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, 100_000))]
    pub fractions: Option<u64>,
    /// Movies the microscope collects an hour.
    #[arg(long, value_name = "R", default_value_t = 300.0, value_parser = values::positive(1e6))]
    pub movies_per_hour: f64,
    /// Hours of one session.
    #[arg(long, value_name = "H", default_value_t = 24.0, value_parser = values::positive(8760.0))]
    pub hours: f64,
    /// Share of the day the microscope collects, for the daily and yearly figures (0 to 1, or a percentage).
    #[arg(long, value_name = "SHARE", default_value = "70%", value_parser = share)]
    pub duty_cycle: f64,
    /// GPUs pre-processing feeds: adds seed 003's sustained read for them.
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 1024))]
    pub gpus: Option<u32>,
    /// Storage for the movies: how many days of collection it holds.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub storage: Option<u64>,
    /// A `bench movies` JSON: its one-thread decode rate for this format replaces the default per core.
    #[arg(long, value_name = "FILE")]
    pub measured: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MoviesCreateArgs {
    /// Directory to write into (must exist).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Number of movies.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u64>(1, 1_000_000))]
    pub movies: u64,
    #[command(flatten)]
    pub shape: MovieShapeArgs,
    /// Free space to leave: a size (10GB) or a percentage (5%) [default: the larger of 10 GB and 5 %].
    #[arg(long, value_name = "SIZE|PCT%", value_parser = values::reserve)]
    pub reserve: Option<Reserve>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BenchMoviesArgs {
    /// Read every movie (.tif, .tiff, .eer, .mrc, .mrc.bz2) in this directory (and create them here with --create).
    #[arg(long, value_name = "DIR", conflicts_with = "files")]
    pub dir: Option<PathBuf>,
    /// Read these movie files.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write N movies into --dir first (deleted afterwards), shaped by --movie-format, --detector, --frames...
    #[arg(long, value_name = "N", requires = "dir", conflicts_with = "files", value_parser = values::count::<u64>(1, 100_000))]
    pub create: Option<u64>,
    #[command(flatten)]
    pub shape: MovieShapeArgs,
    /// Thread counts to run, comma-separated; each thread decodes whole movies from one queue.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2",
          value_parser = values::count::<usize>(1, 1024))]
    pub threads: Vec<usize>,
    /// Gain reference (MRC, one section, the rendered size) [default: the one --create writes, else all ones].
    #[arg(long, value_name = "FILE")]
    pub gain: Option<PathBuf>,
    /// EER detector frames summed into one fraction.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = values::count::<u32>(1, 100_000))]
    pub eer_grouping: u32,
    /// EER rendering: 1 (the sensor's 4K) or 2 (8K).
    #[arg(long, value_name = "1|2", default_value_t = 1, value_parser = values::count::<u32>(1, 2))]
    pub eer_upsample: u32,
    /// Read through the page cache (dropped first) instead of O_DIRECT.
    #[arg(long)]
    pub buffered: bool,
    /// Movies per hour the microscope collects: exit 1 when the node decodes fewer.
    #[arg(long, value_name = "R", value_parser = values::positive(1e7))]
    pub movies_per_hour: Option<f64>,
    /// GPUs the node feeds (with --movies-per-hour), checked against
    /// --gpu-rate or --gpu-measured.
    #[arg(long, value_name = "N", requires = "gpu_source", requires = "movies_per_hour", value_parser = values::count::<u32>(1, 1024))]
    pub gpus: Option<u32>,
    /// Movies per hour one GPU processes (e.g. from motion correction timings).
    #[arg(long, value_name = "M", requires = "gpus", group = "gpu_source",
          value_parser = values::positive(1e7))]
    pub gpu_rate: Option<f64>,
    /// A `bench gpu` JSON: its frame-alignment rate per GPU at these movies'
    /// frame size (scaled by pixel-frames from the nearest size measured)
    /// instead of --gpu-rate.
    #[arg(long, value_name = "FILE", requires = "gpus", group = "gpu_source")]
    pub gpu_measured: Option<PathBuf>,
    /// Free space --create must leave [default: the larger of 10 GB and 5 %].
    #[arg(long, value_name = "SIZE|PCT%", requires = "create", value_parser = values::reserve)]
    pub reserve: Option<Reserve>,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl MovieShapeArgs {
    /// The values these flags take when none is given, read from their one
    /// declaration above.
    pub fn defaults() -> MovieShapeArgs {
        use clap::FromArgMatches;
        let cmd = <MovieShapeArgs as clap::Args>::augment_args(clap::Command::new("shape"));
        cmd.try_get_matches_from(["shape"])
            .ok()
            .and_then(|m| MovieShapeArgs::from_arg_matches(&m).ok())
            .expect("every movie shape flag has a default or is optional")
    }
}

fn movie_mode(text: &str) -> Result<i32, String> {
    let m: i32 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an MRC mode; give 0, 1, 2, 6 or 12"))?;
    crate::movies::movie_mode(m)
        .map(|_| m)
        .ok_or_else(|| format!("mode {m} is not one movies are stored in; give 0, 1, 2, 6 or 12"))
}

fn frame_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a frame size; give WIDTHxHEIGHT, e.g. 4096x4096");
    let (w, h) = text.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if !(1..=65_536).contains(&w) || !(1..=65_536).contains(&h) {
        return Err(format!("{w}×{h}: each side must be 1 to 65536 pixels"));
    }
    Ok((w, h))
}

/// A share of the day: 0.7 or 70%.
fn share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a share of the day; give e.g. 0.7 or 70%"))?;
    let v = v / scale;
    if !(v > 0.0 && v <= 1.0) {
        return Err(format!("{text:?} is not above 0 and at most 1 (100%)"));
    }
    Ok(v)
}

fn drift(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("{text:?} is not a drift; give DX,DY in pixels a frame, e.g. 0.3,-0.2");
    let (x, y) = text.trim().split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite() && y.is_finite()) || x.abs() > 100.0 || y.abs() > 100.0 {
        return Err(format!(
            "{text:?}: each component must be a number from -100 to 100 pixels a frame"
        ));
    }
    Ok((x, y))
}

fn contrast(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number; give a contrast from 0 to 0.9"))?;
    if !(0.0..=0.9).contains(&v) {
        return Err(format!("{v} is outside 0 to 0.9"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers_accept_and_refuse() {
        assert_eq!(frame_size("4096x4096"), Ok((4096, 4096)));
        assert_eq!(frame_size(" 512 × 256 "), Ok((512, 256)));
        assert!(frame_size("0x5").is_err());
        assert!(frame_size("4096").is_err());
        assert!(frame_size("70000x2").is_err());
        assert_eq!(movie_mode("12"), Ok(12));
        assert!(movie_mode("3").is_err());
        assert!(movie_mode("x").is_err());
        assert!(contrast("0.95").is_err());
        assert!(contrast("NaN").is_err());
        assert_eq!(contrast("0"), Ok(0.0));
        let d = MovieShapeArgs::defaults();
        assert_eq!((d.mode, d.detector.as_str(), d.frames), (1, "k3", None));
        assert_eq!(drift("0.3,-0.2"), Ok((0.3, -0.2)));
        assert!(drift("0.3").is_err());
        assert!(drift("NaN,1").is_err());
        assert!(drift("1e9,0").is_err());
        assert_eq!(share("70%"), Ok(0.7));
        assert_eq!(share("1"), Ok(1.0));
        assert!(share("0").is_err());
        assert!(share("150%").is_err());
        assert!(share("NaN").is_err());
    }
}
