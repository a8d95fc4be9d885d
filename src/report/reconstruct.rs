//! `cryocap reconstruct` results as a document and CSV.

use super::document::{Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::ReconstructReport;
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
    }
}
