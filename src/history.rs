//! The results history: every stored run of `qualify` and the bench commands
//! in one SQLite file (bundled SQLite, no server).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};

use crate::results::{Envelope, read};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{path}: cannot open the history database: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: not a cryocap history database ({reason}); name a new file or the right one")]
    NotHistory { path: PathBuf, reason: String },
    #[error("{path}: no history database here")]
    Missing { path: PathBuf },
    #[error("{path}: stored run {id} is unreadable: {reason}")]
    BadRun {
        path: PathBuf,
        id: i64,
        reason: String,
    },
}

/// One stored run, as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub recorded_at: u64,
    pub node: String,
    pub kind: String,
    pub metrics: usize,
}

/// A stored row: id, recorded_at, node, kind, json.
type Row = (i64, u64, String, String, String);

pub struct History {
    path: PathBuf,
    conn: Connection,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS cryocap_runs (
    id INTEGER PRIMARY KEY,
    recorded_at INTEGER NOT NULL,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    json TEXT NOT NULL
)";

impl History {
    fn check(path: &Path, conn: &Connection) -> Result<(), HistoryError> {
        let not_history = |reason: String| HistoryError::NotHistory {
            path: path.to_path_buf(),
            reason,
        };
        // A file that is not SQLite fails here; a foreign SQLite file lacks our table.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| not_history(e.to_string()))?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "cryocap_runs") {
            return Err(not_history(format!("its tables are {}", tables.join(", "))));
        }
        Ok(())
    }

    /// Opens the history at `path`, creating it when absent.
    pub fn open_or_create(path: &Path) -> Result<History, HistoryError> {
        let conn = Connection::open(path).map_err(|e| HistoryError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::check(path, &conn)?;
        conn.execute(SCHEMA, [])
            .map_err(|e| HistoryError::NotHistory {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(History {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// Opens an existing history read-only.
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Missing {
                path: path.to_path_buf(),
            });
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
                HistoryError::Open {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
        Self::check(path, &conn)?;
        Ok(History {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// Stores one run's JSON.
    pub fn record(&self, run: &Envelope, recorded_at: u64) -> Result<i64, HistoryError> {
        let json = serde_json::to_string(run).map_err(|e| HistoryError::NotHistory {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        self.conn
            .execute(
                "INSERT INTO cryocap_runs (recorded_at, node, kind, schema_version, json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    recorded_at as i64,
                    run.node,
                    run.kind.name(),
                    run.schema_version,
                    json
                ],
            )
            .map_err(|e| HistoryError::NotHistory {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        Ok(self.conn.last_insert_rowid())
    }

    fn rows(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| HistoryError::NotHistory {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| HistoryError::NotHistory {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        Ok(rows)
    }

    fn parse_run(&self, id: i64, json: &str) -> Result<Envelope, HistoryError> {
        read::parse(&self.path, json).map_err(|e| HistoryError::BadRun {
            path: self.path.clone(),
            id,
            reason: e.to_string(),
        })
    }

    /// Every stored run, oldest first.
    pub fn list(&self) -> Result<Vec<RunSummary>, HistoryError> {
        self.rows(
            "SELECT id, recorded_at, node, kind, json FROM cryocap_runs ORDER BY id",
            &[],
        )?
        .into_iter()
        .map(|(id, at, node, kind, json)| {
            let run = self.parse_run(id, &json)?;
            Ok(RunSummary {
                id,
                recorded_at: at,
                node,
                kind,
                metrics: run.kind.metrics().map_or(0, <[_]>::len),
            })
        })
        .collect()
    }

    /// The last `n` runs of `kind` on `node`, newest first.
    pub fn last(&self, node: &str, kind: &str, n: usize) -> Result<Vec<Envelope>, HistoryError> {
        let limit = n as i64;
        self.rows(
            "SELECT id, recorded_at, node, kind, json FROM cryocap_runs
             WHERE node = ?1 AND kind = ?2 ORDER BY id DESC LIMIT ?3",
            &[&node, &kind, &limit],
        )?
        .into_iter()
        .map(|(id, _, _, _, json)| self.parse_run(id, &json))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(node: &str, v: f64) -> Envelope {
        use crate::results::Kind;
        use crate::results::cache::CopyBenchReport;
        use crate::results::metrics::{Better, Metric};
        let report = CopyBenchReport {
            metrics: vec![Metric::from_samples(
                "bw",
                "bw",
                "x",
                Better::Higher,
                vec![v],
            )],
            from: "a".into(),
            to: "b".into(),
            files: 1,
            bytes_per_repeat: 1,
            repeats: 1,
            source_evicted: true,
            rows: Vec::new(),
            recommended_threads: 1,
            reason: String::new(),
        };
        Envelope::new(Kind::CacheCopyBench(report), node, 0)
    }

    #[test]
    fn stores_lists_and_returns_the_last_runs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.sqlite");
        let h = History::open_or_create(&p).unwrap();
        for (i, v) in [1.0, 2.0, 3.0].iter().enumerate() {
            h.record(&run("n1", *v), i as u64).unwrap();
        }
        h.record(&run("n2", 9.0), 9).unwrap();
        drop(h);
        let h = History::open_existing(&p).unwrap();
        assert_eq!(h.list().unwrap().len(), 4);
        let last = h.last("n1", "cache-copy-bench", 2).unwrap();
        assert_eq!(last.len(), 2);
        let first = |r: &Envelope| r.kind.metrics().unwrap()[0].value;
        assert_eq!(first(&last[0]), 3.0);
        assert_eq!(first(&last[1]), 2.0);
    }

    #[test]
    fn a_corrupt_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.sqlite");
        std::fs::write(
            &p,
            b"this is not a database, just some text that is long enough....",
        )
        .unwrap();
        assert!(matches!(
            History::open_existing(&p),
            Err(HistoryError::NotHistory { .. })
        ));
        assert!(matches!(
            History::open_or_create(&p),
            Err(HistoryError::NotHistory { .. })
        ));
        assert!(matches!(
            History::open_existing(&dir.path().join("none.sqlite")),
            Err(HistoryError::Missing { .. })
        ));
    }
}
