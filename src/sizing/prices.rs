//! A price list (`--prices`): `item,unit_price,currency,date,source`, one
//! currency. Items are `node-base` (one node without GPUs or storage),
//! `gpu:<catalog id>` (per GPU), `storage:<tier id>` (per node), and where
//! the candidates choose them `ram-gb` (per GB of RAM), `cpu-core` (per
//! core) and `ssd-tb` (per TB of SSD cache). A row
//! whose source starts with `placeholder` is labelled so in every output.
//! Pure: the text and the known ids come in, a [`PriceBook`] goes out.

use serde::Deserialize;

use super::recommend::PriceBook;

/// One row as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Row {
    item: String,
    unit_price: String,
    currency: String,
    date: String,
    source: String,
}

/// A price list read: the book and which items are placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceList {
    pub book: PriceBook,
    /// Items whose source says no public price is known.
    pub placeholders: Vec<String>,
    /// The date of each item, as given.
    pub dates: Vec<(String, String)>,
}

/// Reads `text` (named `name` in errors); `gpus` and `tiers` are the catalog
/// ids an item may name. Errors are one line.
pub fn parse(name: &str, text: &str, gpus: &[&str], tiers: &[&str]) -> Result<PriceList, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut currency: Option<String> = None;
    let mut node_base = None;
    let (mut ram_per_gb, mut per_core, mut ssd_per_tb) = (None, None, None);
    let mut book_gpus = Vec::new();
    let mut book_tiers = Vec::new();
    let mut placeholders = Vec::new();
    let mut dates = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| format!("{name}: line {line}: {e}"))?;
        let item = row.item.trim().to_string();
        let price: f64 = row.unit_price.trim().parse().map_err(|_| {
            format!(
                "{name}: line {line}: price '{}' of {item} is not a number",
                row.unit_price
            )
        })?;
        if !price.is_finite() || price < 0.0 {
            return Err(format!(
                "{name}: line {line}: price of {item} must be a finite number ≥ 0, not {}",
                row.unit_price.trim()
            ));
        }
        let cur = row.currency.trim().to_uppercase();
        if cur.is_empty() {
            return Err(format!("{name}: line {line}: {item} has no currency"));
        }
        match &currency {
            Some(c) if *c != cur => {
                return Err(format!(
                    "{name}: line {line}: currency {cur} differs from {c} above; convert to one currency"
                ));
            }
            Some(_) => {}
            None => currency = Some(cur),
        }
        let dup = |what: &str| format!("{name}: line {line}: {what} is priced twice");
        let slot = match item.as_str() {
            "node-base" => Some(&mut node_base),
            "ram-gb" => Some(&mut ram_per_gb),
            "cpu-core" => Some(&mut per_core),
            "ssd-tb" => Some(&mut ssd_per_tb),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.replace(price).is_some() {
                return Err(dup(&item));
            }
        } else if let Some(g) = item.strip_prefix("gpu:") {
            if !gpus.contains(&g) {
                return Err(format!(
                    "{name}: line {line}: unknown GPU '{g}' (see `cryocap catalog gpus`)"
                ));
            }
            if book_gpus.iter().any(|(x, _)| x == g) {
                return Err(dup(&item));
            }
            book_gpus.push((g.to_string(), price));
        } else if let Some(t) = item.strip_prefix("storage:") {
            if !tiers.contains(&t) {
                return Err(format!(
                    "{name}: line {line}: unknown storage tier '{t}' (see `cryocap catalog storage`)"
                ));
            }
            if book_tiers.iter().any(|(x, _)| x == t) {
                return Err(dup(&item));
            }
            book_tiers.push((t.to_string(), price));
        } else {
            return Err(format!(
                "{name}: line {line}: unknown item '{item}'; items are node-base, gpu:<id>, storage:<tier>, ram-gb, cpu-core, ssd-tb"
            ));
        }
        if row.source.trim().to_lowercase().starts_with("placeholder") {
            placeholders.push(item.clone());
        }
        dates.push((item, row.date.trim().to_string()));
    }
    let node_base = node_base.ok_or_else(|| format!("{name}: no node-base price"))?;
    Ok(PriceList {
        book: PriceBook {
            currency: currency.unwrap_or_default(),
            node_base,
            ram_per_gb,
            per_core,
            ssd_per_tb,
            gpus: book_gpus,
            tiers: book_tiers,
        },
        placeholders,
        dates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPUS: [&str; 2] = ["rtx-3090", "h100-pcie"];
    const TIERS: [&str; 1] = ["nvme-gen4"];
    const HEAD: &str = "item,unit_price,currency,date,source\n";

    fn p(rows: &str) -> Result<PriceList, String> {
        parse("p.csv", &format!("{HEAD}{rows}"), &GPUS, &TIERS)
    }

    #[test]
    fn the_shipped_example_reads() {
        let text = include_str!("../../datasets/prices-example.csv");
        let c = crate::datasets::Catalog::get().unwrap();
        let gpus: Vec<&str> = c.gpus.iter().map(|g| g.id.as_str()).collect();
        let tiers: Vec<&str> = c.storage_tiers.iter().map(|t| t.id.as_str()).collect();
        let list = parse("prices-example.csv", text, &gpus, &tiers).unwrap();
        assert_eq!(list.book.currency, "USD");
        assert_eq!(list.book.gpu("rtx-4090"), Some(1599.0));
        assert!(list.placeholders.contains(&"node-base".to_string()));
        assert!(!list.placeholders.contains(&"gpu:rtx-4090".to_string()));
    }

    #[test]
    fn reads_a_list() {
        let l = p("node-base,100,usd,2026-01-01,q\ngpu:rtx-3090,10,USD,d,placeholder\nstorage:nvme-gen4,5,USD,d,x\n").unwrap();
        assert_eq!(l.book.node_base, 100.0);
        assert_eq!(l.book.gpu("rtx-3090"), Some(10.0));
        assert_eq!(l.book.tier("nvme-gen4"), Some(5.0));
        assert_eq!(l.placeholders, vec!["gpu:rtx-3090".to_string()]);
        let l =
            p("node-base,1,USD,d,s\nram-gb,4,USD,d,s\ncpu-core,50,USD,d,s\nssd-tb,90,USD,d,s\n")
                .unwrap();
        assert_eq!(
            (l.book.ram_per_gb, l.book.per_core, l.book.ssd_per_tb),
            (Some(4.0), Some(50.0), Some(90.0))
        );
        assert!(
            p("node-base,1,USD,d,s\nram-gb,4,USD,d,s\nram-gb,5,USD,d,s\n")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn bad_input_is_one_line() {
        for (rows, want) in [
            (
                "node-base,1,USD,d,s\ngpu:nope,1,USD,d,s\n",
                "unknown GPU 'nope'",
            ),
            (
                "node-base,1,USD,d,s\nstorage:tape,1,USD,d,s\n",
                "unknown storage tier",
            ),
            ("node-base,1,USD,d,s\nwidget,1,USD,d,s\n", "unknown item"),
            ("node-base,-1,USD,d,s\n", "≥ 0"),
            ("node-base,NaN,USD,d,s\n", "≥ 0"),
            ("node-base,inf,USD,d,s\n", "≥ 0"),
            ("node-base,abc,USD,d,s\n", "not a number"),
            (
                "node-base,1,USD,d,s\ngpu:rtx-3090,1,EUR,d,s\n",
                "currency EUR differs from USD",
            ),
            ("gpu:rtx-3090,1,USD,d,s\n", "no node-base"),
            ("node-base,1,USD,d,s\nnode-base,2,USD,d,s\n", "twice"),
            ("node-base,1,USD\n", "line 2"),
        ] {
            let e = p(rows).unwrap_err();
            assert!(e.contains(want), "{rows}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
