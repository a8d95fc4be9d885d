//! Every numbered fact the code, data and pages cite ("docs/sources.md §7",
//! "§11", or "REFERENCE §5" in results written before that page existed)
//! has its section in docs/sources.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What is scanned for citations, relative to the crate root: the code, the
/// shipped data, the pages and scripts, and the stored results and outputs
/// the tests keep (their "REFERENCE §N" lead to the same sections). The
/// tests' own sources are left out: this file names made-up numbers.
const SCANNED: [&str; 9] = [
    "README.md",
    "src",
    "docs",
    "datasets",
    "scripts",
    "kernels",
    "benches",
    "tests/fixtures",
    "tests/cli/snapshots",
];

const SOURCES: &str = "docs/sources.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The section numbers `text` cites: each `§` followed by digits and dots
/// ("§3", "§3.2"); a dot that ends the number ends a sentence, not the number.
fn cited(text: &str) -> Vec<String> {
    text.match_indices('§')
        .filter_map(|(i, s)| {
            let rest = &text[i + s.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = rest[..end].trim_end_matches('.');
            number
                .starts_with(|c: char| c.is_ascii_digit())
                .then(|| number.to_string())
        })
        .collect()
}

/// The section numbers docs/sources.md has a heading for ("## §7 Storage tiers").
fn headings(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches('#').trim_start())
        .filter(|l| l.starts_with('§'))
        .flat_map(|l| cited(l).into_iter().take(1))
        .collect()
}

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            files(&e.path(), out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

/// Every citation under `SCANNED`: section number → where it is cited.
fn citations() -> BTreeMap<String, Vec<String>> {
    let root = root();
    let mut paths = Vec::new();
    for p in SCANNED {
        files(&root.join(p), &mut paths);
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in paths {
        // Images and other binary files cite nothing that can be read.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let shown = path.strip_prefix(&root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            for number in cited(line) {
                out.entry(number)
                    .or_default()
                    .push(format!("{shown}:{}", n + 1));
            }
        }
    }
    out
}

#[test]
fn citations_are_read_as_section_numbers() {
    assert_eq!(
        cited("see §3.2, then docs/sources.md §11. Also §5; §x and § 4 are not"),
        ["3.2", "11", "5"]
    );
    assert_eq!(
        headings("# Sources\n## §3 Cache\ntext §9\n### §3.2 Reserve\n## Seeds\n"),
        BTreeSet::from(["3".to_string(), "3.2".to_string()])
    );
}

#[test]
fn every_cited_section_is_in_sources_md() {
    let text = std::fs::read_to_string(root().join(SOURCES)).unwrap();
    let sections = headings(&text);
    let citations = citations();
    // A scan that found nothing would pass without checking anything.
    assert!(
        citations.len() >= 5,
        "only {:?} cited: is the scan reading the tree?",
        citations.keys().collect::<Vec<_>>()
    );
    let missing: Vec<String> = citations
        .iter()
        .filter(|(number, _)| !sections.contains(*number))
        .map(|(number, at)| format!("§{number} (cited at {})", at.join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "{SOURCES} has no `## §N` heading for: {}",
        missing.join("; ")
    );
}
