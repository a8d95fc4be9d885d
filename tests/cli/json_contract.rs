//! docs/json.md names only fields the results files have: every path it
//! documents is found in the stored file of its kind (or, for an optional
//! field left out there, is a field of the results types), and every
//! top-level field of those files is documented.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A documented field: its path (`a.b[].c`) and whether it may be absent.
struct Field {
    path: String,
    optional: bool,
}

/// The fields of each section of docs/json.md, by section name (`plan`,
/// `Envelope`, `Metrics`, ...).
fn documented() -> BTreeMap<String, Vec<Field>> {
    let text = std::fs::read_to_string(root().join("docs/json.md")).unwrap();
    let mut out: BTreeMap<String, Vec<Field>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim_matches('`').to_string();
        } else if let Some(row) = line.strip_prefix("| `") {
            let cell = row.split('|').next().unwrap_or_default();
            let path = cell.split('`').next().unwrap_or_default().to_string();
            let optional = cell.contains("*(optional)*");
            out.entry(section.clone())
                .or_default()
                .push(Field { path, optional });
        }
    }
    out
}

/// Whether `path` leads somewhere in `v`; `x[]` steps into any element.
fn resolves(v: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let (key, array) = match first.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (*first, false),
    };
    let Some(next) = v.get(key) else {
        return false;
    };
    if array {
        next.as_array()
            .is_some_and(|a| a.iter().any(|e| resolves(e, rest)))
    } else {
        resolves(next, rest)
    }
}

fn fixture(kind: &str) -> Value {
    let p = root().join(format!("tests/fixtures/results/{kind}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Every field name the results types serialise (`pub name:` or a rename).
fn type_fields() -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(root().join("src/results"))
        .unwrap()
        .flatten()
    {
        all.push_str(&std::fs::read_to_string(e.path()).unwrap());
    }
    all
}

const ENVELOPE: [&str; 5] = [
    "schema_version",
    "cryocap_version",
    "started_at",
    "node",
    "kind",
];

#[test]
fn every_documented_field_exists() {
    let docs = documented();
    let types = type_fields();
    let kinds: Vec<&String> = docs
        .keys()
        .filter(|k| *k != "Envelope" && *k != "Metrics")
        .collect();
    assert_eq!(kinds.len(), 23, "{kinds:?}");
    let check = |fields: &[Field], kind: &str, v: &Value| {
        for f in fields {
            let path: Vec<&str> = f.path.split('.').collect();
            if resolves(v, &path) {
                continue;
            }
            let last = path.last().unwrap().trim_end_matches("[]");
            let known = types.contains(&format!("pub {last}:"))
                || types.contains(&format!("rename = \"{last}\""));
            assert!(
                f.optional && known,
                "docs/json.md names `{}` for {kind}, which its file does not have",
                f.path
            );
        }
    };
    for kind in &kinds {
        check(&docs[*kind], kind, &fixture(kind));
        check(&docs["Envelope"], kind, &fixture(kind));
    }
    for kind in ["qualify", "bench-io", "cache-copy-bench"] {
        check(&docs["Metrics"], kind, &fixture(kind));
    }
}

#[test]
fn every_field_of_the_files_is_documented() {
    let docs = documented();
    for (kind, fields) in docs
        .iter()
        .filter(|(k, _)| *k != "Envelope" && *k != "Metrics")
    {
        let Value::Object(top) = fixture(kind) else {
            panic!("{kind}: not an object")
        };
        for key in top.keys().filter(|k| !ENVELOPE.contains(&k.as_str())) {
            let named = fields.iter().any(|f| {
                f.path
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches("[]")
                    == key
            });
            assert!(named, "{kind}: field `{key}` is not in docs/json.md");
        }
    }
}
