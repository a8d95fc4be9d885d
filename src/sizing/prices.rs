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

/// The prices read so far, by item.
#[derive(Default)]
struct Items {
    node_base: Option<f64>,
    ram_per_gb: Option<f64>,
    per_core: Option<f64>,
    ssd_per_tb: Option<f64>,
    gpus: Vec<(String, f64)>,
    tiers: Vec<(String, f64)>,
}

impl Items {
    /// Adds `item` at `price`: once each, a GPU or tier of the catalog's
    /// (`gpus`, `tiers`). `at` is the line, for errors.
    fn add(
        &mut self,
        at: &str,
        item: &str,
        price: f64,
        gpus: &[&str],
        tiers: &[&str],
    ) -> Result<(), String> {
        let dup = || format!("{at}: {item} is priced twice");
        let slot = match item {
            "node-base" => Some(&mut self.node_base),
            "ram-gb" => Some(&mut self.ram_per_gb),
            "cpu-core" => Some(&mut self.per_core),
            "ssd-tb" => Some(&mut self.ssd_per_tb),
            _ => None,
        };
        if let Some(slot) = slot {
            return match slot.replace(price) {
                Some(_) => Err(dup()),
                None => Ok(()),
            };
        }
        let (list, id) = if let Some(g) = item.strip_prefix("gpu:") {
            if !gpus.contains(&g) {
                return Err(format!(
                    "{at}: unknown GPU '{g}' (see `cryocap catalog gpus`)"
                ));
            }
            (&mut self.gpus, g)
        } else if let Some(t) = item.strip_prefix("storage:") {
            if !tiers.contains(&t) {
                return Err(format!(
                    "{at}: unknown storage tier '{t}' (see `cryocap catalog storage`)"
                ));
            }
            (&mut self.tiers, t)
        } else {
            return Err(format!(
                "{at}: unknown item '{item}'; items are node-base, gpu:<id>, storage:<tier>, ram-gb, cpu-core, ssd-tb"
            ));
        };
        if list.iter().any(|(x, _)| x == id) {
            return Err(dup());
        }
        list.push((id.to_string(), price));
        Ok(())
    }
}

/// A row's price: a finite number, at least 0. `at` is the line, for
/// errors.
fn price(at: &str, item: &str, row: &Row) -> Result<f64, String> {
    let price: f64 = row
        .unit_price
        .trim()
        .parse()
        .map_err(|_| format!("{at}: price '{}' of {item} is not a number", row.unit_price))?;
    if !price.is_finite() || price < 0.0 {
        return Err(format!(
            "{at}: price of {item} must be a finite number ≥ 0, not {}",
            row.unit_price.trim()
        ));
    }
    Ok(price)
}

/// Checks that a row has a currency and that it is the list's (the first
/// row's, which it sets).
fn same_currency(
    at: &str,
    item: &str,
    row: &Row,
    currency: &mut Option<String>,
) -> Result<(), String> {
    let cur = row.currency.trim().to_uppercase();
    if cur.is_empty() {
        return Err(format!("{at}: {item} has no currency"));
    }
    match currency {
        Some(c) if *c != cur => Err(format!(
            "{at}: currency {cur} differs from {c} above; convert to one currency"
        )),
        Some(_) => Ok(()),
        None => {
            *currency = Some(cur);
            Ok(())
        }
    }
}

/// Reads `text` (named `name` in errors); `gpus` and `tiers` are the catalog
/// ids an item may name. Errors are one line.
pub fn parse(name: &str, text: &str, gpus: &[&str], tiers: &[&str]) -> Result<PriceList, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut currency: Option<String> = None;
    let mut items = Items::default();
    let mut placeholders = Vec::new();
    let mut dates = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let at = format!("{name}: line {}", i + 2);
        let row = row.map_err(|e| format!("{at}: {e}"))?;
        let item = row.item.trim().to_string();
        let price = price(&at, &item, &row)?;
        same_currency(&at, &item, &row, &mut currency)?;
        items.add(&at, &item, price, gpus, tiers)?;
        if row.source.trim().to_lowercase().starts_with("placeholder") {
            placeholders.push(item.clone());
        }
        dates.push((item, row.date.trim().to_string()));
    }
    let node_base = items
        .node_base
        .ok_or_else(|| format!("{name}: no node-base price"))?;
    Ok(PriceList {
        book: PriceBook {
            currency: currency.unwrap_or_default(),
            node_base,
            ram_per_gb: items.ram_per_gb,
            per_core: items.per_core,
            ssd_per_tb: items.ssd_per_tb,
            gpus: items.gpus,
            tiers: items.tiers,
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
