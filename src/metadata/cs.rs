//! cryoSPARC `.cs` particle files: a NumPy `.npy` file (format 1.0, also 2.0
//! and 3.0) holding one structured record array. cryocap reads the fields a
//! subset needs: `blob/path` (fixed-width bytes, relative to the project
//! directory), `blob/idx` (0-based image in that stack), `blob/shape`
//! (ny, nx) and `blob/psize_A`. The newer "CSDAT" stream cryosparc-tools can
//! also write is recognised and refused with a clear message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

const NPY_MAGIC: &[u8] = b"\x93NUMPY";
const CSDAT_MAGIC: &[u8] = b"\x95CSDAT";

#[derive(Debug, thiserror::Error)]
pub enum CsError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: field '{field}': {reason}")]
    Field {
        path: PathBuf,
        field: String,
        reason: String,
    },
}

/// A Python literal, as far as NumPy headers use them.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

struct LitParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl LitParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at header byte {}",
                c as char, self.i
            ))
        }
    }
    fn seq(&mut self, close: u8, depth: usize) -> Result<Vec<Lit>, String> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(items);
            }
            // The depth goes on inside lists: 30,000 '[' must not recurse 30,000 times.
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => {
                    return Err(format!(
                        "expected ',' or '{}' at header byte {}",
                        close as char, self.i
                    ));
                }
            }
        }
    }
    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > 32 {
            return Err("header nests too deeply".into());
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    let c = *self.s.get(self.i).ok_or("unclosed string in header")?;
                    self.i += 1;
                    if c == q {
                        break;
                    }
                    if c == b'\\' {
                        let e = *self.s.get(self.i).ok_or("unclosed string in header")?;
                        self.i += 1;
                        out.push(e);
                    } else {
                        out.push(c);
                    }
                }
                Ok(Lit::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(b'(') => {
                self.i += 1;
                Ok(Lit::Seq(self.seq(b')', depth)?))
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Lit::Seq(self.seq(b']', depth)?))
            }
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.expect(b':')?;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err(format!("expected ',' or '}}' at header byte {}", self.i)),
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                t.parse()
                    .map(Lit::Int)
                    .map_err(|_| format!("'{t}' is not a whole number"))
            }
            Some(_) => {
                for (word, lit) in [
                    ("True", Lit::Bool(true)),
                    ("False", Lit::Bool(false)),
                    ("None", Lit::None),
                ] {
                    if self.s[self.i..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(lit);
                    }
                }
                Err(format!("unexpected text at header byte {}", self.i))
            }
            None => Err("the header ends early".into()),
        }
    }
}

fn parse_literal(text: &[u8]) -> Result<Lit, String> {
    let mut p = LitParser { s: text, i: 0 };
    let v = p.value(0)?;
    if p.peek().is_some() {
        return Err(format!(
            "unexpected text after the header dictionary at byte {}",
            p.i
        ));
    }
    Ok(v)
}

/// One field of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    /// NumPy kind character: b, i, u, f, c, S, U, V, O, ...
    pub kind: char,
    pub big_endian: bool,
    /// Bytes of one element.
    pub item: usize,
    /// Elements (product of the sub-array shape).
    pub count: usize,
    pub offset: usize,
}

fn parse_typestr(t: &str) -> Result<(char, bool, usize), String> {
    let mut ch = t.chars();
    let endian = ch.next().ok_or("empty type")?;
    let (big, rest) = match endian {
        '<' | '|' | '=' => (false, ch.as_str()),
        '>' => (true, ch.as_str()),
        _ => (false, t),
    };
    let mut rc = rest.chars();
    let kind = rc.next().ok_or_else(|| format!("type '{t}' has no kind"))?;
    let size: usize = rc
        .as_str()
        .parse()
        .map_err(|_| format!("type '{t}' is not a NumPy type string like '<u4' or '|S32'"))?;
    let item = if kind == 'U' {
        size.checked_mul(4).ok_or("type too large")?
    } else {
        size
    };
    Ok((kind, big, item))
}

