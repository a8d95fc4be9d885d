//! Catalog rows named by a flag: the row, or the one line that says the
//! name is unknown and which names are nearest ([`unknown_name`]). The
//! commands and the candidate grid look names up here, so that every such
//! error reads the same.

use crate::datasets::{Catalog, EmpiarDataset, GpuModel, StorageTier, unknown_name};

/// The catalog GPU `name` (its id or model name, any case or punctuation).
pub(crate) fn gpu<'c>(
    catalog: &'c Catalog,
    flag: &str,
    name: &str,
) -> Result<&'c GpuModel, String> {
    catalog.gpu(name).ok_or_else(|| {
        let names = catalog.gpus.iter().map(|g| g.id.as_str());
        unknown_name(flag, "GPU", name, names, "gpus")
    })
}

/// The catalog storage tier `id`.
pub(crate) fn storage_tier<'c>(
    catalog: &'c Catalog,
    flag: &str,
    id: &str,
) -> Result<&'c StorageTier, String> {
    catalog.storage_tier(id).ok_or_else(|| {
        let names = catalog.storage_tiers.iter().map(|t| t.id.as_str());
        unknown_name(flag, "storage tier", id, names, "storage")
    })
}

/// The catalog's public dataset `id` (EMPIAR-10028 or 10028).
pub(crate) fn dataset<'c>(
    catalog: &'c Catalog,
    flag: &str,
    id: &str,
) -> Result<&'c EmpiarDataset, String> {
    catalog.dataset(id).ok_or_else(|| {
        let names = catalog.empiar.iter().map(|d| d.id.as_str());
        unknown_name(flag, "dataset", id, names, "datasets")
    })
}
