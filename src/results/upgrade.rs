//! Schema 1 result files into the schema 2 envelope. Version 1 files carried
//! their command's fields at the top level, with `kind` and `node` in some
//! of them only; the kind of the others is told by the fields they have.

use serde_json::{Map, Value};

/// The kind of a schema 1 file: its `kind`, or the fields only that kind has.
fn kind_of(o: &Map<String, Value>) -> Option<&'static str> {
    let has = |k: &str| o.contains_key(k);
    if let Some(k) = o.get("kind").and_then(Value::as_str) {
        return match k {
            "qualify" => Some("qualify"),
            "bench-io" => Some("bench-io"),
            "cache-copy-bench" => Some("cache-copy-bench"),
            "fleet" => Some("fleet"),
            _ => None,
        };
    }
    let kind = if has("devices") && has("not_measured") {
        "bench-gpu"
    } else if has("input") && has("stack") && has("ssd") {
        "plan"
    } else if has("trace") && has("points") {
        "cache-sweep"
    } else if has("trace") && has("setup") {
        "cache-simulate"
    } else if has("stack_files") && has("subset_bytes") {
        "cache-subset"
    } else if has("star") && has("backend") {
        "reconstruct"
    } else if has("runs") && has("engine") {
        "bench-io"
    } else if has("rows") && has("recommended_threads") {
        "cache-copy-bench"
    } else if has("seed") && has("dir") && has("files") {
        "stack-create"
    } else if has("direct_io") && has("path") {
        "probe"
    } else if has("files") && o.len() == 2 {
        "stack-info"
    } else {
        return None;
    };
    Some(kind)
}

/// The schema 1 document `v` as a schema 2 envelope (still JSON).
pub(super) fn from_v1(v: Value) -> Result<Value, String> {
    let Value::Object(mut o) = v else {
        return Err("a schema 1 file must be a JSON object".into());
    };
    let kind = kind_of(&o).ok_or_else(|| {
        "a schema 1 file, but not of a kind this cryocap can tell (plan, bench io, bench gpu, cache, reconstruct, qualify, fleet, stack, probe)".to_string()
    })?;
    o.remove("schema_version");
    o.remove("kind");
    if kind == "plan" {
        // The node requirements were `node`, which is now the host.
        if let Some(req) = o.remove("node") {
            o.insert("requirements".into(), req);
        }
    }
    // The flags' words: --repeats, --iodepth (fio's).
    if kind == "qualify"
        && let Some(r) = o.remove("repeat")
    {
        o.insert("repeats".into(), r);
    }
    let runs: Vec<&mut Value> = match kind {
        "bench-io" => o.get_mut("runs").into_iter().collect(),
        "qualify" => o
            .get_mut("io")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(|io| io.get_mut("runs"))
            .collect(),
        _ => Vec::new(),
    };
    for run in runs.into_iter().filter_map(Value::as_array_mut).flatten() {
        if let Some(run) = run.as_object_mut()
            && let Some(q) = run.remove("queue_depth")
        {
            run.insert("iodepth".into(), q);
        }
    }
    let text = |o: &mut Map<String, Value>, key: &str| match o.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => "unknown".to_string(),
    };
    let cryocap_version = text(&mut o, "cryocap_version");
    let node = text(&mut o, "node");
    let started_at = o.remove("started_at");
    let mut out = Map::new();
    out.insert("schema_version".into(), Value::from(super::SCHEMA_VERSION));
    out.insert("cryocap_version".into(), Value::from(cryocap_version));
    match started_at {
        None | Some(Value::Null) => {}
        Some(t) if t.is_u64() => {
            out.insert("started_at".into(), t);
        }
        Some(Value::String(t)) if t.trim().parse::<u64>().is_ok() => {
            out.insert(
                "started_at".into(),
                Value::from(t.trim().parse::<u64>().unwrap_or(0)),
            );
        }
        Some(t) => {
            return Err(format!(
                "started_at {t} is not seconds since 1970 and cannot be carried over; make it a whole number or remove it"
            ));
        }
    }
    out.insert("node".into(), Value::from(node));
    out.insert("kind".into(), Value::from(kind));
    out.extend(o);
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_move_into_the_envelope() {
        let v1 = serde_json::json!({
            "schema_version": 1, "kind": "bench-io", "node": "n7", "engine": "x", "runs": []
        });
        let v2 = from_v1(v1).unwrap();
        assert_eq!(v2["schema_version"], 2);
        assert_eq!(v2["node"], "n7");
        assert_eq!(v2["kind"], "bench-io");
        assert_eq!(v2["cryocap_version"], "unknown");
        assert!(v2.get("started_at").is_none());
    }

    #[test]
    fn a_started_at_in_text_is_read_or_named() {
        let v1 = |t: Value| serde_json::json!({"schema_version": 1, "kind": "bench-io", "started_at": t, "runs": []});
        assert_eq!(
            from_v1(v1(Value::from("1700000000"))).unwrap()["started_at"],
            1_700_000_000u64
        );
        let e = from_v1(v1(Value::from("yesterday"))).unwrap_err();
        assert!(e.contains("cannot be carried over"), "{e}");
    }

    #[test]
    fn old_field_names_take_the_flags_words() {
        let v1 = serde_json::json!({
            "schema_version": 1, "kind": "qualify", "repeat": 3,
            "io": [{"runs": [{"queue_depth": 1}]}]
        });
        let v2 = from_v1(v1).unwrap();
        assert_eq!(v2["repeats"], 3);
        assert_eq!(v2["io"][0]["runs"][0]["iodepth"], 1);
        let io = serde_json::json!({
            "schema_version": 1, "kind": "bench-io", "runs": [{"queue_depth": 4}]
        });
        assert_eq!(from_v1(io).unwrap()["runs"][0]["iodepth"], 4);
    }

    #[test]
    fn a_plan_keeps_its_requirements_under_the_new_name() {
        let v1 = serde_json::json!({
            "schema_version": 1, "input": {}, "stack": {}, "ssd": {}, "node": {"profile": "p"}
        });
        let v2 = from_v1(v1).unwrap();
        assert_eq!(v2["kind"], "plan");
        assert_eq!(v2["requirements"]["profile"], "p");
        assert_eq!(v2["node"], "unknown");
    }

    #[test]
    fn unknown_shapes_are_refused() {
        assert!(from_v1(serde_json::json!({"schema_version": 1, "x": 1})).is_err());
        assert!(from_v1(serde_json::json!({"schema_version": 1, "kind": "mystery"})).is_err());
        assert!(from_v1(serde_json::json!([1])).is_err());
    }
}
