//! The layering of DESIGN.md, checked on the source: nothing below
//! `commands` sees clap or `commands`, `results` imports nothing of the
//! crate, and the top-level modules import each other without a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The code of a file without its comments (doc links are not imports).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `text` names through `crate::`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            // use crate::{a::b, c};
            let end = list.find('}').unwrap_or(list.len());
            for part in list[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Each top-level module of src/ with the top-level modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let refs = crate_refs(&code(&f));
        g.entry(top.clone())
            .or_default()
            .extend(refs.into_iter().filter(|r| *r != top));
    }
    g
}

#[test]
fn nothing_below_commands_sees_clap_or_commands() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("cli") || rel.starts_with("commands") || rel == "main.rs" {
            continue;
        }
        let text = code(&f);
        assert!(!text.contains("clap"), "{rel} uses clap");
        let refs = crate_refs(&text);
        assert!(
            !refs.contains("commands") && !refs.contains("cli"),
            "{rel} reaches up into {refs:?}"
        );
    }
}

#[test]
fn results_is_a_leaf() {
    let g = graph();
    assert!(g["results"].is_empty(), "results uses {:?}", g["results"]);
}

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph();
    assert!(g.len() > 10, "{g:?}");
    // Depth-first search; a module met again while on the path is a cycle.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!("import cycle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            visit(d, g, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        visit(m, &g, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_checker_finds_what_it_looks_for() {
    let refs = crate_refs("use crate::{results::Kind, units};\nlet x = crate::gpu::probe();");
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["gpu", "results", "units"]
    );
}

/// Files that may tell the schedulers apart: the backends, the interface
/// that picks one, and the type's own impl.
const SCHEDULER_FILES: [&str; 6] = [
    "fleet/scheduler.rs",
    "fleet/slurm.rs",
    "fleet/gridengine.rs",
    "fleet/pbs.rs",
    "fleet/qsub.rs",
    "results/fleet.rs",
];

/// Where `text` tells one scheduler from another: a match arm or a
/// comparison on a `SchedulerKind` variant, or the string tests of old.
fn scheduler_branches(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        for v in ["Slurm", "Sge", "Pbs"] {
            let variant = format!("SchedulerKind::{v}");
            if l.contains(&format!("{variant} =>")) || l.contains(&format!("== {variant}")) {
                found.push(l.to_string());
            }
        }
        if l.contains("Some(\"sge\")") || l.contains("is_sge(") {
            found.push(l.to_string());
        }
    }
    found
}

#[test]
fn only_the_scheduler_backends_tell_schedulers_apart() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if SCHEDULER_FILES.contains(&rel.as_str()) {
            continue;
        }
        let found = scheduler_branches(&code(&f));
        assert!(
            found.is_empty(),
            "{rel} branches on the scheduler: {found:?}"
        );
    }
    assert_eq!(
        scheduler_branches(
            "match k {\n SchedulerKind::Pbs => 1,\n}\nif s.scheduler.as_deref() == Some(\"sge\") {}"
        )
        .len(),
        2
    );
}

/// The command files a command file imports (`use super::other_command`);
/// `output`, `convert` and the module root are shared by all of them.
fn command_imports(text: &str) -> Vec<String> {
    let shared = ["output", "convert", "CommandError", "Outcome"];
    let mut out = Vec::new();
    for (i, _) in text.match_indices("super::") {
        let name: String = text[i + "super::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !shared.contains(&name.as_str()) && name != "super" {
            out.push(name);
        }
    }
    out
}

#[test]
fn no_command_imports_another_commands_file() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "mod.rs" {
            continue;
        }
        let text = code(&f);
        // A file's own tests see it through `super::*`.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let found = command_imports(text);
        assert!(found.is_empty(), "commands/{name} imports {found:?}");
    }
    assert_eq!(
        command_imports("use super::movies_create::spec;\nuse super::output::finish;"),
        ["movies_create"]
    );
}
