//! Reading a result file back, whatever schema version wrote it: version 1
//! files are upgraded ([`super::upgrade`]) into the current envelope. The
//! file itself is read by [`crate::files::read_result`].

use std::path::{Path, PathBuf};

use super::{Envelope, SCHEMA_VERSION, upgrade};

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
        "{path}: schema_version {found} is newer than this cryocap reads ({SCHEMA_VERSION}); render it with the cryocap that wrote it"
    )]
    Version { path: PathBuf, found: u64 },
    #[error("{path}: {reason}")]
    Shape { path: PathBuf, reason: String },
    #[error(
        "{path}: a {kind} result holds no measured metrics; compare qualify, bench io or cache copy-bench results"
    )]
    NoMetrics { path: PathBuf, kind: &'static str },
}

/// Parses the text of a result file.
pub fn parse(path: &Path, text: &str) -> Result<Envelope, ResultsError> {
    // Editors on Windows may start a UTF-8 file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ResultsError::NotJson {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let shape = |reason: String| ResultsError::Shape {
        path: path.to_path_buf(),
        reason,
    };
    let json = match json.get("schema_version").map(|v| (v, v.as_u64())) {
        None => {
            return Err(ResultsError::NotResults {
                path: path.to_path_buf(),
            });
        }
        Some((_, Some(1))) => upgrade::from_v1(json).map_err(shape)?,
        Some((_, Some(v))) if v == u64::from(SCHEMA_VERSION) => json,
        Some((_, Some(found))) if found > u64::from(SCHEMA_VERSION) => {
            return Err(ResultsError::Version {
                path: path.to_path_buf(),
                found,
            });
        }
        Some((v, _)) => {
            return Err(shape(format!(
                "schema_version {v} is none this cryocap knows (it reads 1 and {SCHEMA_VERSION})"
            )));
        }
    };
    serde_json::from_value(json).map_err(|e| {
        shape(format!(
            "not a results file this cryocap can read ({e}); was it edited by hand?"
        ))
    })
}

/// A result file that holds metrics (qualify, bench io, copy-bench), or
/// the error naming its kind.
pub fn measured(path: &Path, r: Envelope) -> Result<Envelope, ResultsError> {
    if r.kind.metrics().is_none() {
        return Err(ResultsError::NoMetrics {
            path: path.to_path_buf(),
            kind: r.kind.name(),
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_shapes() {
        let p = Path::new("r.json");
        // A byte-order mark is not a reason to refuse a file.
        assert!(!matches!(
            parse(p, "\u{feff}{}"),
            Err(ResultsError::NotJson { .. })
        ));
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
        assert!(matches!(
            parse(p, r#"{"schema_version": 2, "kind": "plan"}"#),
            Err(ResultsError::Shape { .. })
        ));
        for odd in ["0", "\"2\"", "2.5", "-1"] {
            let e = parse(p, &format!(r#"{{"schema_version": {odd}}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.contains("none this cryocap knows"), "{odd}: {e}");
        }
    }
}
