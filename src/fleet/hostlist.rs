//! Slurm host lists: `gpu[01-04,07],login1` → gpu01, gpu02, gpu03, gpu04,
//! gpu07, login1. Expanded here so that `--dry-run` works without Slurm.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{list}' is not a node list: {reason}")]
pub(crate) struct HostlistError {
    pub list: String,
    pub reason: String,
}

/// Splits at commas that are not inside brackets.
fn top_level_items(list: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in list.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.checked_sub(1).ok_or("a ']' has no '['")?,
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '[' is not closed".into());
    }
    items.push(&list[start..]);
    Ok(items)
}

/// Expands one bracket body such as `01-04,07` into its suffixes, keeping the
/// zero padding of the lower bound.
fn expand_range(body: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in body.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let num = |t: &str| {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                Err(format!("'{part}' is not a number or a range like 01-04"))
            } else {
                t.parse::<u64>().map_err(|e| e.to_string())
            }
        };
        let (a, b) = (num(lo)?, num(hi)?);
        if b < a {
            return Err(format!("the range '{part}' runs backwards"));
        }
        if b - a >= 100_000 {
            return Err(format!("the range '{part}' names too many nodes"));
        }
        let width = lo.len();
        out.extend((a..=b).map(|v| format!("{v:0width$}")));
    }
    Ok(out)
}

fn expand_item(item: &str) -> Result<Vec<String>, String> {
    let Some(open) = item.find('[') else {
        return Ok(vec![item.to_string()]);
    };
    let close = open + item[open..].find(']').ok_or("a '[' is not closed")?;
    let (prefix, body, rest) = (&item[..open], &item[open + 1..close], &item[close + 1..]);
    let tails = expand_item(rest)?;
    let mut out = Vec::new();
    for mid in expand_range(body)? {
        for tail in &tails {
            out.push(format!("{prefix}{mid}{tail}"));
        }
    }
    Ok(out)
}

/// A node name a task can be pinned to and a results file can be named after.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it holds an empty name".into());
    }
    if name.starts_with(['-', '.']) {
        return Err(format!("node name '{name}' starts with '{}'", &name[..1]));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        return Err(format!(
            "node name '{name}' holds {c:?}; Slurm node names are letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

/// Expands a Slurm host list, keeping order and repeats (a node named twice
/// is qualified twice).
pub(crate) fn expand(list: &str) -> Result<Vec<String>, HostlistError> {
    let err = |reason: String| HostlistError {
        list: list.to_string(),
        reason,
    };
    let mut nodes = Vec::new();
    for item in top_level_items(list.trim()).map_err(err)? {
        for name in expand_item(item.trim()).map_err(err)? {
            check_name(&name).map_err(err)?;
            nodes.push(name);
        }
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_bracketed_lists() {
        assert_eq!(expand("a,b").unwrap(), ["a", "b"]);
        assert_eq!(expand("vm,vm").unwrap(), ["vm", "vm"]);
        assert_eq!(
            expand("gpu[01-03,07],login1").unwrap(),
            ["gpu01", "gpu02", "gpu03", "gpu07", "login1"]
        );
        assert_eq!(
            expand("r[1-2]n[8-9]").unwrap(),
            ["r1n8", "r1n9", "r2n8", "r2n9"]
        );
        assert_eq!(
            expand("n[098-101]").unwrap(),
            ["n098", "n099", "n100", "n101"]
        );
    }

    #[test]
    fn bad_lists_say_why() {
        let e = |l: &str| expand(l).unwrap_err().reason;
        assert!(e("gpu[01-").contains("not closed"));
        assert!(e("gpu01]").contains("no '['"));
        assert!(e("gpu[3-1]").contains("backwards"));
        assert!(e("gpu[a-b]").contains("not a number"));
        assert!(e("a,,b").contains("empty"));
        assert!(e("-rf").contains("starts with"));
        assert!(e("a b").contains("' '"));
        assert!(e("../etc").contains("starts with"));
        assert!(e("x/y").contains("'/'"));
        assert!(e("$(id)").contains("'$'"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Host lists of any text, deep brackets and huge ranges included:
        /// nodes or a reason, never a panic or an endless expansion.
        #[test]
        fn host_lists_never_panic(
            text in prop_oneof![
                "[a-z0-9\\[\\],\\-$;/ ]{0,60}",
                (0usize..20_000).prop_map(|n| format!("n{}1-2{}", "[".repeat(n), "]".repeat(n))),
                (0u64..u64::MAX).prop_map(|hi| format!("n[0-{hi}]")),
            ]
        ) {
            let _ = expand(&text);
        }
    }
}
