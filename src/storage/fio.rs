//! fio, the reference storage benchmark: the job file equivalent to a
//! `cryocap bench io` run (`--emit-fio`), and reading fio's JSON output to
//! compare against.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::patterns::Pattern;

/// What the job file describes.
#[derive(Debug, Clone, PartialEq)]
pub struct FioJobs {
    pub files: Vec<PathBuf>,
    /// Block size: one particle, rounded up to the direct-I/O alignment.
    pub block_bytes: u64,
    /// Where fio starts in each file: the first particle, aligned down.
    pub offset_bytes: u64,
    /// Bytes from there fio may touch (the smallest file's particles, aligned down).
    pub size_bytes: u64,
    pub patterns: Vec<Pattern>,
    pub threads: u32,
    pub iodepth: u32,
    pub direct: bool,
    pub passes: u32,
    pub duration_s: Option<f64>,
}

/// A path as fio's `filename=` takes it (`:` separates files, so it is
/// escaped), or why fio cannot be given it: a line break or other control
/// character would end the option and start another (a `exec_prerun=` in a
/// file name runs a command), `#` and `;` start a comment that cuts the
/// name short (fio 3.33 opens `run` for `run#1.mrcs`), `$` is expanded
/// (`${HOME}`, `$ncpus`, `$mb_memory`), a backslash could escape the
/// separator, blanks at either end are trimmed, and a name that is not
/// UTF-8 cannot be written exactly.
pub fn escape(p: &Path) -> Result<String, String> {
    let text = p
        .to_str()
        .ok_or_else(|| format!("{}: the name is not UTF-8", p.display()))?;
    let bad = |why: &str| Err(format!("{text:?}: {why}; fio cannot be given this file"));
    if text.chars().any(char::is_control) {
        return bad("its name holds a control character (a line break ends a fio option)");
    }
    if text.contains('$') {
        return bad(
            "fio would expand the $ in its name (as an environment variable, or one of its own such as $ncpus)",
        );
    }
    if text.contains(['#', ';']) {
        return bad("fio would take the # or ; in its name for the start of a comment");
    }
    if text.contains('\\') {
        return bad("its name holds a backslash, fio's escape character");
    }
    if text.trim() != text {
        return bad("its name starts or ends with a blank, which fio strips");
    }
    Ok(text.replace(':', "\\:"))
}

/// The job file text: one stonewalled job per pattern; an error naming the
/// first file fio cannot be given (see [`escape`]).
pub fn job_file(j: &FioJobs) -> Result<String, String> {
    let names = j
        .files
        .iter()
        .map(|p| escape(p))
        .collect::<Result<Vec<String>, String>>()?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "; fio jobs equivalent to a `cryocap bench io` run. cryocap reads each particle\n\
         ; at its own offset (widened to aligned ranges under O_DIRECT); fio reads\n\
         ; aligned blocks of the same size. fio has no shuffled-epoch or subset mode:\n\
         ; epochs:N and subset:F map to randread. Run it with `fio --readonly`."
    );
    let _ = writeln!(s, "[global]");
    let engine = if j.iodepth > 1 { "libaio" } else { "psync" };
    let _ = writeln!(s, "ioengine={engine}");
    let _ = writeln!(s, "iodepth={}", j.iodepth.max(1));
    let _ = writeln!(s, "numjobs={}", j.threads.max(1));
    let _ = writeln!(s, "direct={}", u8::from(j.direct));
    if !j.direct {
        let _ = writeln!(s, "invalidate=1");
    }
    let _ = writeln!(s, "bs={}", j.block_bytes);
    let _ = writeln!(s, "filename={}", names.join(":"));
    let _ = writeln!(s, "offset={}", j.offset_bytes);
    let _ = writeln!(s, "size={}", j.size_bytes);
    let _ = writeln!(s, "group_reporting=1");
    match j.duration_s {
        Some(d) => {
            let _ = writeln!(s, "time_based=1\nruntime={}", d.ceil().max(1.0) as u64);
        }
        None => {
            let _ = writeln!(s, "loops={}", j.passes.max(1));
        }
    }
    for p in &j.patterns {
        let rw = if p.is_sequential() {
            "read"
        } else {
            "randread"
        };
        let name = p.label().replace(':', "_");
        let _ = writeln!(s, "\n[{name}]\nstonewall\nrw={rw}");
        if let Pattern::Epochs(n) = p {
            let _ = writeln!(s, "loops={n}");
        }
    }
    Ok(s)
}

