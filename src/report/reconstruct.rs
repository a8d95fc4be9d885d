//! `cryocap reconstruct` results as a document and CSV.

use super::document::{Align, Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::{GpuTimeSplit, ReconstructReport};
use crate::units::{bytes_decimal, duration, group_digits};

fn document(r: &ReconstructReport) -> Document {
    let pixel = match r.pixel_size_a {
        Some(p) => format!("{p} Å"),
        None => "unknown (1 Å written)".to_string(),
    };
    let pairs = vec![
        ("input".to_string(), r.star.clone()),
        (
            "particles".to_string(),
            format!(
                "{} from {} stack file(s)",
                group_digits(r.particles),
                r.stacks
            ),
        ),
        (
            "box".to_string(),
            format!("{} px, pixel size {pixel}", r.box_size),
        ),
        (
            "method".to_string(),
            format!(
                "trilinear Fourier insertion, padding {}, sinc² gridding correction ({}, {} threads)",
                r.pad, r.backend, r.threads
            ),
        ),
        (
            "insertion".to_string(),
            format!(
                "{} ({:.0} particles/s, read + FFT + insert, one run)",
                duration(r.seconds_insert),
                r.particles_per_second
            ),
        ),
        (
            "finishing".to_string(),
            format!(
                "{} (weights, inverse 3D FFT, crop, gridding correction)",
                duration(r.seconds_finish)
            ),
        ),
        ("total".to_string(), duration(r.seconds_total)),
        (
            "output".to_string(),
            format!(
                "{} ({}, MRC volume, ISPG 1)",
                r.output,
                bytes_decimal(r.output_bytes)
            ),
        ),
    ];
    let mut pairs = pairs;
    if r.skipped_non_finite > 0 {
        pairs.push((
            "left out".to_string(),
            format!(
                "{} image(s) holding NaN or infinite pixels (--non-finite skip)",
                group_digits(r.skipped_non_finite)
            ),
        ));
    }
    let mut sections = vec![Section::new("Reconstruction").with(Block::Pairs(pairs))];
    if let Some(g) = &r.gpu_split {
        sections.push(gpu_split(g, r.seconds_insert));
    }
    if !r.notes.is_empty() {
        sections.push(Section::new("Notes").with(Block::Bullets(r.notes.clone())));
    }
    Document {
        title: format!(
            "cryocap reconstruct: {} particles, box {}",
            group_digits(r.particles),
            r.box_size
        ),
        sections,
    }
}

/// The GPU run's time split: each stage's seconds and share of the wall
/// time of the insertion (stages overlap, so shares do not add up to 100 %).
fn gpu_split(g: &GpuTimeSplit, wall: f64) -> Section {
    let share = |s: f64| format!("{:.0} %", 100.0 * s / wall.max(1e-12));
    let row =
        |stage: &str, s: f64, what: String| vec![stage.to_string(), duration(s), share(s), what];
    let rate = g.bytes_read as f64 / wall.max(1e-12);
    let reading = match &g.direct_fallback {
        Some(why) => format!("{} ({why})", g.reading),
        None => g.reading.clone(),
    };
    let rows = vec![
        row(
            "read",
            g.read_seconds,
            format!(
                "{} by {} reader(s), {reading}; {}/s over the run",
                bytes_decimal(g.bytes_read),
                g.readers,
                bytes_decimal(rate as u64)
            ),
        ),
        row(
            "place",
            g.place_seconds,
            "pixels checked and put in place in the pinned buffers".into(),
        ),
        row(
            "wait",
            g.wait_seconds,
            "the GPU side waiting for a filled buffer".into(),
        ),
        row("queue", g.queue_seconds, "host time queueing chunks".into()),
        row(
            "copy",
            g.gpu_copy_seconds,
            format!("GPU: host to device ({}), conversion", g.precision),
        ),
        row(
            "FFT",
            g.gpu_fft_seconds,
            "GPU: batched 2D R2C FFT (cuFFT)".into(),
        ),
        row(
            "insert",
            g.gpu_insert_seconds,
            "GPU: trilinear insertion".into(),
        ),
    ];
    Section::new("Time split (GPU)")
        .with(Block::Table {
            headers: ["stage", "seconds", "of wall", "what"].map(String::from).to_vec(),
            align: vec![Align::Left, Align::Right, Align::Right, Align::Left],
            rows,
        })
        .with(Block::Text(format!(
            "{} pinned buffers of {} particles, reused; reader seconds are summed over readers and GPU seconds over streams, which overlap.",
            g.ring_buffers, g.chunk_particles
        )))
}

impl Render for ReconstructReport {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        let r = self;
        let mut add = |metric: &str, value: String, unit: &str| {
            w.add("reconstruct", &r.backend, metric, value, unit)
        };
        add("particles", r.particles.to_string(), "particles");
        add("stacks", r.stacks.to_string(), "files");
        add("box", r.box_size.to_string(), "pixels");
        add("pad", r.pad.to_string(), "factor");
        if let Some(p) = r.pixel_size_a {
            add("pixel_size", p.to_string(), "Å");
        }
        add("threads", r.threads.to_string(), "threads");
        add("seconds_insert", r.seconds_insert.to_string(), "s");
        add("seconds_finish", r.seconds_finish.to_string(), "s");
        add("seconds_total", r.seconds_total.to_string(), "s");
        add(
            "particles_per_second",
            r.particles_per_second.to_string(),
            "particles/s",
        );
        add("output_bytes", r.output_bytes.to_string(), "bytes");
        add(
            "skipped_non_finite",
            r.skipped_non_finite.to_string(),
            "images",
        );
        if let Some(g) = &r.gpu_split {
            for (metric, s) in [
                ("read_seconds", g.read_seconds),
                ("place_seconds", g.place_seconds),
                ("wait_seconds", g.wait_seconds),
                ("queue_seconds", g.queue_seconds),
                ("gpu_copy_seconds", g.gpu_copy_seconds),
                ("gpu_fft_seconds", g.gpu_fft_seconds),
                ("gpu_insert_seconds", g.gpu_insert_seconds),
            ] {
                add(metric, s.to_string(), "s");
            }
            add("bytes_read", g.bytes_read.to_string(), "bytes");
            add("readers", g.readers.to_string(), "threads");
        }
    }
}
