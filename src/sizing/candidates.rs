//! The configurations `recommend` ranks: every GPU model × storage tier ×
//! GPUs per node × node spec (RAM, cores, SSD) the user listed, each with
//! its prices checked, the tier's read rate (measured where given, else one
//! NFS client's ceiling) and, with an SSD, the month's cache fill.

use super::lookup;
use super::recommend::{Candidate, Fill, GpuOption, NodeSpec, PriceBook, TierOption};
use crate::datasets::Catalog;

/// What the user listed: each list is one axis of the candidate grid.
#[derive(Debug, Clone, Copy)]
pub struct Space<'a> {
    pub gpus: &'a [String],
    pub tiers: &'a [String],
    pub per_node: &'a [u32],
    pub ram: &'a [u64],
    pub cores: &'a [u32],
    pub ssd: &'a [u64],
    /// The tier an SSD cache is filled from.
    pub fill_from: &'a str,
}

/// A measured read rate of a storage tier: tier id, bytes/s, and where the
/// figure comes from (shown beside the candidate).
pub type MeasuredTier = (String, f64, String);

/// Every node spec of the RAM × cores × SSD lists (an empty list is one
/// spec that leaves that part to the price book's base node).
pub fn node_specs(ram: &[u64], cores: &[u32], ssd: &[u64]) -> Vec<NodeSpec> {
    fn opt<T: Copy>(v: &[T]) -> Vec<Option<T>> {
        if v.is_empty() {
            vec![None]
        } else {
            v.iter().copied().map(Some).collect()
        }
    }
    let mut specs = Vec::new();
    for ram in opt(ram) {
        for c in opt(cores) {
            for ssd in opt(ssd) {
                specs.push(NodeSpec {
                    ram_bytes: ram,
                    cores: c,
                    ssd_bytes: ssd,
                });
            }
        }
    }
    specs
}

/// Checks that the price book prices what the lists choose: RAM, cores
/// and SSD where they are listed. `prices` names the price list.
fn spec_prices(space: &Space<'_>, book: &PriceBook, prices: &str) -> Result<(), String> {
    for (given, price, item) in [
        (!space.ram.is_empty(), book.ram_per_gb, "ram-gb (--ram)"),
        (!space.cores.is_empty(), book.per_core, "cpu-core (--cores)"),
        (!space.ssd.is_empty(), book.ssd_per_tb, "ssd-tb (--ssd)"),
    ] {
        if given && price.is_none() {
            return Err(format!("{prices}: no price for {item}"));
        }
    }
    Ok(())
}

/// The GPU `--gpus` names, with the catalog figures a candidate needs; it
/// must have a price.
fn gpu_option(
    catalog: &Catalog,
    book: &PriceBook,
    prices: &str,
    name: &str,
) -> Result<GpuOption, String> {
    let g = lookup::gpu(catalog, "--gpus", name)?;
    if book.gpu(&g.id).is_none() {
        return Err(format!("{prices}: no price for gpu:{}", g.id));
    }
    Ok(GpuOption {
        id: g.id.clone(),
        vram_bytes: g.vram_bytes(),
        memory_bandwidth_gb_s: g.memory_bandwidth_gb_s,
        fp32_tflops: g.fp32_tflops,
        board_power_w: g.board_power_w,
    })
}

/// The tier `--tiers` names, with its read rate: measured where given,
/// else one NFS client's ceiling; it must have a price.
fn tier_option(
    catalog: &Catalog,
    book: &PriceBook,
    prices: &str,
    id: &str,
    measured: &[MeasuredTier],
) -> Result<TierOption, String> {
    let tier = lookup::storage_tier(catalog, "--tiers", id)?;
    if book.tier(&tier.id).is_none() {
        return Err(format!("{prices}: no price for storage:{}", tier.id));
    }
    Ok(match measured.iter().find(|m| m.0 == tier.id) {
        Some((_, rate, from)) => TierOption {
            id: tier.id.clone(),
            read_bytes_per_s: *rate,
            measured: Some(from.clone()),
        },
        None => TierOption {
            id: tier.id.clone(),
            // One NFS client plateaus near 2 GB/s whatever its link.
            read_bytes_per_s: crate::jobtime::copy::client_read_bytes_per_s(tier),
            measured: None,
        },
    })
}

/// The candidates of `space`, or one line naming the flag or price to fix.
/// `prices` names the price list in errors (`--prices FILE`);
/// `fill_bytes` gives the bytes a month of the workload copies into an SSD
/// cache of a size (the cache simulator's figure, from the caller, so that
/// sizing does not depend on the cache module).
pub fn expand(
    space: &Space<'_>,
    catalog: &Catalog,
    book: &PriceBook,
    prices: &str,
    measured: &[MeasuredTier],
    fill_bytes: &mut dyn FnMut(u64) -> f64,
) -> Result<Vec<Candidate>, String> {
    spec_prices(space, book, prices)?;
    let specs = node_specs(space.ram, space.cores, space.ssd);
    let fill_rate = if space.ssd.is_empty() {
        None
    } else {
        Some(lookup::storage_tier(catalog, "--fill-from", space.fill_from)?.seq_read_bytes_per_s())
    };
    let mut out = Vec::new();
    for name in space.gpus {
        let gpu = gpu_option(catalog, book, prices, name)?;
        for t in space.tiers {
            let tier = tier_option(catalog, book, prices, t, measured)?;
            for &per_node in space.per_node {
                for spec in &specs {
                    let fill = match (spec.ssd_bytes, fill_rate) {
                        (Some(ssd), Some(rate)) => Some(Fill {
                            bytes_per_month: fill_bytes(ssd),
                            rate,
                        }),
                        _ => None,
                    };
                    out.push(Candidate {
                        fill,
                        spec: *spec,
                        gpu: gpu.clone(),
                        per_node,
                        tier: tier.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_are_one_default_spec_and_lists_multiply() {
        assert_eq!(node_specs(&[], &[], &[]).len(), 1);
        assert_eq!(node_specs(&[1, 2], &[8, 16, 32], &[]).len(), 6);
        let s = node_specs(&[], &[], &[4]);
        assert_eq!(s[0].ssd_bytes, Some(4));
        assert_eq!(s[0].ram_bytes, None);
    }
}
