use serde::Deserialize;

use super::DataError;

/// How a requirement scales with the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Multiplied by the number of GPUs in the node.
    PerGpu,
    /// One figure for the whole node.
    PerNode,
    /// Applies to each GPU on its own.
    PerDevice,
}

/// One line of a requirement profile: a minimum and/or a recommendation.
#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    pub id: String,
    pub label: String,
    pub unit: String,
    pub scale: Scale,
    pub minimum: Option<f64>,
    pub recommended: Option<f64>,
    pub source: String,
}

/// A known-good system a profile cites, as a sanity line.
#[derive(Debug, Clone, Deserialize)]
pub struct ExampleSystem {
    pub label: String,
    pub gpus: u32,
    pub cores: u32,
    pub ram_bytes: u64,
    pub ssd_bytes: u64,
    pub gpu: String,
    pub source: String,
}

/// A node requirement profile (`datasets/profiles/*.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub id: String,
    pub title: String,
    pub source: String,
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
    #[serde(rename = "example", default)]
    pub examples: Vec<ExampleSystem>,
}

impl Profile {
    /// Reads a profile written in TOML (shipped, or a user's own file).
    pub fn from_toml(text: &str) -> Result<Profile, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

const SHIPPED: [(&str, &str); 2] = [
    (
        "profiles/cryosparc-worker.toml",
        include_str!("../../datasets/profiles/cryosparc-worker.toml"),
    ),
    (
        "profiles/cryosparc-master.toml",
        include_str!("../../datasets/profiles/cryosparc-master.toml"),
    ),
];

pub(super) fn parse_all() -> Result<Vec<Profile>, DataError> {
    SHIPPED
        .iter()
        .map(|(file, text)| {
            Profile::from_toml(text).map_err(|e| DataError {
                file,
                reason: e.to_string(),
            })
        })
        .collect()
}
