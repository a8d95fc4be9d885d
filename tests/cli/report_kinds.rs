//! `cryocap report` renders the stored result of every command that writes
//! one, in every format, from what the file stores (insta snapshots); the
//! JSON it writes back is the file itself, byte for byte.

use std::path::PathBuf;

use crate::common::cryocap;

/// Every kind of result file, named as its `kind`.
const KINDS: [&str; 23] = [
    "plan",
    "bench-io",
    "bench-gpu",
    "cache-simulate",
    "cache-sweep",
    "cache-subset",
    "cache-copy-bench",
    "reconstruct",
    "qualify",
    "fleet",
    "compare",
    "stack-create",
    "stack-info",
    "probe",
    "fit",
    "movies-plan",
    "movies-create",
    "bench-movies",
    "recommend",
    "job-run",
    "job-predict",
    "job-validate",
    "facility",
];

fn fixture(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/results")
        .join(format!("{kind}.json"))
}

fn report(kind: &str, format: &str) -> String {
    let out = cryocap()
        .arg("report")
        .arg(fixture(kind))
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} as {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn every_kind_is_read_as_the_kind_it_is() {
    for kind in KINDS {
        let r = cryocap::files::read_result(&fixture(kind)).unwrap();
        assert_eq!(r.kind.name(), kind);
        assert_eq!(r.schema_version, cryocap::results::SCHEMA_VERSION);
    }
}

#[test]
fn json_round_trips_byte_for_byte() {
    for kind in KINDS {
        let stored = std::fs::read_to_string(fixture(kind)).unwrap();
        assert_eq!(report(kind, "json"), stored, "{kind}");
    }
}

#[test]
fn every_kind_renders_as_a_table_markdown_html_and_csv() {
    for kind in KINDS {
        for format in ["table", "markdown", "html", "csv"] {
            let text = report(kind, format);
            match format {
                "html" => {
                    assert!(text.starts_with("<!DOCTYPE html>") && text.ends_with("</html>\n"))
                }
                "csv" => {
                    let mut r = csv::Reader::from_reader(text.as_bytes());
                    assert_eq!(
                        r.headers().unwrap(),
                        vec!["section", "item", "metric", "value", "unit"],
                        "{kind}"
                    );
                    let rows = r.records().collect::<Result<Vec<_>, _>>().unwrap().len();
                    assert!(rows > 0, "{kind}: an empty CSV");
                }
                _ => {}
            }
            insta::assert_snapshot!(format!("report_{kind}_{format}"), text);
        }
    }
}

/// The charts the HTML page carries come from the stored figures.
#[test]
fn html_pages_carry_their_charts() {
    let sweep = report("cache-sweep", "html");
    assert!(sweep.contains("<svg") && sweep.contains("SSD cache sweep"));
    let qualify = report("qualify", "html");
    assert!(qualify.contains("VRAM needed per job type"));
    let recommend = report("recommend", "html");
    assert!(recommend.contains("<svg") && recommend.contains("Pareto frontier: node price"));
}
