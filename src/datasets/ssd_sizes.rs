use serde::Deserialize;

/// A size class of SSD one can buy (`datasets/ssd_sizes.csv`): the nominal
/// size and the smallest drive sold in that class (datacenter drives keep
/// more spare area, e.g. 1.92 TB in the 2 TB class).
#[derive(Debug, Clone, Deserialize)]
pub struct SsdClass {
    pub class: String,
    pub nominal_bytes: u64,
    pub smallest_bytes: u64,
    pub source: String,
}
