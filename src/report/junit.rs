//! Results as JUnit XML, the report CI systems (GitLab, Jenkins, GitHub
//! test reporters) read: one `<testcase>` per check of `qualify`, per metric
//! of `compare`, per node and check of `fleet report`. FAIL (a regression,
//! for compare) is a `<failure>`, NOT MEASURED a `<skipped>`; the message
//! holds the measured figure and the limit. The layout follows the JUnit
//! XML that Jenkins' and GitLab's readers take
//! (<https://github.com/testmoapp/junitxml>): `testsuites` > `testsuite` >
//! `testcase`, with `tests`, `failures` and `errors` counted, and `skipped`
//! per suite; it validates against the Jenkins xunit plugin's junit-10.xsd.

use std::fmt::Write as _;

use super::ReportError;
use super::values::value;
use crate::results::compare::{Change, Comparison};
use crate::results::fleet::{CheckColumn, FleetReport, NodeRow, Outlier, TaskOutcome};
use crate::results::qualify::{Check, QualifyReport, Verdict};
use crate::results::{Envelope, Kind};

/// How one test case came out.
enum Outcome {
    Passed,
    Failed { message: String, kind: &'static str },
    Skipped { message: String },
}

struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
    /// What the check saw, for every outcome.
    out: String,
}

struct Suite {
    name: String,
    time: f64,
    cases: Vec<Case>,
}

/// Text for XML character data and attribute values: `& < > " '` as
/// entities, and the characters XML 1.0 cannot hold at all (controls other
/// than tab, line feed and carriage return; U+FFFE, U+FFFF) as U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as JUnit writes them.
fn secs(t: f64) -> String {
    format!("{:.3}", if t.is_finite() { t.max(0.0) } else { 0.0 })
}

