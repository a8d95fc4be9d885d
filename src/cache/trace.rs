//! The job trace the simulator replays: CSV with the header
//! `job,start_s,duration_s,stack,bytes`, one row per stack file a job reads.
//! Rows of one job must agree on its start and duration. A stack is a cache
//! key together with its size: the same path with another size is another
//! file (CryoSPARC keys cached files by path, size and modification time).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The columns a trace must have, in any order.
pub const COLUMNS: [&str; 5] = ["job", "start_s", "duration_s", "stack", "bytes"];

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{path}: cannot read the trace: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Row {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(
        "{path}: the trace has no job rows; give at least one `job,start_s,duration_s,stack,bytes` row"
    )]
    Empty { path: PathBuf },
}

/// One stack file, interned: index into [`Trace::files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFile {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TraceJob {
    pub name: String,
    pub start_s: f64,
    pub duration_s: f64,
    /// Distinct files the job reads (indices into [`Trace::files`]).
    pub files: Vec<u32>,
    /// Sum of the files' bytes.
    pub bytes: u64,
}

/// A parsed trace: jobs in start order and the files they read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    pub jobs: Vec<TraceJob>,
    pub files: Vec<TraceFile>,
    /// Job-file rows after removing a job's duplicate rows.
    pub events: usize,
}

/// Builds a trace from rows, interning files and grouping by job. Used by the
/// CSV reader and by generators and tests.
#[derive(Debug, Default)]
pub struct TraceBuilder {
    trace: Trace,
    file_ids: HashMap<(String, u64), u32>,
    job_ids: HashMap<String, usize>,
}

impl TraceBuilder {
    /// Adds one row; the error says what disagrees with an earlier row.
    pub fn add(
        &mut self,
        job: &str,
        start_s: f64,
        duration_s: f64,
        stack: &str,
        bytes: u64,
    ) -> Result<(), String> {
        if !(start_s.is_finite() && start_s >= 0.0) {
            return Err(format!("start_s {start_s} must be a number of seconds ≥ 0"));
        }
        if !(duration_s.is_finite() && duration_s >= 0.0) {
            return Err(format!(
                "duration_s {duration_s} must be a number of seconds ≥ 0"
            ));
        }
        if job.is_empty() {
            return Err("the job column is empty".into());
        }
        if stack.is_empty() {
            return Err("the stack column is empty".into());
        }
        let next_file = self.trace.files.len() as u32;
        let file = *self
            .file_ids
            .entry((stack.to_string(), bytes))
            .or_insert(next_file);
        if file == next_file {
            self.trace.files.push(TraceFile {
                path: stack.to_string(),
                bytes,
            });
        }
        let next_job = self.trace.jobs.len();
        let j = *self.job_ids.entry(job.to_string()).or_insert(next_job);
        if j == next_job {
            self.trace.jobs.push(TraceJob {
                name: job.to_string(),
                start_s,
                duration_s,
                files: Vec::new(),
                bytes: 0,
            });
        }
        let tj = &mut self.trace.jobs[j];
        if tj.start_s != start_s || tj.duration_s != duration_s {
            return Err(format!(
                "job '{job}' has start_s {start_s} and duration_s {duration_s} here but {} and {} on an earlier row; a job's rows must agree",
                tj.start_s, tj.duration_s
            ));
        }
        if !tj.files.contains(&file) {
            tj.files.push(file);
            tj.bytes += bytes;
            self.trace.events += 1;
        }
        Ok(())
    }

    /// The trace with jobs in start order (ties keep file order).
    pub fn finish(mut self) -> Trace {
        self.trace
            .jobs
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        self.trace
    }
}

/// Reads a trace CSV from `path`.
pub fn read(path: &Path) -> Result<Trace, TraceError> {
    let text =
        crate::files::read_input(path, crate::files::LIST_LIMIT).map_err(|e| TraceError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
    parse(path, &text)
}

/// Parses trace CSV bytes; `path` only names the file in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Trace, TraceError> {
    let row_err = |line: u64, reason: String| TraceError::Row {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| row_err(1, format!("cannot read the header: {e}")))?
        .clone();
    let mut idx = [0usize; 5];
    for (i, name) in COLUMNS.iter().enumerate() {
        idx[i] = headers.iter().position(|h| h == *name).ok_or_else(|| {
            row_err(
                1,
                format!(
                    "the header has no '{name}' column; a trace starts with `{}`",
                    COLUMNS.join(",")
                ),
            )
        })?;
    }
    let mut builder = TraceBuilder::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line_of = |r: &csv::StringRecord| r.position().map_or(0, |p| p.line());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(row_err(line, format!("not valid CSV: {e}")));
            }
        }
        let line = line_of(&record);
        let field = |i: usize| record.get(idx[i]).unwrap_or("");
        let number = |i: usize| -> Result<f64, TraceError> {
            let t = field(i);
            t.parse::<f64>().map_err(|_| {
                row_err(
                    line,
                    format!("{} '{t}' is not a number of seconds", COLUMNS[i]),
                )
            })
        };
        let start = number(1)?;
        let duration = number(2)?;
        let bytes_text = field(4);
        let bytes: u64 = bytes_text.parse().map_err(|_| {
            row_err(
                line,
                format!("bytes '{bytes_text}' is not a whole number of bytes"),
            )
        })?;
        builder
            .add(field(0), start, duration, field(3), bytes)
            .map_err(|r| row_err(line, r))?;
    }
    let trace = builder.finish();
    if trace.jobs.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Trace, TraceError> {
        parse(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn groups_rows_by_job_and_interns_files() {
        let t = p("job,start_s,duration_s,stack,bytes\n\
                   j2,100,10,a.mrc,5\n\
                   j1,0,10,a.mrc,5\n\
                   j1,0,10,b.mrc,7\n\
                   j1,0,10,b.mrc,7\n")
        .unwrap();
        assert_eq!(t.jobs.len(), 2);
        assert_eq!(t.jobs[0].name, "j1");
        assert_eq!(t.jobs[0].bytes, 12);
        assert_eq!(t.files.len(), 2);
        assert_eq!(t.events, 3);
    }

    #[test]
    fn same_path_other_size_is_another_file() {
        let t = p("job,start_s,duration_s,stack,bytes\nj,0,1,a,5\nk,2,1,a,6\n").unwrap();
        assert_eq!(t.files.len(), 2);
    }

    #[test]
    fn errors_name_the_line() {
        let e = p("job,start_s,duration_s,stack,bytes\nj,0,1,a,5\nj,0,1,b,five\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:3: bytes 'five'"), "{e}");
        let e = p("job,start_s,duration_s,stack,bytes\nj,0,1,a,5\nj,3,1,b,5\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:3: job 'j'"), "{e}");
        let e = p("job,start,duration_s,stack,bytes\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no 'start_s' column"), "{e}");
        let e = p("job,start_s,duration_s,stack,bytes\nj,-1,1,a,5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv:2:"), "{e}");
        assert!(matches!(
            p("job,start_s,duration_s,stack,bytes\n"),
            Err(TraceError::Empty { .. })
        ));
    }
}
