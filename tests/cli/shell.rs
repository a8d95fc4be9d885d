//! `cryocap completions` and `cryocap manpages`: the bash script is sourced
//! by bash and completes subcommands; every man page passes `mandoc -T lint`
//! without errors (CI installs mandoc and sets CRYOCAP_REQUIRE_MANDOC=1).

use crate::common::{cryocap, runs, tool_or_skip};

/// What bash's completion function offers for `words` (the last one being
/// completed), after sourcing the script cryocap printed.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let array: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = words[cword.saturating_sub(1)];
    let cur = words[cword];
    let program = format!(
        "set -e; source '{}'; complete -p cryocap >/dev/null; \
         COMP_WORDS=({}); COMP_CWORD={cword}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; \
         _cryocap cryocap '{cur}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        array.join(" "),
        words.join(" "),
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_sources_the_script_and_completes_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cryocap.bash");
    let out = cryocap().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
    std::fs::write(&script, &out.stdout).unwrap();
    assert_eq!(bash_completes(&script, &["cryocap", "qua"]), ["qualify"]);
    let bench = bash_completes(&script, &["cryocap", "bench", ""]);
    assert!(
        bench.contains(&"io".to_string()) && bench.contains(&"gpu".to_string()),
        "{bench:?}"
    );
    let flags = bash_completes(&script, &["cryocap", "plan", "--parti"]);
    assert!(flags.contains(&"--particles".to_string()), "{flags:?}");
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    for shell in ["zsh", "fish"] {
        let out = cryocap().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("qualify") && text.contains("copy-bench"),
            "{shell}"
        );
        // parsed by the shell itself where it is installed
        if runs(shell, &["-c", "true"]) {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("script");
            std::fs::write(&f, &text).unwrap();
            let ok = std::process::Command::new(shell)
                .arg("-n")
                .arg(&f)
                .status()
                .unwrap();
            assert!(ok.success(), "{shell} -n refuses the script");
            if shell == "fish" {
                // fish completes a command line through the script
                let program = format!("source '{}'; complete -C 'cryocap ben'", f.display());
                let out = std::process::Command::new("fish")
                    .args(["--no-config", "-c", &program])
                    .output()
                    .unwrap();
                let said = String::from_utf8_lossy(&out.stdout);
                assert!(said.starts_with("bench\t"), "fish: {said}");
            }
        }
    }
    cryocap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::starts_with("error:"));
}

#[test]
fn man_pages_pass_mandoc_lint() {
    let dir = tempfile::tempdir().unwrap();
    let out = cryocap()
        .args(["manpages", "--dir"])
        .arg(dir.path())
        .env("SOURCE_DATE_EPOCH", "1796169600")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        pages.len()
    );
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "cryocap.1",
        "cryocap-qualify.1",
        "cryocap-bench-io.1",
        "cryocap-fleet-report.1",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let head = std::fs::read_to_string(dir.path().join("cryocap-bench-io.1")).unwrap();
    assert!(
        head.contains(".TH CRYOCAP-BENCH-IO 1 2026-12-02 \"cryocap "),
        "{}",
        head.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    if !tool_or_skip(
        runs("mandoc", &["-V"]),
        "MANDOC",
        "mandoc",
        "apt install mandoc",
    ) {
        return;
    }
    for page in &pages {
        let lint = std::process::Command::new("mandoc")
            .args(["-T", "lint", "-W", "error"])
            .arg(page)
            .output()
            .unwrap();
        assert!(
            lint.status.success(),
            "{}: {}{}",
            page.display(),
            String::from_utf8_lossy(&lint.stdout),
            String::from_utf8_lossy(&lint.stderr)
        );
    }
}

#[test]
fn man_pages_need_a_real_directory_and_leave_nothing_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    cryocap()
        .args(["manpages", "--dir"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicates::str::starts_with("error: --dir"));
    assert!(!missing.exists());
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    cryocap()
        .args(["manpages", "--dir"])
        .arg(&link)
        .assert()
        .code(2);
    // a page name taken by a link: refused before any page is written
    std::os::unix::fs::symlink("/dev/null", real.join("cryocap-plan.1")).unwrap();
    cryocap()
        .args(["manpages", "--dir"])
        .arg(&real)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cryocap-plan.1"));
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 1);
}
