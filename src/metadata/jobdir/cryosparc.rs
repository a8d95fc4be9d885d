//! A CryoSPARC job directory: its `job.json`, the job document CryoSPARC
//! keeps beside the outputs (v4: `job_type`, `params_spec`,
//! `output_result_groups`; v5: `spec.type`, `spec.params`), with the job's
//! status, dates, node and GPUs.

use std::path::Path;

use serde_json::Value;

use super::JobDirError;
use super::dates::json_date;
use crate::results::job_run::{JobRun, RunStatus};

const JSON_LIMIT: u64 = 256 << 20;

/// The job-time model's name for a CryoSPARC job type.
fn job_name(job_type: &str) -> String {
    let t = job_type.to_ascii_lowercase();
    let known = match t.as_str() {
        "nonuniform_refine_new" | "nonuniform_refine" => "nu-refine",
        "homo_refine_new" | "homo_refine" => "homo-refine",
        "hetero_refine" => "hetero-refine",
        "class_2d" | "class_2d_new" => "2d",
        "homo_abinit" => "ab-initio",
        "var_3d" => "3dva",
        "patch_motion_correction_multi" => "patch-motion",
        "patch_ctf_estimation_multi" => "patch-ctf",
        _ if t.starts_with("flex_") => "3dflex",
        _ => return format!("cryosparc-{}", t.replace('_', "-")),
    };
    format!("cryosparc-{known}")
}

fn status_of(text: &str) -> RunStatus {
    match text {
        "completed" => RunStatus::Finished,
        "failed" => RunStatus::Failed,
        "killed" => RunStatus::Killed,
        "launched" | "started" | "running" | "waiting" | "queued" => RunStatus::Running,
        _ => RunStatus::Unknown,
    }
}

/// A parameter's value: v4 `params_spec.NAME.value`, v5 `spec.params.NAME`.
fn param<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    let v4 = doc.pointer(&format!("/params_spec/{name}/value"));
    v4.or_else(|| doc.pointer(&format!("/spec/params/{name}")))
        .filter(|v| !v.is_null())
}

fn uint(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Reads `dir/job.json`.
pub(super) fn read(dir: &Path) -> Result<JobRun, JobDirError> {
    let path = dir.join("job.json");
    let bad = |reason: String| JobDirError::JobJson {
        path: path.clone(),
        reason,
    };
    let bytes = crate::files::read_input(&path, JSON_LIMIT).map_err(|e| bad(e.reason()))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if !doc.is_object() {
        return Err(bad("it is not a JSON object".into()));
    }
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str).map(str::to_string);
    let job_type = s("/job_type")
        .or_else(|| s("/spec/type"))
        .or_else(|| s("/type"));
    let mut run = JobRun::new("cryosparc-dir", "cryosparc");
    run.version = s("/version");
    run.job = job_type.as_deref().map(job_name);
    run.job_label = job_type.clone();
    run.status = s("/status").map_or(RunStatus::Unknown, |t| status_of(&t));
    if job_type.is_none() {
        run.missing
            .push("job type: job.json has no job_type".into());
    }
    shape(&doc, &mut run);
    layout(&doc, &mut run);
    times(&doc, &mut run);
    Ok(run)
}

/// Particles, classes, box and symmetry from the outputs and parameters.
fn shape(doc: &Value, run: &mut JobRun) {
    let groups = doc.get("output_result_groups").and_then(Value::as_array);
    let particles = groups
        .into_iter()
        .flatten()
        .find(|g| g.get("type").and_then(Value::as_str) == Some("particle"));
    run.shape.particles = particles
        .and_then(|g| g.get("num_items"))
        .and_then(Value::as_u64);
    if run.shape.particles.is_none() {
        run.missing
            .push("particles: job.json has no particle output with num_items".into());
    }
    let k = ["class2D_K", "abinit_K", "class3D_K", "hetero_K"];
    run.shape.classes = k.iter().find_map(|n| uint(param(doc, n)));
    run.shape.box_size = ["box_size_pix", "refine_box_size", "crop_box_size"]
        .iter()
        .find_map(|n| uint(param(doc, n)));
    if run.shape.box_size.is_none() {
        run.missing
            .push("box: job.json does not record it (the particles' .cs file does)".into());
    }
    run.shape.symmetry = ["refine_symmetry", "abinit_symmetry", "var_symmetry"]
        .iter()
        .find_map(|n| param(doc, n).and_then(Value::as_str).map(str::to_string));
    run.missing
        .push("iterations: job.json does not record how many ran".into());
}

/// The node and GPUs the scheduler gave the job.
fn layout(doc: &Value, run: &mut JobRun) {
    let l = &mut run.layout;
    l.ranks = Some(1);
    let alloc = doc.get("resources_allocated").filter(|v| v.is_object());
    let slots = |kind: &str| {
        alloc
            .and_then(|a| a.pointer(&format!("/slots/{kind}")))
            .and_then(Value::as_array)
    };
    let gpu_ids: Vec<u64> = slots("GPU")
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    l.gpus = match slots("GPU") {
        Some(_) => u32::try_from(gpu_ids.len()).ok(),
        None => uint(param(doc, "compute_num_gpus")),
    };
    l.threads = slots("CPU").and_then(|c| u32::try_from(c.len()).ok());
    let info = doc.get("instance_information");
    l.host = alloc
        .and_then(|a| a.get("hostname"))
        .or_else(|| info.and_then(|i| i.get("platform_node")))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        .map(str::to_string);
    l.cpu_model = info
        .and_then(|i| i.get("cpu_model"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let gpu_info = info
        .and_then(|i| i.get("gpu_info"))
        .and_then(Value::as_array);
    let named = |want: Option<u64>| {
        gpu_info
            .into_iter()
            .flatten()
            .find(|g| want.is_none_or(|w| g.get("id").and_then(Value::as_u64) == Some(w)))
    };
    l.gpu_model = named(gpu_ids.first().copied())
        .and_then(|g| g.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if l.gpus.is_none() {
        run.missing
            .push("GPUs: job.json has no resources_allocated.slots.GPU".into());
    }
}

/// When the job ran: from the first of `running_at`, `launched_at` and
/// `started_at` to the date its status was reached.
fn times(doc: &Value, run: &mut JobRun) {
    let date = |k: &'static str| doc.get(k).and_then(json_date).map(|t| (t, k));
    let start = ["running_at", "launched_at", "started_at"]
        .iter()
        .find_map(|k| date(k));
    let end = match run.status {
        RunStatus::Finished => date("completed_at"),
        RunStatus::Failed => date("failed_at"),
        RunStatus::Killed => date("killed_at"),
        _ => None,
    };
    run.started_at = start.map(|s| s.0);
    run.ended_at = end.map(|e| e.0);
    match (start, end) {
        (Some((_, s)), Some((_, e))) => run.timed_by = Some(format!("job.json {s} to {e}")),
        (None, _) => run
            .missing
            .push("start time: job.json has no running_at, launched_at or started_at".into()),
        (_, None) if run.status == RunStatus::Running => run
            .missing
            .push("end time: the job has not ended (status running)".into()),
        (_, None) => run.missing.push(format!(
            "end time: job.json has no date for its status ({})",
            run.status.label()
        )),
    }
}
