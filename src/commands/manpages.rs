//! `cryocap manpages --dir DIR`: one roff man page (section 1) per command,
//! made by clap_mangen from the command tree the parser uses. Every page is
//! checked before any is written, and each is written atomically.

use std::io::Write;
use std::path::PathBuf;

use super::output::{Out, check_outputs};
use super::{CommandError, Outcome};
use crate::cli::ManpagesArgs;
use crate::report::writer::{self, Destination};

pub(super) fn run(a: &ManpagesArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let dir = &a.dir;
    let is_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    if !is_dir {
        return Err(CommandError::Usage(format!(
            "--dir {}: is not a directory (a link to one is refused too); create it first",
            dir.display()
        )));
    }
    let pages = pages().map_err(|e| CommandError::Usage(format!("man pages: {e}")))?;
    let paths: Vec<PathBuf> = pages.iter().map(|(name, _)| dir.join(name)).collect();
    let outs: Vec<Out<'_>> = paths.iter().map(|p| Out::file("--dir", p)).collect();
    check_outputs(&outs, &[])?;
    let mut listing = String::new();
    for ((_, text), path) in pages.iter().zip(&paths) {
        writer::write(&Destination::File(path.clone()), text, out)?;
        listing.push_str(&format!("{}\n", path.display()));
    }
    writer::write(&Destination::Stdout, listing.as_bytes(), out)?;
    Ok(Outcome::Ok)
}

/// Each page's file name (`cryocap-bench-io.1`) and roff text: the command
/// and every subcommand that is not hidden.
fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    struct Header {
        date: String,
        source: String,
    }
    fn walk(
        cmd: &clap::Command,
        header: &Header,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<()> {
        // the title is the page's whole name (`CRYOCAP-BENCH-IO`), not the
        // last word, and every page carries cryocap's version and date
        let man = clap_mangen::Man::new(cmd.clone())
            .title(
                cmd.get_display_name()
                    .unwrap_or(cmd.get_name())
                    .to_uppercase(),
            )
            .date(header.date.as_str())
            .source(header.source.as_str())
            .manual("cryocap manual");
        let mut text = Vec::new();
        man.render(&mut text)?;
        out.push((man.get_filename(), text));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, header, out)?;
        }
        Ok(())
    }
    let mut root = crate::cli::command().disable_help_subcommand(true);
    root.build();
    let header = Header {
        date: page_date(),
        source: format!("cryocap {}", env!("CARGO_PKG_VERSION")),
    };
    let mut out = Vec::new();
    walk(&root, &header, &mut out)?;
    Ok(out)
}

/// The pages' date, YYYY-MM-DD: `SOURCE_DATE_EPOCH` when set (reproducible
/// release builds), else today (UTC).
fn page_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(super::output::now);
    let (y, m, d) = civil_date(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day number since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_789), (2026, 12, 2));
    }

    #[test]
    fn one_page_per_visible_command() {
        let pages = pages().unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "cryocap.1",
            "cryocap-plan.1",
            "cryocap-bench-io.1",
            "cryocap-cache-copy-bench.1",
        ] {
            assert!(names.contains(&want), "{want} not in {names:?}");
        }
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("cryocap") && n.ends_with(".1")),
            "{names:?}"
        );
        assert!(
            !names
                .iter()
                .any(|n| n.contains("shared-read") || n.contains("help"))
        );
    }
}