/// Where the NumPy header of `bytes` starts and where the data after it
/// starts, from the magic, the version and the header length; what is wrong
/// with the preamble otherwise.
fn npy_preamble(bytes: &[u8]) -> Result<(usize, usize), String> {
    if bytes.starts_with(CSDAT_MAGIC) {
        return Err(
            "this is a CSDAT-format .cs file (cryosparc-tools' newer compressed stream), which cryocap does not read; \
             re-save it in NumPy format with cryosparc-tools: Dataset.load(path).save(path, format=1)"
                .into(),
        );
    }
    if !bytes.starts_with(NPY_MAGIC) {
        return Err(
            "not a cryoSPARC .cs file: it does not start with the NumPy magic \\x93NUMPY".into(),
        );
    }
    let (major, header_start) = match bytes.get(6) {
        Some(1) => (1, 10usize),
        Some(2 | 3) => (bytes[6], 12usize),
        Some(v) => {
            return Err(format!(
                "NumPy format version {v} is not known (1.0, 2.0 and 3.0 are)"
            ));
        }
        None => return Err("truncated: the NumPy preamble ends early".into()),
    };
    if bytes.len() < header_start {
        return Err("truncated: the NumPy preamble ends early".into());
    }
    let hlen = if major == 1 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    let data_start = header_start
        .checked_add(hlen)
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| {
            format!("truncated: the header says {hlen} bytes but the file ends first")
        })?;
    Ok((header_start, data_start))
}

/// The entries of the NumPy header dictionary `header`.
fn header_dict(header: &[u8]) -> Result<Vec<(Lit, Lit)>, String> {
    let lit = parse_literal(header).map_err(|r| format!("unreadable NumPy header: {r}"))?;
    let Lit::Dict(items) = lit else {
        return Err("unreadable NumPy header: not a dictionary".into());
    };
    Ok(items)
}

/// The records the header's `shape` holds: the product of its dimensions.
fn shape_rows(shape: Option<&Lit>) -> Result<usize, String> {
    let Some(Lit::Seq(dims)) = shape else {
        return Err("the NumPy header has no 'shape' tuple".into());
    };
    let mut n: usize = 1;
    for d in dims {
        match d {
            Lit::Int(v) if *v >= 0 => {
                n = n.checked_mul(*v as usize).ok_or("the shape is too large")?
            }
            _ => return Err("the NumPy header's shape is not whole numbers".into()),
        }
    }
    Ok(n)
}

/// The fields of the record `descr` lists, laid end to end, and the bytes
/// of one record.
fn record_fields(path: &Path, descr: &[Lit]) -> Result<(Vec<Field>, usize), CsError> {
    let mut fields = Vec::new();
    let mut offset = 0usize;
    for entry in descr {
        let (field, size) = record_field(path, entry, offset)?;
        fields.push(field);
        offset = offset
            .checked_add(size)
            .ok_or_else(|| bad_descr_entry(path))?;
    }
    Ok((fields, offset))
}

fn bad_descr_entry(path: &Path) -> CsError {
    CsError::Format {
        path: path.to_path_buf(),
        reason: "a 'descr' entry is not (name, type[, shape])".into(),
    }
}

/// One `descr` entry, `(name, type[, shape])`, as a field at `offset`, and
/// its size in bytes.
fn record_field(path: &Path, entry: &Lit, offset: usize) -> Result<(Field, usize), CsError> {
    let bad = || bad_descr_entry(path);
    let Lit::Seq(parts) = entry else {
        return Err(bad());
    };
    let (Some(Lit::Str(name)), Some(ty)) = (parts.first(), parts.get(1)) else {
        return Err(bad());
    };
    let field_error = |reason: String| CsError::Field {
        path: path.to_path_buf(),
        field: name.clone(),
        reason,
    };
    let Lit::Str(ty) = ty else {
        return Err(field_error("nested record fields are not supported".into()));
    };
    let (kind, big_endian, item) = parse_typestr(ty).map_err(field_error)?;
    let count = match parts.get(2) {
        Some(sh) => subarray_count(sh).ok_or_else(bad)?,
        None => 1,
    };
    let size = item.checked_mul(count).ok_or_else(bad)?;
    let field = Field {
        name: name.clone(),
        kind,
        big_endian,
        item,
        count,
        offset,
    };
    Ok((field, size))
}

