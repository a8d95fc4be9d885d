use serde::Deserialize;

/// The VRAM model of one job type (`datasets/vram.csv`):
/// `base + (per_voxel + K·per_voxel_per_class)·box³ + (per_pixel + K·per_pixel_per_class)·box²`
/// bytes for K classes.
#[derive(Debug, Clone, Deserialize)]
pub struct VramJob {
    pub job: String,
    pub label: String,
    /// `published` (a formula from the software's authors), `fitted` (fitted
    /// to published anchors) or `modelled` (from the data structures held).
    pub basis: String,
    pub takes_classes: bool,
    pub default_classes: u32,
    pub base_bytes: f64,
    pub bytes_per_voxel: f64,
    pub bytes_per_voxel_per_class: f64,
    pub bytes_per_pixel: f64,
    pub bytes_per_pixel_per_class: f64,
    /// A software limit on the box, where one is known.
    pub box_cap: Option<u32>,
    pub source: String,
    pub derivation: String,
}
