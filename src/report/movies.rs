//! `movies create` and `bench movies` results as documents and CSV rows.

use super::{Block, Document, LongCsv, Render, Section};
use crate::results::Envelope;
use crate::results::movies::{
    KeepUp, MovieRun, MovieSet, MoviesBenchReport, MoviesCreated, MoviesPlanReport,
};
use crate::units::{bytes_decimal, bytes_decimal_f, group_digits, rate_decimal};

fn pairs(v: Vec<(&str, String)>) -> Block {
    Block::Pairs(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Render for MoviesCreated {
    fn document(&self, _: &Envelope) -> Document {
        let mode = self.mode.map(|m| format!(" mode {m}")).unwrap_or_default();
        let per_movie = self.bytes / self.movies.max(1);
        let raw_per_movie = self.raw_bytes / self.movies.max(1);
        Document {
            title: format!(
                "cryocap movies create: {} {}{mode} movies of {}×{}, {} frames, in {}",
                self.movies, self.format, self.width, self.height, self.frames, self.dir
            ),
            sections: vec![Section::new("").with(pairs(vec![
                (
                    "files",
                    format!(
                        "{} ({} … {}) and the gain reference {}",
                        self.files.len(),
                        self.files.first().cloned().unwrap_or_default(),
                        self.files.last().cloned().unwrap_or_default(),
                        self.gain_reference
                    ),
                ),
                (
                    "dose",
                    format!(
                        "{} e⁻/Å² at {} Å/pixel: {:.4} e⁻/pixel/frame{}",
                        self.dose_e_per_a2,
                        self.pixel_size_a,
                        self.electrons_per_pixel_per_frame,
                        if self.specimen_contrast > 0.0 {
                            format!(", specimen contrast {}", self.specimen_contrast)
                        } else {
                            ", flat field".into()
                        }
                    ),
                ),
                (
                    "per movie",
                    format!(
                        "{} ({} at one byte per count: {:.1} % of it)",
                        bytes_decimal(per_movie),
                        bytes_decimal(raw_per_movie),
                        100.0 * per_movie as f64 / raw_per_movie.max(1) as f64
                    ),
                ),
                ("electrons", group_digits(self.electrons)),
                (
                    "took",
                    format!("{:.2} s (seed {})", self.seconds, self.seed),
                ),
            ]))],
        }
    }
    fn csv(&self, w: &mut LongCsv) {
        let s = "movies";
        w.add(s, &self.format, "movies", self.movies, "movies");
        w.add(s, &self.format, "width", self.width, "pixels");
        w.add(s, &self.format, "height", self.height, "pixels");
        w.add(s, &self.format, "frames", self.frames, "frames");
        w.add(
            s,
            &self.format,
            "electrons_per_pixel_per_frame",
            self.electrons_per_pixel_per_frame,
            "e/pixel/frame",
        );
        w.add(s, &self.format, "bytes", self.bytes, "bytes");
        w.add(s, &self.format, "raw_bytes", self.raw_bytes, "bytes");
        w.add(s, &self.format, "electrons", self.electrons, "electrons");
        w.add(s, &self.format, "seconds", self.seconds, "s");
    }
}

/// The movies read, how they are read and what is done to each.
fn movie_set_pairs(set: &MovieSet) -> Block {
    pairs(vec![
        (
            "movies",
            format!(
                "{} ({}), {}×{}, {} in {}{}",
                set.movies,
                set.formats.join(", "),
                set.width,
                set.height,
                bytes_decimal(set.bytes),
                set.dir,
                if set.created {
                    " (written for this run, deleted after)"
                } else {
                    ""
                }
            ),
        ),
        (
            "reads",
            if set.direct {
                "O_DIRECT, whole file, sequential".into()
            } else {
                "buffered, page cache dropped first (O_DIRECT refused)".to_string()
            },
        ),
        (
            "work per movie",
            format!(
                "decode every frame, multiply by the gain reference{}, sum{}",
                set.gain_reference
                    .as_ref()
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_else(|| " (none given: all ones)".into()),
                if set.formats.iter().any(|f| f == "eer") {
                    format!(
                        "; EER grouped by {} and rendered at {}×",
                        set.eer_grouping, set.eer_upsample
                    )
                } else {
                    String::new()
                }
            ),
        ),
    ])
}

/// One row per format and thread count.
fn runs_section(runs: &[MovieRun]) -> Section {
    Section::new("Runs").with(Block::table(
        &[
            "format",
            "threads",
            "movies",
            "movies/h",
            "frames/s",
            "read rate",
            "decode/thread",
            "scaling",
            "bound",
        ],
        "lrrrrrrrl",
        runs.iter().map(run_row).collect(),
    ))
}

/// One run's rates, scaling and what bound it.
fn run_row(r: &MovieRun) -> Vec<String> {
    vec![
        r.format.clone(),
        r.threads.to_string(),
        r.movies.to_string(),
        format!("{:.0}", r.movies_per_hour),
        format!("{:.0}", r.frames_per_second),
        rate_decimal(r.read_bytes_per_second),
        rate_decimal(r.decode_bytes_per_second_per_thread),
        r.scaling
            .map(|s| format!("{s:.2}×"))
            .unwrap_or_else(|| "-".into()),
        format!(
            "{} ({:.0} % reading)",
            r.bound,
            100.0 * r.read_seconds / (r.read_seconds + r.decode_seconds).max(1e-12)
        ),
    ]
}

/// Whether decoding keeps up with the microscope, and the GPUs fed.
fn keep_up_section(k: &KeepUp) -> Section {
    let mut v = vec![(
        "microscope",
        format!(
            "{:.0} movies/h needed, {:.0} movies/h decoded: {}",
            k.movies_per_hour_needed,
            k.movies_per_hour,
            if k.keeps_up {
                "keeps up"
            } else {
                "FALLS BEHIND"
            }
        ),
    )];
    if let (Some(g), Some(rate), Some(f)) = (k.gpus, k.gpu_movies_per_hour, k.feeds_gpus) {
        v.push((
            "GPUs",
            format!(
                "{g} × {rate:.0} movies/h = {:.0} movies/h: {}",
                f64::from(g) * rate,
                if f { "fed" } else { "NOT FED" }
            ),
        ));
        if let Some(b) = &k.gpu_rate_basis {
            v.push(("GPU rate", b.clone()));
        }
    }
    Section::new("Keeping up").with(pairs(v))
}

impl Render for MoviesBenchReport {
    fn document(&self, _: &Envelope) -> Document {
        let mut sections = vec![
            Section::new("").with(movie_set_pairs(&self.set)),
            runs_section(&self.runs),
        ];
        if let Some(k) = &self.keep_up {
            sections.push(keep_up_section(k));
        }
        if !self.notes.is_empty() {
            sections.push(Section::new("Notes").with(Block::Bullets(self.notes.clone())));
        }
        Document {
            title: format!("cryocap bench movies: {} movies", self.set.movies),
            sections,
        }
    }
    fn csv(&self, w: &mut LongCsv) {
        for r in &self.runs {
            let item = format!("{} t{}", r.format, r.threads);
            w.add("run", &item, "movies", r.movies, "movies");
            w.add("run", &item, "seconds", r.seconds, "s");
            w.add(
                "run",
                &item,
                "movies_per_hour",
                r.movies_per_hour,
                "movies/h",
            );
            w.add(
                "run",
                &item,
                "frames_per_second",
                r.frames_per_second,
                "frames/s",
            );
            w.add(
                "run",
                &item,
                "read_bytes_per_second",
                r.read_bytes_per_second,
                "bytes/s",
            );
            w.add(
                "run",
                &item,
                "decode_bytes_per_second_per_thread",
                r.decode_bytes_per_second_per_thread,
                "bytes/s",
            );
            if let Some(s) = r.scaling {
                w.add("run", &item, "scaling", s, "x");
            }
            w.add("run", &item, "read_seconds", r.read_seconds, "s");
            w.add("run", &item, "decode_seconds", r.decode_seconds, "s");
        }
        if let Some(k) = &self.keep_up {
            w.add(
                "keep_up",
                "",
                "movies_per_hour_needed",
                k.movies_per_hour_needed,
                "movies/h",
            );
            w.add("keep_up", "", "keeps_up", k.keeps_up, "");
            if let Some(f) = k.feeds_gpus {
                w.add("keep_up", "", "feeds_gpus", f, "");
            }
        }
    }
}

/// How big a movie is and what a session, a day and a year add up to.
fn data_pairs(p: &MoviesPlanReport) -> Vec<(&'static str, String)> {
    vec![
        (
            "per movie",
            format!(
                "{} ({} as 8-bit counts: {:.1} %)",
                bytes_decimal_f(p.bytes_per_movie),
                bytes_decimal_f(p.raw_bytes_per_movie),
                100.0 * p.bytes_per_movie / p.raw_bytes_per_movie.max(1.0)
            ),
        ),
        ("size basis", p.size_basis.clone()),
        (
            "per session",
            format!(
                "{} ({} movies in {} h)",
                bytes_decimal_f(p.bytes_per_session),
                group_digits((p.movies_per_hour * p.session_hours).round() as u64),
                p.session_hours
            ),
        ),
        (
            "per day",
            format!(
                "{} (collecting {:.0} % of the day)",
                bytes_decimal_f(p.bytes_per_day),
                100.0 * p.duty_cycle
            ),
        ),
        ("per year", bytes_decimal_f(p.bytes_per_year)),
    ]
}

/// The write and read rate, decoding, cores, and where given the GPUs'
/// read rate and the days the storage holds.
fn keeping_up_pairs(p: &MoviesPlanReport) -> Vec<(&'static str, String)> {
    let mut keep = vec![
        (
            "write / read",
            format!(
                "{} sustained: the microscope writes it, pre-processing reads it",
                rate_decimal(p.write_bytes_per_second)
            ),
        ),
        (
            "decode",
            format!(
                "{} of 8-bit frames decoded, {:.1} frames (fractions) a second to motion correction",
                rate_decimal(p.decoded_bytes_per_second),
                p.fractions_per_second
            ),
        ),
        (
            "cores",
            format!(
                "{} at {} of file per core ({})",
                p.cores,
                rate_decimal(p.decode_bytes_per_second_per_core),
                p.decode_basis
            ),
        ),
    ];
    if let (Some(g), Some(r)) = (p.gpus, p.seed_read_bytes_per_second) {
        keep.push((
            "GPUs",
            format!(
                "{g}: seed 003 asks {} sustained sequential read to saturate them",
                rate_decimal(r)
            ),
        ));
    }
    if let (Some(s), Some(d)) = (p.storage_bytes, p.storage_days) {
        keep.push((
            "storage",
            format!("{} holds {d:.1} days of collection", bytes_decimal(s)),
        ));
    }
    keep
}

impl Render for MoviesPlanReport {
    fn document(&self, _: &Envelope) -> Document {
        let mode = self.mode.map(|m| format!(" mode {m}")).unwrap_or_default();
        let frames = if self.format == "eer" {
            format!(
                "{} detector frames, {} fractions",
                self.frames, self.fractions
            )
        } else {
            format!("{} frames", self.frames)
        };
        let mut sections = vec![
            Section::new("Data").with(pairs(data_pairs(self))),
            Section::new("Keeping up").with(pairs(keeping_up_pairs(self))),
        ];
        if !self.notes.is_empty() {
            sections.push(Section::new("Notes").with(Block::Bullets(self.notes.clone())));
        }
        Document {
            title: format!(
                "cryocap movies plan: {} {}{mode}, {}×{}, {frames}, {} e⁻/Å² at {} Å, {} movies/h",
                self.detector,
                self.format,
                self.width,
                self.height,
                self.dose_e_per_a2,
                self.pixel_size_a,
                self.movies_per_hour
            ),
            sections,
        }
    }
    fn csv(&self, w: &mut LongCsv) {
        let s = "movies";
        let i = self.format.as_str();
        w.add(
            s,
            i,
            "bytes_per_pixel_frame",
            self.bytes_per_pixel_frame,
            "bytes",
        );
        w.add(
            s,
            i,
            "raw_bytes_per_movie",
            self.raw_bytes_per_movie,
            "bytes",
        );
        w.add(s, i, "bytes_per_movie", self.bytes_per_movie, "bytes");
        w.add(s, i, "bytes_per_session", self.bytes_per_session, "bytes");
        w.add(s, i, "bytes_per_day", self.bytes_per_day, "bytes");
        w.add(s, i, "bytes_per_year", self.bytes_per_year, "bytes");
        w.add(
            s,
            i,
            "write_bytes_per_second",
            self.write_bytes_per_second,
            "bytes/s",
        );
        w.add(
            s,
            i,
            "decoded_bytes_per_second",
            self.decoded_bytes_per_second,
            "bytes/s",
        );
        w.add(
            s,
            i,
            "fractions_per_second",
            self.fractions_per_second,
            "frames/s",
        );
        w.add(
            s,
            i,
            "decode_bytes_per_second_per_core",
            self.decode_bytes_per_second_per_core,
            "bytes/s",
        );
        w.add(s, i, "cores", self.cores, "cores");
        if let Some(r) = self.seed_read_bytes_per_second {
            w.add(s, i, "seed_read_bytes_per_second", r, "bytes/s");
        }
        if let Some(d) = self.storage_days {
            w.add(s, i, "storage_days", d, "days");
        }
    }
}