/// Elements of a field's sub-array shape (a number or a tuple of them);
/// none if it is not whole numbers or too large.
fn subarray_count(shape: &Lit) -> Option<usize> {
    let dims: Vec<&Lit> = match shape {
        Lit::Seq(d) => d.iter().collect(),
        other => vec![other],
    };
    let mut count = 1usize;
    for d in dims {
        match d {
            Lit::Int(v) if *v >= 0 => count = count.checked_mul(*v as usize)?,
            _ => return None,
        }
    }
    Some(count)
}

/// A parsed `.cs` (NumPy) file: the record layout and the raw records.
#[derive(Debug, Clone)]
pub struct CsFile {
    pub path: PathBuf,
    pub rows: usize,
    pub record: usize,
    pub fields: Vec<Field>,
    data: Vec<u8>,
    data_start: usize,
}

impl CsFile {
    pub fn read(path: &Path) -> Result<CsFile, CsError> {
        let bytes =
            crate::files::read_input(path, crate::files::LIST_LIMIT).map_err(|e| CsError::Io {
                path: path.to_path_buf(),
                source: e.into(),
            })?;
        CsFile::parse(path, bytes)
    }

    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<CsFile, CsError> {
        let fail = |reason: String| CsError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let (header_start, data_start) = npy_preamble(&bytes).map_err(fail)?;
        let items = header_dict(&bytes[header_start..data_start]).map_err(fail)?;
        let get = |key: &str| {
            items
                .iter()
                .find(|(k, _)| *k == Lit::Str(key.into()))
                .map(|(_, v)| v)
        };
        let descr = get("descr").ok_or_else(|| fail("the NumPy header has no 'descr'".into()))?;
        // 'fortran_order' is not looked at: a 1-D record array reads the
        // same either way
        let rows = shape_rows(get("shape")).map_err(fail)?;
        let Lit::Seq(list) = descr else {
            return Err(fail(
                "not a cryoSPARC .cs file: the array has no named fields (a plain NumPy array)"
                    .into(),
            ));
        };
        let (fields, record) = record_fields(path, list)?;
        if fields.iter().any(|f| f.kind == 'O') {
            return Err(fail(
                "the array holds Python objects (pickled), which cannot be read safely".into(),
            ));
        }
        let need = rows
            .checked_mul(record)
            .ok_or_else(|| fail("the shape is too large".into()))?;
        let have = bytes.len() - data_start;
        if have < need {
            return Err(fail(format!(
                "truncated: the header promises {rows} records of {record} bytes ({need} bytes) but only {have} bytes follow"
            )));
        }
        Ok(CsFile {
            path: path.to_path_buf(),
            rows,
            record,
            fields,
            data: bytes,
            data_start,
        })
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn need(&self, name: &str) -> Result<&Field, CsError> {
        self.field(name).ok_or_else(|| {
            let names: Vec<&str> = self
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .take(12)
                .collect();
            CsError::Field {
                path: self.path.clone(),
                field: name.into(),
                reason: format!(
                    "missing: not a particle .cs file? it has fields {}",
                    names.join(", ")
                ),
            }
        })
    }

    fn cell(&self, f: &Field, row: usize, k: usize) -> &[u8] {
        let at = self.data_start + row * self.record + f.offset + k * f.item;
        &self.data[at..at + f.item]
    }

    fn uint(&self, f: &Field, row: usize, k: usize) -> Result<u64, CsError> {
        let bad = |reason: String| CsError::Field {
            path: self.path.clone(),
            field: f.name.clone(),
            reason,
        };
        if !matches!(f.kind, 'u' | 'i') || !matches!(f.item, 1 | 2 | 4 | 8) {
            return Err(bad(format!(
                "expected whole numbers, found NumPy kind '{}{}'",
                f.kind, f.item
            )));
        }
        let b = self.cell(f, row, k);
        let mut buf = [0u8; 8];
        if f.big_endian {
            buf[8 - f.item..].copy_from_slice(b);
            buf.reverse();
        } else {
            buf[..f.item].copy_from_slice(b);
        }
        // sign-extend signed values, then refuse negatives
        let raw = u64::from_le_bytes(buf);
        if f.kind == 'i' {
            let shift = 64 - 8 * f.item as u32;
            let v = ((raw << shift) as i64) >> shift;
            if v < 0 {
                return Err(bad(format!("row {row} holds {v}, which is negative")));
            }
            return Ok(v as u64);
        }
        Ok(raw)
    }

    fn float(&self, f: &Field, row: usize) -> Option<f64> {
        let b = self.cell(f, row, 0);
        match (f.kind, f.item) {
            ('f', 4) => {
                let a: [u8; 4] = b.try_into().ok()?;
                Some(f64::from(if f.big_endian {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                }))
            }
            ('f', 8) => {
                let a: [u8; 8] = b.try_into().ok()?;
                Some(if f.big_endian {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                })
            }
            _ => None,
        }
    }

    /// The particles: which stack and image each row names.
    pub fn particles(&self) -> Result<CsParticles, CsError> {
        let pf = self.need("blob/path")?;
        if !matches!(pf.kind, 'S' | 'U') || pf.count != 1 {
            return Err(CsError::Field {
                path: self.path.clone(),
                field: pf.name.clone(),
                reason: format!(
                    "expected fixed-width text (|S or <U), found '{}{}'",
                    pf.kind, pf.item
                ),
            });
        }
        let idx = self.need("blob/idx")?;
        let shape = self.field("blob/shape").filter(|f| f.count == 2);
        let psize = self.field("blob/psize_A");
        let mut out = CsParticles::default();
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        for row in 0..self.rows {
            let raw = self.cell(pf, row, 0);
            let text: Vec<u8> = if pf.kind == 'U' {
                raw.chunks(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .take_while(|c| *c != 0)
                    .filter_map(char::from_u32)
                    .collect::<String>()
                    .into_bytes()
            } else {
                let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
                raw[..end].to_vec()
            };
            if text.is_empty() {
                return Err(CsError::Field {
                    path: self.path.clone(),
                    field: pf.name.clone(),
                    reason: format!("row {row} names no stack file"),
                });
            }
            let next = out.paths.len() as u32;
            let id = *ids.entry(text.clone()).or_insert(next);
            if id == next {
                out.paths.push(String::from_utf8_lossy(&text).into_owned());
            }
            out.stack.push(id);
            out.index.push(self.uint(idx, row, 0)?);
            if let Some(s) = shape {
                out.shape
                    .push([self.uint(s, row, 0)?, self.uint(s, row, 1)?]);
            }
            if let Some(p) = psize
                && let Some(v) = self.float(p, row)
            {
                out.psize_a.push(v);
            }
        }
        Ok(out)
    }
}

/// The rows of a particle `.cs` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsParticles {
    /// Distinct stack paths, as written (relative to the project directory).
    pub paths: Vec<String>,
    /// Per row: index into `paths`.
    pub stack: Vec<u32>,
    /// Per row: 0-based image in the stack.
    pub index: Vec<u64>,
    /// Per row, when the file has `blob/shape`: (ny, nx).
    pub shape: Vec<[u64; 2]>,
    /// Per row, when the file has `blob/psize_A`.
    pub psize_a: Vec<f64>,
}

/// Whether `bytes` look like a `.cs` file (NumPy or CSDAT).
pub fn looks_like_cs(bytes: &[u8]) -> bool {
    bytes.starts_with(NPY_MAGIC) || bytes.starts_with(CSDAT_MAGIC)
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for open in ["[", "(", "{'a': "] {
            let text = open.repeat(30_000);
            assert!(parse_literal(text.as_bytes()).is_err(), "{open}");
        }
        assert!(parse_literal(b"[[[1]]]").is_ok());
    }

