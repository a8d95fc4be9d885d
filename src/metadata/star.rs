//! RELION STAR files: `data_` blocks holding `_name value` pairs and `loop_`
//! tables. Errors name the file and line.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StarError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: no data block has a loop with column {column}")]
    MissingColumn { path: PathBuf, column: String },
}

/// One `loop_` table: column names (without the leading `_`) and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The line (1-based) each row starts on, for error messages.
    pub row_lines: Vec<usize>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        let name = name.trim_start_matches('_');
        self.columns.iter().position(|c| c == name)
    }
}

/// One `data_NAME` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataBlock {
    pub name: String,
    /// `_name value` pairs outside loops, names without the leading `_`.
    pub values: Vec<(String, String)>,
    pub tables: Vec<Table>,
}

impl DataBlock {
    pub fn value(&self, name: &str) -> Option<&str> {
        let name = name.trim_start_matches('_');
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StarFile {
    pub path: PathBuf,
    pub blocks: Vec<DataBlock>,
}

impl StarFile {
    pub fn block(&self, name: &str) -> Option<&DataBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The first table, in any block, that has `column` (e.g. the particles
    /// table of a RELION 3.1+ file, or the only table of an older one).
    pub fn table_with(&self, column: &str) -> Result<(&DataBlock, &Table), StarError> {
        self.blocks
            .iter()
            .flat_map(|b| b.tables.iter().map(move |t| (b, t)))
            .find(|(_, t)| t.column(column).is_some())
            .ok_or_else(|| StarError::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
            })
    }

    pub fn read(path: &Path) -> Result<StarFile, StarError> {
        let bytes = crate::files::read_input(path, crate::files::LIST_LIMIT).map_err(|e| {
            StarError::Io {
                path: path.to_path_buf(),
                source: e.into(),
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|e| StarError::Syntax {
            path: path.to_path_buf(),
            line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            reason: "not UTF-8 text: is this a STAR file?".into(),
        })?;
        parse(path, &text)
    }
}

/// Splits a line into tokens: whitespace-separated, `'…'`/`"…"` quoted,
/// `#` to the end of line a comment.
fn tokens(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut tok = String::new();
            let mut closed = false;
            while let Some((_, d)) = chars.next() {
                // a quote closes only when followed by whitespace or the end
                if d == c && chars.peek().is_none_or(|(_, n)| n.is_whitespace()) {
                    closed = true;
                    break;
                }
                tok.push(d);
            }
            if !closed {
                return Err(format!("unclosed quote {c}"));
            }
            out.push(tok);
        } else {
            let mut tok = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                tok.push(d);
                chars.next();
            }
            out.push(tok);
        }
    }
    Ok(out)
}

enum State {
    Outside,
    LoopHeader,
    LoopRows,
}

/// Parses STAR text; `path` only names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<StarFile, StarError> {
    let mut p = Parser {
        path,
        file: StarFile {
            path: path.to_path_buf(),
            blocks: Vec::new(),
        },
        state: State::Outside,
        pending: Vec::new(),
        pending_line: 0,
    };
    for (i, raw) in text.lines().enumerate() {
        p.line(i + 1, raw)?;
    }
    if !p.pending.is_empty() {
        let end = text.lines().count();
        p.finish_row(end)?;
    }
    if p.file.blocks.is_empty() {
        return Err(p.err(1, "no data_ block found: is this a STAR file?".into()));
    }
    Ok(p.file)
}

/// What `parse` has read so far: the blocks, where it is, and the values of
/// a loop row not yet complete (a row may span lines).
struct Parser<'a> {
    path: &'a Path,
    file: StarFile,
    state: State,
    pending: Vec<String>,
    /// The line the pending row starts on.
    pending_line: usize,
}