fn xml(suites: &[Suite], name: &str) -> String {
    // `skipped` is counted per suite only: Jenkins' JUnit schema (xunit
    // plugin, junit-10.xsd) has no such attribute on <testsuites>.
    let count = |f: &dyn Fn(&Case) -> bool| -> usize {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| f(c))
            .count()
    };
    let failed = |c: &Case| matches!(c.outcome, Outcome::Failed { .. });
    let skipped = |c: &Case| matches!(c.outcome, Outcome::Skipped { .. });
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">",
        escape(name),
        count(&|_| true),
        count(&failed),
        secs(suites.iter().map(|s| s.time).sum()),
    );
    for s in suites {
        let n = |f: &dyn Fn(&Case) -> bool| s.cases.iter().filter(|c| f(c)).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
            escape(&s.name),
            s.cases.len(),
            n(&failed),
            n(&skipped),
            secs(s.time),
        );
        for c in &s.cases {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
                escape(&c.classname),
                escape(&c.name)
            );
            match &c.outcome {
                Outcome::Passed => {}
                Outcome::Failed { message, kind } => {
                    let _ = writeln!(
                        x,
                        "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                        escape(message),
                        escape(message)
                    );
                }
                Outcome::Skipped { message } => {
                    let _ = writeln!(x, "      <skipped message=\"{}\"/>", escape(message));
                }
            }
            if !c.out.is_empty() {
                let _ = writeln!(x, "      <system-out>{}</system-out>", escape(&c.out));
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// The result as JUnit XML, for the kinds that hold checks or a gate.
pub(crate) fn junit(r: &Envelope) -> Result<String, ReportError> {
    let suites = match &r.kind {
        Kind::Qualify(q) => vec![qualify(q, &r.node)],
        Kind::Compare(c) => vec![compare(c)],
        Kind::Fleet(f) => fleet(f),
        other => return Err(ReportError::NoSuchFormat(other.name(), "JUnit")),
    };
    Ok(xml(&suites, &format!("cryocap {}", r.kind.name())))
}

/// "measured 23.54 GiB (23.50 GiB..23.60 GiB); minimum 32.00 GiB, recommended 64.00 GiB".
fn figures(c: &Check) -> String {
    let v = |x: f64| value(&c.unit, &c.id, x);
    let measured = match (c.value, c.min, c.max) {
        (Some(m), Some(lo), Some(hi)) if hi > lo => {
            format!("measured {} ({}..{})", v(m), v(lo), v(hi))
        }
        (Some(m), _, _) => format!("measured {}", v(m)),
        _ => "not measured".to_string(),
    };
    let limits: Vec<String> = [("minimum", c.minimum), ("recommended", c.recommended)]
        .into_iter()
        .filter_map(|(what, t)| t.map(|t| format!("{what} {}", v(t))))
        .collect();
    match limits.is_empty() {
        true => measured,
        false => format!("{measured}; {}", limits.join(", ")),
    }
}

fn qualify(q: &QualifyReport, node: &str) -> Suite {
    let classname = format!("cryocap.qualify.{node}");
    let cases = q
        .checks
        .iter()
        .map(|c| {
            let said = format!("{}: {} ({})", c.verdict.label(), figures(c), c.source);
            let why = match c.note.is_empty() {
                true => said.clone(),
                false => format!("{said}; {}", c.note),
            };
            let outcome = match c.verdict {
                Verdict::Fail => Outcome::Failed {
                    message: format!("{}: {}", c.label, figures(c)),
                    kind: "FAIL",
                },
                Verdict::NotMeasured => Outcome::Skipped {
                    message: match c.note.is_empty() {
                        true => format!("{}: not measured", c.label),
                        false => format!("{}: not measured: {}", c.label, c.note),
                    },
                },
                Verdict::Pass | Verdict::Warn | Verdict::Inconclusive => Outcome::Passed,
            };
            Case {
                classname: classname.clone(),
                name: format!("{} ({})", c.label, c.id),
                outcome,
                out: why,
            }
        })
        .collect();
    Suite {
        name: format!("cryocap qualify {} on {node}", q.profile.id),
        time: q.duration_seconds,
        cases,
    }
}

fn compare(c: &Comparison) -> Suite {
    let mut cases: Vec<Case> = c
        .rows
        .iter()
        .map(|r| {
            let v = |x: f64| value(&r.unit, &r.id, x);
            let said = format!(
                "{} {:+.1}%: baseline {}, current {}; the limit is {:.1}% worse",
                match r.change {
                    Change::Regression => "regression",
                    Change::Improvement => "improvement",
                    Change::WithinNoise => "beyond the limit but within the noise",
                    Change::Unchanged => "unchanged",
                },
                100.0 * r.relative_change,
                v(r.baseline),
                v(r.current),
                100.0 * c.threshold
            );
            let outcome = match r.change {
                Change::Regression => Outcome::Failed {
                    message: format!("{}: {said}", r.label),
                    kind: "REGRESSION",
                },
                _ => Outcome::Passed,
            };
            Case {
                classname: "cryocap.compare".into(),
                name: format!("{} ({})", r.label, r.id),
                outcome,
                out: said,
            }
        })
        .collect();
    for m in &c.missing {
        cases.push(Case {
            classname: "cryocap.compare".into(),
            name: m.clone(),
            outcome: Outcome::Skipped {
                message: format!("{m}: the baseline has it, the current run does not"),
            },
            out: String::new(),
        });
    }
    Suite {
        name: format!("cryocap compare {} against {}", c.current, c.baseline),
        time: 0.0,
        cases,
    }
}

/// One suite per node (its checks, and whether it is an outlier), then one
/// for the job: each task that did not run and each node that left no result.
fn fleet(f: &FleetReport) -> Vec<Suite> {
    let mut suites: Vec<Suite> = f.nodes.iter().map(|n| node_suite(f, n)).collect();
    let job = job_cases(f);
    if !job.is_empty() {
        suites.push(Suite {
            name: "cryocap fleet: job".into(),
            time: f.completed_after_seconds.unwrap_or(0.0),
            cases: job,
        });
    }
    suites
}

/// One node: a case per check it has a verdict for, then one per metric
/// where it is an outlier.
fn node_suite(f: &FleetReport, n: &NodeRow) -> Suite {
    let classname = format!("cryocap.fleet.{}", n.node);
    let mut cases: Vec<Case> = f
        .checks
        .iter()
        .enumerate()
        .filter_map(|(i, k)| n.verdicts.get(i).copied().flatten().map(|v| (i, k, v)))
        .map(|(i, k, v)| node_check_case(n, i, k, v, &classname))
        .collect();
    for o in f.outliers.iter().filter(|o| o.node == n.node) {
        cases.push(outlier_case(o, f.margin, &classname));
    }
    Suite {
        name: format!("cryocap fleet: {}", n.node),
        time: 0.0,
        cases,
    }
}

/// Check `k` (column `i`) on node `n`, with its verdict `v`.
fn node_check_case(n: &NodeRow, i: usize, k: &CheckColumn, v: Verdict, classname: &str) -> Case {
    // the node's figures where the report kept them, else
    // where to find them
    let said = match n.details.get(i).and_then(Option::as_ref) {
        Some(c) => figures(c),
        None => format!("see {} for the figures", n.file),
    };
    let outcome = match v {
        Verdict::Fail => Outcome::Failed {
            message: format!("{} on {}: {said}", k.label, n.node),
            kind: "FAIL",
        },
        Verdict::NotMeasured => Outcome::Skipped {
            message: format!("{} on {}: {said}", k.label, n.node),
        },
        _ => Outcome::Passed,
    };
    Case {
        classname: classname.to_string(),
        name: format!("{} ({})", k.label, k.id),
        outcome,
        out: format!("{}: {said}", v.label()),
    }
}

/// A metric where the node is worse than the fleet median by more than
/// the margin.
fn outlier_case(o: &Outlier, margin: f64, classname: &str) -> Case {
    let v = |x: f64| value(&o.unit, &o.metric, x);
    let message = format!(
        "{} on {}: {} is {:.0}% worse than the fleet median {} (the margin is {:.0}%)",
        o.metric,
        o.node,
        v(o.value),
        100.0 * o.shortfall,
        v(o.fleet_median),
        100.0 * margin
    );
    Case {
        classname: classname.to_string(),
        name: format!("outlier: {}", o.metric),
        outcome: Outcome::Failed {
            message: message.clone(),
            kind: "OUTLIER",
        },
        out: message,
    }
}

/// The job's cases: each task that did not run to its result, then each
/// node the job asked for that left no results file.
fn job_cases(f: &FleetReport) -> Vec<Case> {
    let mut job = Vec::new();
    for t in f.tasks.iter().filter(|t| t.outcome != TaskOutcome::Ran) {
        let message = format!(
            "task {} for {} did not run to its result: {}{}",
            t.task,
            t.node,
            t.state.state,
            match t.log_tail.is_empty() {
                true => String::new(),
                false => format!("; its log ends: {}", t.log_tail),
            }
        );
        job.push(Case {
            classname: "cryocap.fleet.job".into(),
            name: format!("task {} ({})", t.task, t.node),
            outcome: Outcome::Failed {
                message: message.clone(),
                kind: "TASK",
            },
            out: message,
        });
    }
    for m in &f.missing {
        job.push(Case {
            classname: "cryocap.fleet.job".into(),
            name: format!("result of {m}"),
            outcome: Outcome::Failed {
                message: format!("{m}: the job asked for it and it left no results file"),
                kind: "MISSING",
            },
            out: String::new(),
        });
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
        assert_eq!(
            escape("bell\u{7} nul\u{0} \u{FFFE}"),
            "bell\u{FFFD} nul\u{FFFD} \u{FFFD}"
        );
        assert_eq!(escape("µ Å ]]>"), "µ Å ]]&gt;");
    }

    proptest::proptest! {
        /// Whatever the text, the escaped form holds no markup character
        /// and no character XML 1.0 forbids.
        #[test]
        fn escaped_text_is_plain_xml(s in ".*") {
            let e = escape(&s);
            proptest::prop_assert!(!e.contains(['<', '>', '"', '\'']));
            proptest::prop_assert!(e.chars().all(|c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r')));
            proptest::prop_assert!(e.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
                .replace("&quot;", "").replace("&apos;", "").chars().all(|c| c != '&'));
        }
    }
}
