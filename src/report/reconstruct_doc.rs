//! `cryocap reconstruct` results as a document and CSV.

use super::document::{Block, Document, Section};
use crate::results::ReconstructReport;
use crate::units::{bytes_decimal, duration, group_digits};

pub fn document(r: &ReconstructReport) -> Document {
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
    Document {
        title: format!(
            "cryocap reconstruct: {} particles, box {}",
            group_digits(r.particles),
            r.box_size
        ),
        sections: vec![Section::new("Reconstruction").with(Block::Pairs(pairs))],
    }
}

/// Long-form CSV: `metric,value,unit`.
pub fn csv(r: &ReconstructReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let rows: Vec<(&str, String, &str)> = vec![
        ("particles", r.particles.to_string(), "count"),
        ("stacks", r.stacks.to_string(), "count"),
        ("box_size", r.box_size.to_string(), "pixels"),
        ("pad", r.pad.to_string(), "factor"),
        (
            "pixel_size",
            r.pixel_size_a.map(|p| p.to_string()).unwrap_or_default(),
            "angstrom",
        ),
        ("threads", r.threads.to_string(), "count"),
        ("seconds_insert", r.seconds_insert.to_string(), "seconds"),
        ("seconds_finish", r.seconds_finish.to_string(), "seconds"),
        ("seconds_total", r.seconds_total.to_string(), "seconds"),
        (
            "particles_per_second",
            r.particles_per_second.to_string(),
            "particles/s",
        ),
        ("output_bytes", r.output_bytes.to_string(), "bytes"),
    ];
    let _ = w.write_record(["metric", "value", "unit"]);
    for (m, v, u) in rows {
        let _ = w.write_record([m, &v, u]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