/// A syntax error at `line` of `path`.
fn syntax(path: &Path, line: usize, reason: String) -> StarError {
    StarError::Syntax {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

impl Parser<'_> {
    fn err(&self, line: usize, reason: String) -> StarError {
        syntax(self.path, line, reason)
    }

    /// Reads line `n`, `raw`: a block, a loop, a column, row values or a
    /// `_name value` pair.
    fn line(&mut self, n: usize, raw: &str) -> Result<(), StarError> {
        if raw.starts_with(';') {
            return Err(self.err(
                n,
                "semicolon-delimited text fields are not supported".into(),
            ));
        }
        let toks = tokens(raw).map_err(|r| self.err(n, r))?;
        let Some(first) = toks.first() else {
            return Ok(());
        };
        if let Some(name) = first.strip_prefix("data_") {
            self.end_row(n)?;
            self.file.blocks.push(DataBlock {
                name: name.to_string(),
                ..Default::default()
            });
            self.state = State::Outside;
            return Ok(());
        }
        let Some(bi) = self.file.blocks.len().checked_sub(1) else {
            return Err(self.err(
                n,
                format!("'{first}' before any data_ block: is this a STAR file?"),
            ));
        };
        if first == "loop_" {
            self.end_row(n)?;
            self.file.blocks[bi].tables.push(Table::default());
            self.state = State::LoopHeader;
            return Ok(());
        }
        match self.state {
            State::LoopHeader if first.starts_with('_') => {
                if let Some(t) = self.file.blocks[bi].tables.last_mut() {
                    t.columns.push(first.trim_start_matches('_').to_string());
                }
                Ok(())
            }
            State::LoopHeader | State::LoopRows if !first.starts_with('_') => {
                self.row_values(bi, n, toks)
            }
            _ => self.name_value(bi, n, &toks),
        }
    }

    /// Values of a loop row on line `n`; the row ends once it has a value
    /// per column.
    fn row_values(&mut self, bi: usize, n: usize, toks: Vec<String>) -> Result<(), StarError> {
        self.state = State::LoopRows;
        if self.pending.is_empty() {
            self.pending_line = n;
        }
        self.pending.extend(toks);
        let want = self.file.blocks[bi]
            .tables
            .last()
            .map_or(0, |t| t.columns.len());
        if self.pending.len() >= want {
            self.finish_row(n)?;
        }
        Ok(())
    }

    /// A `_name value` pair on line `n`, outside a loop (a loop ends at the
    /// first such line).
    fn name_value(&mut self, bi: usize, n: usize, toks: &[String]) -> Result<(), StarError> {
        let first = &toks[0];
        self.end_row(n)?;
        self.state = State::Outside;
        if !first.starts_with('_') {
            return Err(self.err(n, format!("unexpected '{first}' outside a loop")));
        }
        let value = toks
            .get(1)
            .cloned()
            .ok_or_else(|| self.err(n, format!("{first} has no value")))?;
        self.file.blocks[bi]
            .values
            .push((first.trim_start_matches('_').to_string(), value));
        Ok(())
    }

    /// Ends the pending row, if any, at line `end` (before a new block,
    /// loop or pair).
    fn end_row(&mut self, end: usize) -> Result<(), StarError> {
        if !self.pending.is_empty() {
            self.finish_row(end)?;
        }
        Ok(())
    }

    /// Adds the pending values as a row of the last table; `end` is the
    /// line the row ends on, for the message when the count is wrong.
    fn finish_row(&mut self, end: usize) -> Result<(), StarError> {
        let line = self.pending_line;
        let Some(table) = self
            .file
            .blocks
            .last_mut()
            .and_then(|b| b.tables.last_mut())
        else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.pending.len() != table.columns.len() {
            return Err(syntax(
                self.path,
                line,
                format!(
                    "row has {} values but the loop declares {} columns (row ends at line {end})",
                    self.pending.len(),
                    table.columns.len()
                ),
            ));
        }
        table.rows.push(std::mem::take(&mut self.pending));
        table.row_lines.push(line);
        Ok(())
    }
}

/// Counts the rows of the first loop that has `column`, reading line by
/// line, so that a particles file of millions of rows is never held in
/// memory. A row may span lines; a last row cut short is an error.
pub fn count_rows(path: &Path, column: &str) -> Result<u64, StarError> {
    use std::io::BufRead;
    let io = |source| StarError::Io {
        path: path.to_path_buf(),
        source,
    };
    let syntax = |line, reason| StarError::Syntax {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let file = crate::files::open_input(path).map_err(|e| io(e.into()))?;
    let mut reader = std::io::BufReader::new(file);
    let want = column.trim_start_matches('_');
    let mut state = Rows::Outside;
    let (mut line, mut n) = (Vec::new(), 0);
    while reader.read_until(b'\n', &mut line).map_err(io)? > 0 {
        n += 1;
        let toks = tokens(&String::from_utf8_lossy(&line)).map_err(|r| syntax(n, r))?;
        line.clear();
        if let Some(first) = toks.first() {
            state = state.step(first, toks.len() as u64, want);
        }
        if let Rows::Done(..) = state {
            break;
        }
    }
    match state {
        Rows::Counting(cols, values) | Rows::Done(cols, values) if values % cols != 0 => {
            Err(syntax(
                n,
                format!(
                    "the last row has {} of its {cols} values: is the file cut short?",
                    values % cols
                ),
            ))
        }
        Rows::Counting(cols, values) | Rows::Done(cols, values) => Ok(values / cols),
        Rows::Header(cols) if cols.iter().any(|c| c == want) => Ok(0),
        _ => Err(StarError::MissingColumn {
            path: path.to_path_buf(),
            column: want.to_string(),
        }),
    }
}

/// Where [`count_rows`] is: outside the wanted loop, in a loop header (its
/// columns), in another loop's rows, or counting the values of the wanted
/// loop (columns, values), or past it.
enum Rows {
    Outside,
    Header(Vec<String>),
    Counting(u64, u64),
    Done(u64, u64),
}

impl Rows {
    /// The state after a line whose first token is `first` and that holds
    /// `n` tokens.
    fn step(self, first: &str, n: u64, want: &str) -> Rows {
        let keyword = first == "loop_" || first.starts_with("data_") || first.starts_with('_');
        match self {
            Rows::Counting(c, v) if keyword => Rows::Done(c, v),
            Rows::Counting(c, v) => Rows::Counting(c, v + n),
            Rows::Header(cols) if keyword && first.starts_with('_') => {
                let mut cols = cols;
                cols.push(first.trim_start_matches('_').to_string());
                Rows::Header(cols)
            }
            Rows::Header(cols) if !keyword && cols.iter().any(|c| c == want) => {
                Rows::Counting(cols.len() as u64, n)
            }
            Rows::Header(cols) if keyword && cols.iter().any(|c| c == want) => Rows::Done(1, 0),
            _ if first == "loop_" => Rows::Header(Vec::new()),
            done @ Rows::Done(..) => done,
            _ => Rows::Outside,
        }
    }
}

/// A RELION image reference `index@path` (index 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// 0-based image index within the stack.
    pub index: u64,
    pub stack: String,
    /// Whether the name gave an image number (`index@stack`); without one
    /// the file holds one image (RELION 5 and WarpTools 2D images,
    /// subtomogram lists) and `index` is 0.
    pub numbered: bool,
}

/// Reads `_rlnImageName`: `index@stack` (index from 1), or a file alone.
pub fn parse_image_name(text: &str) -> Result<ImageRef, String> {
    let text = text.trim();
    let Some((index, stack)) = text.split_once('@') else {
        if text.is_empty() {
            return Err("an empty image name".into());
        }
        return Ok(ImageRef {
            index: 0,
            stack: text.to_string(),
            numbered: false,
        });
    };
    let index: u64 = index
        .trim()
        .parse()
        .map_err(|_| format!("'{text}': '{index}' is not an image number"))?;
    if index == 0 {
        return Err(format!("'{text}': image numbers start at 1"));
    }
    if stack.is_empty() {
        return Err(format!("'{text}' names no stack file"));
    }
    Ok(ImageRef {
        index: index - 1,
        stack: stack.to_string(),
        numbered: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELION31: &str = "\
# version 30001

data_optics

loop_
_rlnOpticsGroup #1
_rlnImagePixelSize #2
_rlnImageSize #3
1 1.34 360

data_particles

loop_
_rlnImageName #1
_rlnAngleRot #2
_rlnOpticsGroup #3
000001@Particles/a.mrcs  10.5 1
000002@Particles/a.mrcs -20.0 1
'1@Particles/b c.mrcs' 0 1
";

    #[test]
    fn relion_31_blocks_and_tables() {
        let f = parse(Path::new("p.star"), RELION31).unwrap();
        assert_eq!(f.blocks.len(), 2);
        let (block, t) = f.table_with("rlnImageName").unwrap();
        assert_eq!(block.name, "particles");
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2][0], "1@Particles/b c.mrcs");
        assert_eq!(t.row_lines[0], 17);
        let (_, optics) = f.table_with("rlnImagePixelSize").unwrap();
        assert_eq!(optics.rows[0][1], "1.34");
    }

    #[test]
    fn short_rows_are_reported_with_their_line() {
        let bad = "data_\nloop_\n_a\n_b\n1 2\n3\n";
        match parse(Path::new("p.star"), bad) {
            Err(StarError::Syntax { line, reason, .. }) => {
                assert_eq!(line, 6, "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pairs_outside_loops() {
        let f = parse(
            Path::new("p.star"),
            "data_general\n_rlnFinalResolution 3.2\n",
        )
        .unwrap();
        assert_eq!(f.blocks[0].value("rlnFinalResolution"), Some("3.2"));
    }

    #[test]
    fn foreign_text_is_refused() {
        assert!(parse(Path::new("x"), "hello world\n").is_err());
        assert!(parse(Path::new("x"), "").is_err());
        assert!(parse(Path::new("x"), "data_\n_a 'unclosed\n").is_err());
    }

    #[test]
    fn image_names() {
        assert_eq!(
            parse_image_name("000012@Extract/job1/a.mrcs").unwrap(),
            ImageRef {
                index: 11,
                stack: "Extract/job1/a.mrcs".into(),
                numbered: true,
            }
        );
        assert!(parse_image_name("0@a.mrcs").is_err());
        let single = parse_image_name("Tomograms/ts_01.mrc").unwrap();
        assert_eq!((single.index, single.numbered), (0, false));
        assert!(parse_image_name("").is_err());
        assert!(parse_image_name("x@a.mrcs").is_err());
        assert!(parse_image_name("3@").is_err());
    }

    fn rows(text: &str) -> Result<u64, StarError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run_data.star");
        std::fs::write(&p, text).unwrap();
        count_rows(&p, "_rlnImageName")
    }

    #[test]
    fn counts_the_rows_of_the_particles_loop_only() {
        let optics = "data_optics\nloop_\n_rlnOpticsGroup #1\n1\n2\n\n";
        let parts = "data_particles\nloop_\n_rlnImageName #1\n_rlnAngleRot #2\n";
        assert_eq!(
            rows(&format!("{optics}{parts}1@a 0\n2@a 1\n\n3@a 2\n")).unwrap(),
            3
        );
        // a row over two lines, then another block
        let t = format!("{parts}1@a\n 0\n2@a 1\ndata_more\nloop_\n_rlnX\n1\n");
        assert_eq!(rows(&t).unwrap(), 2);
        assert_eq!(
            rows(&format!("{parts}\n")).unwrap(),
            0,
            "a loop with no rows"
        );
    }

    #[test]
    fn a_cut_row_and_a_missing_column_are_errors() {
        let parts = "data_\nloop_\n_rlnImageName #1\n_rlnAngleRot #2\n1@a 0\n2@a\n";
        let e = rows(parts).unwrap_err().to_string();
        assert!(
            e.contains("run_data.star:6: the last row has 1 of its 2 values"),
            "{e}"
        );
        let e = rows("data_\nloop_\n_rlnX #1\n1\n").unwrap_err().to_string();
        assert!(
            e.contains("no data block has a loop with column rlnImageName"),
            "{e}"
        );
    }
}