/// One job's read figures from fio's `--output-format=json`.
#[derive(Debug, Clone, PartialEq)]
pub struct FioRead {
    pub job: String,
    pub bw_bytes: f64,
    pub iops: f64,
    /// Completion-latency percentiles (ns) keyed by fio's labels, e.g. "50.000000".
    pub clat_p50_ns: Option<f64>,
}

/// Reads the jobs of fio's JSON output.
pub fn parse_json(text: &str) -> Result<Vec<FioRead>, String> {
    // fio may print notes before the JSON object.
    let start = text.find('{').ok_or("no JSON object in fio's output")?;
    let v: serde_json::Value =
        serde_json::from_str(&text[start..]).map_err(|e| format!("fio JSON: {e}"))?;
    let jobs = v["jobs"].as_array().ok_or("fio JSON has no jobs array")?;
    jobs.iter()
        .map(|j| {
            let read = &j["read"];
            Ok(FioRead {
                job: j["jobname"].as_str().unwrap_or_default().to_string(),
                bw_bytes: read["bw_bytes"].as_f64().ok_or("read.bw_bytes missing")?,
                iops: read["iops"].as_f64().ok_or("read.iops missing")?,
                clat_p50_ns: read["clat_ns"]["percentile"]["50.000000"].as_f64(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_file_uses_fio_words() {
        let t = job_file(&FioJobs {
            files: vec![PathBuf::from("a:b.mrcs"), PathBuf::from("c.mrcs")],
            block_bytes: 262_144,
            offset_bytes: 0,
            size_bytes: 1 << 30,
            patterns: vec![Pattern::Sequential, Pattern::Epochs(3)],
            threads: 1,
            iodepth: 4,
            direct: true,
            passes: 1,
            duration_s: None,
        })
        .unwrap();
        assert!(t.contains("ioengine=libaio\niodepth=4\nnumjobs=1\ndirect=1\nbs=262144\n"));
        assert!(t.contains("filename=a\\:b.mrcs:c.mrcs\n"));
        assert!(t.contains("[sequential]\nstonewall\nrw=read\n"));
        assert!(t.contains("[epochs_3]\nstonewall\nrw=randread\nloops=3\n"));
    }

    #[test]
    fn names_fio_would_misread_are_refused() {
        for bad in [
            "a\nexec_prerun=touch X\n;.mrcs",
            "a\r.mrcs",
            "${HOME}.mrcs",
            "a\\",
            " lead.mrcs",
            "trail.mrcs ",
            "run#1.mrcs",
            "a;b.mrcs",
            "x$ncpus.mrcs",
        ] {
            let e = escape(Path::new(bad)).unwrap_err();
            assert!(e.contains("fio cannot be given"), "{bad:?}: {e}");
        }
        assert_eq!(
            escape(Path::new("dir/a b:c.mrcs")).unwrap(),
            "dir/a b\\:c.mrcs"
        );
    }

    #[test]
    fn fio_json_is_read() {
        let j = r#"note: something
{"jobs":[{"jobname":"random","read":{"bw_bytes":1000,"iops":4.5,
 "clat_ns":{"percentile":{"50.000000":1200}}}}]}"#;
        let r = parse_json(j).unwrap();
        assert_eq!(r[0].job, "random");
        assert_eq!(r[0].bw_bytes, 1000.0);
        assert_eq!(r[0].clat_p50_ns, Some(1200.0));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// fio's output, cut and nested anywhere, is read or refused.
        #[test]
        fn fio_output_never_panics(
            text in prop_oneof![
                "[ -~\n]{0,300}",
                (0usize..20_000).prop_map(|n| format!("{{\"jobs\":{}", "[".repeat(n))),
            ]
        ) {
            let _ = parse_json(&text);
        }
    }
}
