//! Reading a results file back: any cryocap JSON with `schema_version` and
//! `metrics` (qualify and the bench commands write them).

use std::path::{Path, PathBuf};

use super::SCHEMA_VERSION;
use super::metrics::Metric;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {reason}")]
    NotJson { path: PathBuf, reason: String },
    #[error("{path}: not a cryocap results file (no schema_version)")]
    NotResults { path: PathBuf },
    #[error(
        "{path}: schema_version {found}, but this cryocap reads {expected}; re-run with the matching cryocap version"
    )]
    Version {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error("{path}: {reason}")]
    Shape { path: PathBuf, reason: String },
}

/// The part of any results file that comparisons and the history need.
#[derive(Debug, Clone)]
pub struct ResultsFile {
    pub kind: String,
    pub node: String,
    pub metrics: Vec<Metric>,
    pub json: serde_json::Value,
}

/// Checks the schema version of a parsed results document.
pub fn check_version(path: &Path, json: &serde_json::Value) -> Result<(), ResultsError> {
    match json.get("schema_version").and_then(|v| v.as_u64()) {
        None => Err(ResultsError::NotResults {
            path: path.to_path_buf(),
        }),
        Some(v) if v != u64::from(SCHEMA_VERSION) => Err(ResultsError::Version {
            path: path.to_path_buf(),
            found: v,
            expected: SCHEMA_VERSION,
        }),
        Some(_) => Ok(()),
    }
}

pub fn parse(path: &Path, text: &str) -> Result<ResultsFile, ResultsError> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ResultsError::NotJson {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    check_version(path, &json)?;
    let metrics = match json.get("metrics") {
        Some(m) => serde_json::from_value(m.clone()).map_err(|e| ResultsError::Shape {
            path: path.to_path_buf(),
            reason: format!("its metrics are malformed: {e}"),
        })?,
        None => {
            return Err(ResultsError::Shape {
                path: path.to_path_buf(),
                reason: "holds no measured metrics (plan results cannot be compared)".into(),
            });
        }
    };
    Ok(ResultsFile {
        kind: json
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_string(),
        node: json
            .get("node")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_string(),
        metrics,
        json,
    })
}

pub fn load(path: &Path) -> Result<ResultsFile, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_shapes() {
        let p = Path::new("r.json");
        assert!(matches!(parse(p, "{"), Err(ResultsError::NotJson { .. })));
        assert!(matches!(
            parse(p, "{}"),
            Err(ResultsError::NotResults { .. })
        ));
        assert!(matches!(
            parse(p, r#"{"schema_version": 99, "metrics": []}"#),
            Err(ResultsError::Version { found: 99, .. })
        ));
        assert!(matches!(
            parse(p, r#"{"schema_version": 1}"#),
            Err(ResultsError::Shape { .. })
        ));
        let ok = parse(
            p,
            r#"{"schema_version": 1, "kind": "qualify", "node": "n1", "metrics": []}"#,
        )
        .unwrap();
        assert_eq!((ok.kind.as_str(), ok.node.as_str()), ("qualify", "n1"));
    }
}
