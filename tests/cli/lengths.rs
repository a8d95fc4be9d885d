//! Size limits on the source (issue 26): no file over 800 lines, and the
//! count of long functions (outside tests) may only go down. Functions
//! are measured as rustfmt lays them out: from the `fn` line to the `}` at
//! its indentation.

use std::path::{Path, PathBuf};

/// The most functions over 100 and over 80 lines allowed today; lower
/// these as functions are split, never raise them.
const MAX_OVER_100: usize = 11;
const MAX_OVER_80: usize = 14;
const MAX_FILE_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code before a file's `#[cfg(test)]` module; none for a tests file.
fn non_test(path: &Path, text: &str) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    text.split("\n#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn is_fn_line(line: &str) -> bool {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub(super) "))
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    let t = t.strip_prefix("const ").unwrap_or(t);
    let t = t.strip_prefix("unsafe ").unwrap_or(t);
    t.starts_with("fn ")
}

/// (name line, length) of every function with a body in `code`.
fn functions(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !is_fn_line(l) || l.trim_end().ends_with(';') {
            continue;
        }
        let indent = &l[..l.len() - l.trim_start().len()];
        let close = format!("{indent}}}");
        if let Some(end) = lines[i..].iter().position(|x| *x == close) {
            out.push((l.trim().to_string(), end + 1));
        }
    }
    out
}

#[test]
fn files_and_functions_stay_within_the_limits() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let (mut over_100, mut over_80) = (Vec::new(), 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        let n = text.lines().count();
        assert!(
            n <= MAX_FILE_LINES,
            "src/{rel} has {n} lines; split it (at most {MAX_FILE_LINES})"
        );
        for (name, len) in functions(&non_test(f, &text)) {
            if len > 100 {
                over_100.push(format!("src/{rel}: {name} ({len} lines)"));
            }
            if len > 80 {
                over_80 += 1;
            }
        }
    }
    assert!(
        over_100.len() <= MAX_OVER_100,
        "{} functions over 100 lines (at most {MAX_OVER_100}); split the new ones:\n{}",
        over_100.len(),
        over_100.join("\n")
    );
    assert!(
        over_80 <= MAX_OVER_80,
        "{over_80} functions over 80 lines (at most {MAX_OVER_80})"
    );
}

#[test]
fn the_measure_finds_functions_as_rustfmt_lays_them_out() {
    let code = "pub fn a() {\n    x();\n}\n\nimpl T {\n    pub(crate) fn b(&self) {\n        y();\n        z();\n    }\n    fn c();\n}\n";
    assert_eq!(
        functions(code),
        [
            ("pub fn a() {".to_string(), 3),
            ("pub(crate) fn b(&self) {".to_string(), 4)
        ]
    );
}
