//! The shipped data as tables (`cryocap catalog ...`).

use super::document::{Align, Block, Document, Section};
use crate::datasets::Catalog;
use crate::units::{bytes_decimal, group_digits};

fn table(title: &str, headers: &[&str], right: &[usize], rows: Vec<Vec<String>>) -> Document {
    let align = (0..headers.len())
        .map(|i| {
            if right.contains(&i) {
                Align::Right
            } else {
                Align::Left
            }
        })
        .collect();
    Document {
        title: format!("{title}: {} rows", rows.len()),
        sections: vec![Section::new("").with(Block::Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            align,
            rows,
        })],
    }
}

pub(crate) fn gpus(c: &Catalog) -> Document {
    let rows = c
        .gpus
        .iter()
        .map(|g| {
            vec![
                g.id.clone(),
                g.name.clone(),
                format!("{} GB", g.vram_gib),
                format!("{} GB/s", g.memory_bandwidth_gb_s),
                g.compute_capability.clone(),
                g.source.clone(),
            ]
        })
        .collect();
    table(
        "GPU catalog (datasets/gpus.csv; GPU GB are GiB)",
        &["id", "name", "VRAM", "bandwidth", "CC", "source"],
        &[2, 3],
        rows,
    )
}

pub(crate) fn storage(c: &Catalog) -> Document {
    let rows = c
        .storage_tiers
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.label.clone(),
                format!("{} MB/s", t.seq_read_mb_s),
                format!("{} µs", t.access_latency_us),
                t.parallel_requests.to_string(),
                format!("{} MB/s", t.seq_write_mb_s),
                t.source.clone(),
            ]
        })
        .collect();
    table(
        "Storage tiers (datasets/storage.csv)",
        &[
            "id", "tier", "read", "latency", "parallel", "write", "source",
        ],
        &[2, 3, 4, 5],
        rows,
    )
}

pub(crate) fn datasets(c: &Catalog) -> Document {
    let rows = c
        .empiar
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.name.clone(),
                group_digits(d.particles),
                d.box_size.to_string(),
                format!("{}", d.pixel_size_a),
                d.dtype.clone(),
            ]
        })
        .collect();
    table(
        "Public datasets (datasets/empiar.csv; sources in the file)",
        &["id", "name", "particles", "box", "Å/px", "dtype"],
        &[2, 3, 4],
        rows,
    )
}

pub(crate) fn jobs(c: &Catalog) -> Document {
    let rows = c
        .vram_jobs
        .iter()
        .map(|j| {
            vec![
                j.job.clone(),
                j.label.clone(),
                j.basis.clone(),
                j.derivation.clone(),
            ]
        })
        .collect();
    table(
        "VRAM models per job type (datasets/vram.csv)",
        &["job", "what", "basis", "derivation"],
        &[],
        rows,
    )
}

pub(crate) fn ssd(c: &Catalog) -> Document {
    let rows = c
        .ssd_classes
        .iter()
        .map(|s| {
            vec![
                s.class.clone(),
                bytes_decimal(s.smallest_bytes),
                s.source.clone(),
            ]
        })
        .collect();
    table(
        "SSD size classes (datasets/ssd_sizes.csv)",
        &["class", "smallest drive", "source"],
        &[1],
        rows,
    )
}

pub(crate) fn detectors(c: &Catalog) -> Document {
    let rows = c
        .detectors
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.name.clone(),
                format!("{}×{}", d.width, d.height),
                match (d.superres_width, d.superres_height) {
                    (Some(w), Some(h)) => format!("{w}×{h}"),
                    _ => "-".into(),
                },
                d.frame_rate_hz
                    .map(|r| format!("{r:.0}"))
                    .unwrap_or_else(|| "-".into()),
                d.formats.replace(' ', ", "),
                d.source.clone(),
            ]
        })
        .collect();
    table(
        "Detectors (datasets/detectors.csv)",
        &[
            "id",
            "detector",
            "counting",
            "super-resolution",
            "frames/s",
            "formats",
            "source",
        ],
        &[4],
        rows,
    )
}
