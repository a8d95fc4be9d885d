//! The results history: every stored run of `qualify` and the bench commands
//! in one SQLite file (bundled SQLite, no server). A database another
//! process holds is waited for; a row that cannot be read is left out and
//! reported, not a reason to refuse the whole history.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::results::{Envelope, read};

/// How long a database locked by another process is waited for.
const BUSY_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{path}: cannot open the history database: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: not a cryocap history database ({reason}); name a new file or the right one")]
    NotHistory { path: PathBuf, reason: String },
    #[error("{path}: no history database here")]
    Missing { path: PathBuf },
    #[error("{path}: the history database is locked by another process (waited {}s); try again when it is done", BUSY_WAIT.as_secs())]
    Busy { path: PathBuf },
    #[error(
        "{path}: the history database is read-only here (its file or directory cannot be written); store runs in another file"
    )]
    ReadOnly { path: PathBuf },
    #[error("{path}: the history database failed: {reason}")]
    Sql { path: PathBuf, reason: String },
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

/// The real cause of an SQLite error, in words that say what to do.
fn classify(path: &Path, e: rusqlite::Error) -> HistoryError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => HistoryError::Busy { path },
        Some(ErrorCode::ReadOnly) => HistoryError::ReadOnly { path },
        Some(ErrorCode::NotADatabase) => HistoryError::NotHistory {
            path,
            reason: "the file is not an SQLite database".into(),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => HistoryError::Open {
            path,
            reason: e.to_string(),
        },
        _ => HistoryError::Sql {
            path,
            // SQLite's text may quote SQL or the file: one line of it.
            reason: e.to_string().lines().next().unwrap_or_default().to_string(),
        },
    }
}

/// Runs that were read, and the rows that could not be (with why).
#[derive(Debug, Default)]
pub struct Read<T> {
    pub runs: Vec<T>,
    pub unreadable: Vec<String>,
}

impl History {
    fn check(path: &Path, conn: &Connection) -> Result<(), HistoryError> {
        conn.busy_timeout(BUSY_WAIT)
            .map_err(|e| classify(path, e))?;
        // A file that is not SQLite fails here; a foreign SQLite file lacks our table.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| classify(path, e))?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "cryocap_runs") {
            return Err(HistoryError::NotHistory {
                path: path.to_path_buf(),
                reason: format!("its tables are {}", tables.join(", ")),
            });
        }
        Ok(())
    }

    /// A file at `path`, if there is one, must be a regular file (SQLite
    /// would block on a FIFO).
    fn check_file(path: &Path) -> Result<(), HistoryError> {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => Err(HistoryError::Open {
                path: path.to_path_buf(),
                reason: "not a regular file".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Opens the history at `path`, creating it when absent.
    pub fn open_or_create(path: &Path) -> Result<History, HistoryError> {
        Self::check_file(path)?;
        let conn = Connection::open(path).map_err(|e| classify(path, e))?;
        Self::check(path, &conn)?;
        conn.execute(SCHEMA, []).map_err(|e| classify(path, e))?;
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
        Self::check_file(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| classify(path, e))?;
        Self::check(path, &conn)?;
        Ok(History {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// Stores one run's JSON.
    pub fn record(&self, run: &Envelope, recorded_at: u64) -> Result<i64, HistoryError> {
        let json = serde_json::to_string(run).map_err(|e| HistoryError::Sql {
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
            .map_err(|e| classify(&self.path, e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The rows `sql` selects; a row whose columns cannot be read is named
    /// in the second list instead.
    fn rows(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<(Vec<Row>, Vec<String>), HistoryError> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| classify(&self.path, e))?;
        let mut query = stmt.query(args).map_err(|e| classify(&self.path, e))?;
        let (mut rows, mut bad) = (Vec::new(), Vec::new());
        while let Some(r) = query.next().map_err(|e| classify(&self.path, e))? {
            let row: rusqlite::Result<Row> = (|| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })();
            match row {
                Ok(row) => rows.push(row),
                Err(e) => bad.push(format!(
                    "row {}: {e}",
                    r.get::<_, i64>(0).map_or("?".into(), |id| id.to_string())
                )),
            }
        }
        Ok((rows, bad))
    }

    /// Every stored run, oldest first.
    pub fn list(&self) -> Result<Read<RunSummary>, HistoryError> {
        let (rows, mut unreadable) = self.rows(
            "SELECT id, recorded_at, node, kind, json FROM cryocap_runs ORDER BY id",
            &[],
        )?;
        let mut runs = Vec::new();
        for (id, at, node, kind, json) in rows {
            match read::parse(&self.path, &json) {
                Ok(run) => runs.push(RunSummary {
                    id,
                    recorded_at: at,
                    node,
                    kind,
                    metrics: run.kind.metrics().map_or(0, <[_]>::len),
                }),
                Err(e) => unreadable.push(format!("run {id}: {e}")),
            }
        }
        Ok(Read { runs, unreadable })
    }

    /// The last `n` readable runs of `kind` on `node`, newest first.
    pub fn last(&self, node: &str, kind: &str, n: usize) -> Result<Read<Envelope>, HistoryError> {
        let (rows, mut unreadable) = self.rows(
            "SELECT id, recorded_at, node, kind, json FROM cryocap_runs
             WHERE node = ?1 AND kind = ?2 ORDER BY id DESC",
            &[&node, &kind],
        )?;
        let mut runs = Vec::new();
        for (id, _, _, _, json) in rows {
            if runs.len() == n {
                break;
            }
            match read::parse(&self.path, &json) {
                Ok(r) => runs.push(r),
                Err(e) => unreadable.push(format!("run {id}: {e}")),
            }
        }
        Ok(Read { runs, unreadable })
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
        assert_eq!(h.list().unwrap().runs.len(), 4);
        let last = h.last("n1", "cache-copy-bench", 2).unwrap().runs;
        assert_eq!(last.len(), 2);
        let first = |r: &Envelope| r.kind.metrics().unwrap()[0].value;
        assert_eq!(first(&last[0]), 3.0);
        assert_eq!(first(&last[1]), 2.0);
    }

    #[test]
    fn an_unreadable_row_is_left_out_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.sqlite");
        let h = History::open_or_create(&p).unwrap();
        h.record(&run("n1", 1.0), 1).unwrap();
        h.conn
            .execute(
                "INSERT INTO cryocap_runs (recorded_at, node, kind, schema_version, json)
                 VALUES (2, 'n1', 'cache-copy-bench', 2, '{broken')",
                [],
            )
            .unwrap();
        h.record(&run("n1", 3.0), 3).unwrap();
        let listed = h.list().unwrap();
        assert_eq!((listed.runs.len(), listed.unreadable.len()), (2, 1));
        assert!(
            listed.unreadable[0].starts_with("run 2:"),
            "{:?}",
            listed.unreadable
        );
        let last = h.last("n1", "cache-copy-bench", 5).unwrap();
        assert_eq!((last.runs.len(), last.unreadable.len()), (2, 1));
    }

    #[test]
    fn a_read_only_database_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.sqlite");
        History::open_or_create(&p).unwrap();
        let h = History {
            path: p.clone(),
            conn: Connection::open_with_flags(&p, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap(),
        };
        let e = h.record(&run("n1", 1.0), 1).unwrap_err();
        assert!(matches!(e, HistoryError::ReadOnly { .. }), "{e}");
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
