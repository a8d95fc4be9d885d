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

    /// Checks what TOML cannot: known units, one line per id, thresholds
    /// that are numbers at or above 0, and a minimum no higher than the
    /// recommendation. The first problem, naming the requirement.
    pub fn validate(&self) -> Result<(), String> {
        if self.requirements.is_empty() {
            return Err("it has no [[requirement]]".into());
        }
        for (i, r) in self.requirements.iter().enumerate() {
            let at = format!("requirement '{}'", r.id);
            if !UNITS.contains(&r.unit.as_str()) {
                return Err(format!(
                    "{at}: unknown unit '{}'; use one of {}",
                    r.unit,
                    UNITS.join(", ")
                ));
            }
            if let Some((_, unit)) = MEASURED_IN.iter().find(|(id, _)| *id == r.id)
                && r.unit != *unit
            {
                return Err(format!("{at} is measured in {unit}, not '{}'", r.unit));
            }
            if self.requirements[..i].iter().any(|o| o.id == r.id) {
                return Err(format!("{at} is given twice"));
            }
            for (name, v) in [("minimum", r.minimum), ("recommended", r.recommended)] {
                if let Some(v) = v
                    && !(v.is_finite() && v >= 0.0)
                {
                    return Err(format!("{at}: {name} {v} is not a number at or above 0"));
                }
            }
            if r.minimum.is_none() && r.recommended.is_none() {
                return Err(format!(
                    "{at} has neither a minimum nor a recommended value"
                ));
            }
            if let (Some(m), Some(rec)) = (r.minimum, r.recommended)
                && m > rec
            {
                return Err(format!("{at}: minimum {m} is above recommended {rec}"));
            }
        }
        Ok(())
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

/// The units a requirement may be given in (what the checks measure).
const UNITS: [&str; 9] = [
    "cores",
    "bytes",
    "bytes_per_second",
    "bits_per_second",
    "hertz",
    "compute_capability",
    "seconds",
    "nanoseconds",
    "particles_per_second",
];

/// The requirements cryocap measures, and the unit each is measured in.
const MEASURED_IN: [(&str, &str); 10] = [
    ("cpu_cores", "cores"),
    ("ram", "bytes"),
    ("memory_bandwidth", "bytes_per_second"),
    ("cpu_frequency", "hertz"),
    ("system_storage", "bytes"),
    ("storage_link", "bits_per_second"),
    ("gpu_vram", "bytes"),
    ("gpu_compute_capability", "compute_capability"),
    ("sequential_read", "bytes_per_second"),
    ("movie_decode", "bytes_per_second"),
];

const SHIPPED: [(&str, &str); 3] = [
    (
        "profiles/cryosparc-worker.toml",
        include_str!("../../datasets/profiles/cryosparc-worker.toml"),
    ),
    (
        "profiles/cryosparc-master.toml",
        include_str!("../../datasets/profiles/cryosparc-master.toml"),
    ),
    (
        "profiles/preprocessing.toml",
        include_str!("../../datasets/profiles/preprocessing.toml"),
    ),
];

pub(super) fn parse_all() -> Result<Vec<Profile>, DataError> {
    SHIPPED
        .iter()
        .map(|(file, text)| {
            let p = Profile::from_toml(text).map_err(|e| DataError {
                file,
                reason: e.to_string(),
            })?;
            p.validate().map_err(|reason| DataError { file, reason })?;
            Ok(p)
        })
        .collect()
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A user's profile of any text or nesting is a profile or a reason.
        #[test]
        fn profiles_never_panic(
            text in prop_oneof![
                "[ -~\n]{0,400}",
                (0usize..30_000).prop_map(|n| format!("a = {}{}", "[".repeat(n), "]".repeat(n))),
                (-1e300f64..1e300, -1e300f64..1e300).prop_map(|(m, r)| format!(
                    "id = \"p\"\ntitle = \"t\"\nsource = \"s\"\n[[requirement]]\nid = \"ram\"\nlabel = \"l\"\nunit = \"bytes\"\nscale = \"per_node\"\nminimum = {m}\nrecommended = {r}\nsource = \"s\"\n"
                )),
            ]
        ) {
            if let Ok(p) = Profile::from_toml(&text) {
                let _ = p.validate();
            }
        }
    }
}