    use super::*;

    /// A .npy v1.0 file the way NumPy writes one (header padded to 64 bytes).
    pub(crate) fn npy(descr: &str, rows: usize, data: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': ({rows},), }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn record(path: &[u8; 8], idx: u32) -> Vec<u8> {
        let mut r = 7u64.to_le_bytes().to_vec();
        r.extend_from_slice(path);
        r.extend_from_slice(&idx.to_le_bytes());
        r.extend_from_slice(&64u32.to_le_bytes());
        r.extend_from_slice(&64u32.to_le_bytes());
        r.extend_from_slice(&1.5f32.to_le_bytes());
        r
    }

    const DESCR: &str = "[('uid', '<u8'), ('blob/path', '|S8'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4')]";

    #[test]
    fn reads_the_blob_fields() {
        let mut data = record(b"a.mrc\0\0\0", 0);
        data.extend(record(b"b.mrcs\0\0", 5));
        data.extend(record(b"a.mrc\0\0\0", 2));
        let f = CsFile::parse(Path::new("p.cs"), npy(DESCR, 3, &data)).unwrap();
        assert_eq!(f.record, 8 + 8 + 4 + 8 + 4);
        let p = f.particles().unwrap();
        assert_eq!(p.paths, vec!["a.mrc", "b.mrcs"]);
        assert_eq!(p.stack, vec![0, 1, 0]);
        assert_eq!(p.index, vec![0, 5, 2]);
        assert_eq!(p.shape[1], [64, 64]);
        assert_eq!(p.psize_a, vec![1.5; 3]);
    }

