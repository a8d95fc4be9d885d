//! What `cryocap stack create` wrote and `cryocap stack info` read.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackCreated {
    pub dir: String,
    pub files: Vec<String>,
    pub particles: u64,
    #[serde(rename = "box")]
    pub box_size: u32,
    /// MRC mode: 2 (float32) or 12 (float16).
    pub mode: i32,
    pub bytes: u64,
    pub seconds: f64,
    /// Bytes written per second, including the final fsync of each file.
    pub bytes_per_second: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackInfo {
    pub files: Vec<FileInfo>,
}

/// The header of one file, and whether the file matches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub path: String,
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub mode: i32,
    pub mode_name: String,
    pub ispg: u32,
    pub nsymbt: u32,
    pub nversion: i32,
    pub machine_stamp: String,
    pub cell_a: [f32; 3],
    pub pixel_size_a: Option<f32>,
    pub image_bytes: u64,
    pub file_bytes: u64,
    pub labels: Vec<String>,
}
