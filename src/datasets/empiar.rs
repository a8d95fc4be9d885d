use serde::Deserialize;

/// A public dataset of `datasets/empiar.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct EmpiarDataset {
    pub id: String,
    pub name: String,
    pub particles: u64,
    #[serde(rename = "box")]
    pub box_size: u32,
    pub pixel_size_a: f64,
    pub dtype: String,
    pub source: String,
}