    #[test]
    fn truncated_foreign_and_csdat_files_are_named() {
        let data = record(b"a.mrc\0\0\0", 0);
        let full = npy(DESCR, 2, &data);
        let e = CsFile::parse(Path::new("p.cs"), full)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("truncated") && e.contains("2 records of 32 bytes"),
            "{e}"
        );
        let e = CsFile::parse(Path::new("p.cs"), b"\x95CSDAT\x01\x00".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("CSDAT") && e.contains("format=1"), "{e}");
        let e = CsFile::parse(Path::new("p.cs"), b"data_\nloop_\n".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("NumPy magic"), "{e}");
        let f = CsFile::parse(Path::new("p.cs"), npy("[('uid', '<u8')]", 1, &[0; 8])).unwrap();
        let e = f.particles().unwrap_err().to_string();
        assert!(e.contains("field 'blob/path': missing"), "{e}");
        let e = CsFile::parse(Path::new("p.cs"), npy("'<f4'", 1, &[0; 4]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no named fields"), "{e}");
    }

    #[test]
    fn big_endian_and_signed_indices() {
        let mut data = b"x\0".to_vec();
        data.extend_from_slice(&3u16.to_be_bytes());
        let f = CsFile::parse(
            Path::new("p.cs"),
            npy("[('blob/path', '|S2'), ('blob/idx', '>u2')]", 1, &data),
        )
        .unwrap();
        assert_eq!(f.particles().unwrap().index, vec![3]);
        let mut data = b"x\0".to_vec();
        data.extend_from_slice(&(-1i32).to_le_bytes());
        let f = CsFile::parse(
            Path::new("p.cs"),
            npy("[('blob/path', '|S2'), ('blob/idx', '<i4')]", 1, &data),
        )
        .unwrap();
        assert!(f.particles().unwrap_err().to_string().contains("negative"));
    }
}
