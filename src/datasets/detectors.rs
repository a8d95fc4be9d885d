use serde::Deserialize;

/// A direct electron detector (`datasets/detectors.csv`): its counting
/// size, super-resolution size where it has one, internal frame rate where
/// known, and the movie formats its software writes.
#[derive(Debug, Clone, Deserialize)]
pub struct Detector {
    pub id: String,
    pub name: String,
    pub maker: String,
    pub width: u32,
    pub height: u32,
    pub superres_width: Option<u32>,
    pub superres_height: Option<u32>,
    pub frame_rate_hz: Option<f64>,
    /// Space-separated format names (tiff-lzw, eer, mrc).
    pub formats: String,
    pub source: String,
}
