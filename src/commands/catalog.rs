//! `cryocap catalog`: the shipped data as tables.

use std::io::Write;

use super::output::{catalog_format, emit_document};
use super::{CommandError, Outcome};
use crate::cli::{CatalogArgs, CatalogKind};
use crate::datasets::Catalog;
use crate::report::catalog;

pub(super) fn run(a: &CatalogArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let c = Catalog::get()?;
    let doc = match a.kind {
        CatalogKind::Gpus => catalog::gpus(c),
        CatalogKind::Storage => catalog::storage(c),
        CatalogKind::Datasets => catalog::datasets(c),
        CatalogKind::Jobs => catalog::jobs(c),
        CatalogKind::Ssd => catalog::ssd(c),
        CatalogKind::Detectors => catalog::detectors(c),
    };
    emit_document(&doc, catalog_format(a.format), "catalog", out)?;
    Ok(Outcome::Ok)
}
