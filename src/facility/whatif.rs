//! `--what-if` changes to a facility: `gpu-nodes+=1`, `gpu-nodes=12`,
//! `workers.NAME.count+=2`, `prep-nodes+=1`, `ssd=8TB`, `link=100GbE`,
//! `node-link=25GbE`, `storage=4PB`, `labs.NAME.share=2`,
//! `gpus-per-job=2`, `policy=fifo`; and what the added hardware costs by a
//! price list.

use super::config::rate;
use super::model::{Facility, Policy};
use crate::sizing::recommend::PriceBook;
use crate::units::parse_size;

/// `f` with `change` made, or a line saying what is wrong with it.
pub fn apply(f: &Facility, change: &str) -> Result<Facility, String> {
    let bad = |m: &str| format!("--what-if '{}': {m}", crate::text::printable(change));
    let (key, add, value) = split(change).ok_or_else(|| bad("write KEY=VALUE or KEY+=N"))?;
    let mut g = f.clone();
    let count = |old: u32| -> Result<u32, String> {
        let n: i64 = value
            .parse()
            .map_err(|_| bad("the value must be a whole number"))?;
        let new = if add { i64::from(old) + n } else { n };
        u32::try_from(new)
            .ok()
            .filter(|v| (1..=10_000).contains(v))
            .ok_or_else(|| bad("the count must stay 1 to 10000"))
    };
    match key.split('.').collect::<Vec<_>>().as_slice() {
        ["gpu-nodes"] => g.workers[0].count = count(f.workers[0].count)?,
        ["prep-nodes"] => g.prep[0].count = count(f.prep[0].count)?,
        ["workers", name, "count"] => {
            let w = g
                .workers
                .iter_mut()
                .find(|w| w.name == *name)
                .ok_or_else(|| bad("no such [[workers]]"))?;
            w.count = count(w.count)?;
        }
        ["ssd"] if !add => {
            let b = parse_size(value).map_err(|e| bad(&e.to_string()))?;
            g.workers.iter_mut().for_each(|w| w.ssd_bytes = b);
        }
        ["link"] if !add => g.storage.link_bytes_per_s = rate(value).map_err(|e| bad(&e))?,
        ["node-link"] if !add => {
            let r = rate(value).map_err(|e| bad(&e))?;
            g.workers.iter_mut().for_each(|w| w.link_bytes_per_s = r);
        }
        ["storage"] if !add => {
            g.storage.capacity_bytes = parse_size(value).map_err(|e| bad(&e.to_string()))?;
        }
        ["labs", name, "share"] if !add => {
            let l = g
                .labs
                .iter_mut()
                .find(|l| l.name == *name)
                .ok_or_else(|| bad("no such [[lab]]"))?;
            l.share = value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 1e6)
                .ok_or_else(|| bad("a share must be above 0"))?;
        }
        ["gpus-per-job"] => g.scheduler.gpus_per_job = count(f.scheduler.gpus_per_job)?.min(64),
        ["policy"] if !add => {
            g.scheduler.policy = match value {
                "fifo" => Policy::Fifo,
                "fair" => Policy::FairShare,
                _ => return Err(bad("policy is fifo or fair")),
            }
        }
        _ => {
            return Err(bad(
                "unknown change; known: gpu-nodes, prep-nodes, workers.NAME.count, ssd, link, node-link, storage, labs.NAME.share, gpus-per-job, policy",
            ));
        }
    }
    Ok(g)
}

/// `f` with every `;`-separated change of `changes` made, in order.
pub fn apply_all(f: &Facility, changes: &str) -> Result<Facility, String> {
    changes
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .try_fold(f.clone(), |g, c| apply(&g, c))
}

fn split(change: &str) -> Option<(&str, bool, &str)> {
    if let Some((k, v)) = change.split_once("+=") {
        return Some((k.trim(), true, v.trim()));
    }
    let (k, v) = change.split_once('=')?;
    Some((k.trim(), false, v.trim())).filter(|(k, _, v)| !k.is_empty() && !v.is_empty())
}

/// What `new` adds to `old` in GPU nodes and SSD, priced by `book`; the
/// amount and the items, and what the list has no price for.
pub fn added_cost(old: &Facility, new: &Facility, book: &PriceBook) -> (f64, String, Vec<String>) {
    let mut amount = 0.0;
    let mut items = Vec::new();
    let mut unpriced = Vec::new();
    for (a, b) in old.workers.iter().zip(&new.workers) {
        let ssd_tb = b.ssd_bytes as f64 / 1e12;
        let added = f64::from(b.count) - f64::from(a.count);
        if added != 0.0 {
            match book.gpu(&b.gpu) {
                Some(gpu) => {
                    let node = book.node_base
                        + f64::from(b.gpus) * gpu
                        + ssd_tb * book.ssd_per_tb.unwrap_or(0.0);
                    amount += added * node;
                    items.push(format!("{added:+} {} node(s)", b.name));
                }
                None => unpriced.push(format!("gpu:{}", b.gpu)),
            }
        }
        let more_tb =
            (b.ssd_bytes as f64 - a.ssd_bytes as f64) / 1e12 * f64::from(a.count.min(b.count));
        if more_tb != 0.0 {
            match book.ssd_per_tb {
                Some(p) => {
                    amount += more_tb * p;
                    items.push(format!("{more_tb:+.1} TB SSD on {}", b.name));
                }
                None => unpriced.push("ssd-tb".into()),
            }
        }
    }
    let added_prep: f64 = new.prep.iter().map(|p| f64::from(p.count)).sum::<f64>()
        - old.prep.iter().map(|p| f64::from(p.count)).sum::<f64>();
    if added_prep != 0.0 {
        amount += added_prep * book.node_base;
        items.push(format!(
            "{added_prep:+} pre-processing node(s) at node-base"
        ));
    }
    if new.storage.link_bytes_per_s != old.storage.link_bytes_per_s {
        unpriced.push("the storage link".into());
    }
    (amount, items.join(", "), unpriced)
}

#[cfg(test)]
mod tests {
    use super::super::tests::tiny;
    use super::*;

    #[test]
    fn changes_apply_and_bad_ones_name_the_change() {
        let f = tiny();
        let g = apply(&f, "gpu-nodes+=1").unwrap();
        assert_eq!(g.workers[0].count, f.workers[0].count + 1);
        let g = apply(&f, "ssd=8TB").unwrap();
        assert_eq!(g.workers[0].ssd_bytes, 8_000_000_000_000);
        let g = apply(&f, "link=100GbE").unwrap();
        assert_eq!(g.storage.link_bytes_per_s, 12.5e9);
        let g = apply(&f, "labs.a.share=2").unwrap();
        assert_eq!(g.labs[0].share, 2.0);
        let g = apply_all(&f, "gpu-nodes+=1; ssd=1TB").unwrap();
        assert_eq!(
            (g.workers[0].count, g.workers[0].ssd_bytes),
            (f.workers[0].count + 1, 1_000_000_000_000)
        );
        for bad in [
            "gpu-nodes+=x",
            "colour=red",
            "labs.zz.share=1",
            "labs.a.share=0",
            "gpu-nodes=0",
            "ssd+=1",
        ] {
            let e = apply(&f, bad).unwrap_err();
            assert!(e.starts_with("--what-if '"), "{e}");
        }
    }
}
