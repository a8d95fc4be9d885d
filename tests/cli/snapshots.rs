//! Snapshots of what a person reads: the plan as a table and as Markdown.

use crate::common::cryocap;

fn stdout(args: &[&str]) -> String {
    let out = cryocap().args(args).assert().success().get_output().clone();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn plan_table() {
    insta::assert_snapshot!(stdout(&["plan", "--particles", "2e6", "--box", "432"]));
}

#[test]
fn plan_table_with_gpu_and_small_ssd() {
    insta::assert_snapshot!(stdout(&[
        "plan",
        "--particles",
        "2e6",
        "--box",
        "432",
        "--gpu",
        "rtx-2080-ti",
        "--ssd",
        "1TB",
        "--gpus",
        "2",
        "--passes",
        "10",
    ]));
}

#[test]
fn plan_markdown() {
    insta::assert_snapshot!(stdout(&[
        "plan",
        "--particles",
        "1e6",
        "--box",
        "256",
        "--vram",
        "12",
        "--format",
        "markdown",
    ]));
}

#[test]
fn plan_exact_table() {
    insta::assert_snapshot!(stdout(&[
        "plan",
        "--dataset",
        "EMPIAR-10028",
        "--size-model",
        "exact",
        "--particles-per-file",
        "500",
    ]));
}
