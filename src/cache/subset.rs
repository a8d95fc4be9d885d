//! Subset versus stack: a particle list (RELION STAR or cryoSPARC .cs)
//! references images inside stack files; the cache copies those files whole,
//! while consolidating (restacking) the subset writes only its own images.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::CacheError;
use super::policy;
use crate::metadata::cs::{CsFile, looks_like_cs};
use crate::metadata::star::{StarFile, parse_image_name};
use crate::results::cache::{SubsetFit, SubsetReport, SubsetStack};
use crate::sizing::stack::MRC_HEADER_BYTES;
use crate::storage::mrc::MrcFile;

/// What the list says about one stack file.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StackUse {
    /// Rows of the list that name this file.
    pub particles: u64,
    /// The distinct images those rows name (symmetry expansion lists one
    /// image in several rows).
    pub images: std::collections::BTreeSet<u64>,
    /// Highest 0-based image index used.
    pub max_index: u64,
    /// Image side in pixels from the metadata (ny, nx), when known.
    pub shape: Option<[u64; 2]>,
}

/// A particle list reduced to the stacks it uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ParticleList {
    pub format: &'static str,
    pub particles: u64,
    pub stacks: BTreeMap<String, StackUse>,
}

fn add(list: &mut ParticleList, stack: &str, index: u64, shape: Option<[u64; 2]>) {
    list.particles += 1;
    let e = list.stacks.entry(stack.to_string()).or_default();
    e.particles += 1;
    e.images.insert(index);
    e.max_index = e.max_index.max(index);
    if e.shape.is_none() {
        e.shape = shape;
    }
}

/// Reads a RELION particles STAR file.
pub(crate) fn read_star(path: &Path) -> Result<ParticleList, CacheError> {
    let star = StarFile::read(path)?;
    let (_, table) = star.table_with("rlnImageName")?;
    // RELION 3.1+: the box is in the optics table; older files may carry it
    // per particle.
    let image_size = star.blocks.iter().flat_map(|b| &b.tables).find_map(|t| {
        let c = t.column("rlnImageSize")?;
        t.rows.first()?.get(c)?.parse::<u64>().ok()
    });
    let col = table.column("rlnImageName").unwrap_or(0);
    let mut list = ParticleList {
        format: "star",
        ..Default::default()
    };
    for (row, line) in table.rows.iter().zip(&table.row_lines) {
        let r = parse_image_name(&row[col]).map_err(|reason| {
            CacheError::Subset(format!("{}:{line}: _rlnImageName {reason}", path.display()))
        })?;
        add(&mut list, &r.stack, r.index, image_size.map(|s| [s, s]));
    }
    if list.particles == 0 {
        return Err(CacheError::Subset(format!(
            "{}: the particles table has no rows",
            path.display()
        )));
    }
    Ok(list)
}

/// Reads a cryoSPARC .cs file.
pub(crate) fn read_cs(path: &Path, bytes: Vec<u8>) -> Result<ParticleList, CacheError> {
    let cs = CsFile::parse(path, bytes)?;
    let p = cs.particles()?;
    let mut list = ParticleList {
        format: "cs",
        ..Default::default()
    };
    for (i, (&s, &idx)) in p.stack.iter().zip(&p.index).enumerate() {
        // '>' marks a path relative to the project that was imported
        let name = p.paths[s as usize].trim_start_matches('>');
        add(&mut list, name, idx, p.shape.get(i).copied());
    }
    if list.particles == 0 {
        return Err(CacheError::Subset(format!(
            "{}: the .cs file has no particles",
            path.display()
        )));
    }
    Ok(list)
}

/// Reads either format, by content.
pub(crate) fn read_list(path: &Path) -> Result<ParticleList, CacheError> {
    let bytes = crate::files::read_input(path, crate::files::LIST_LIMIT).map_err(|e| {
        CacheError::Subset(format!(
            "{}: cannot read the particle list: {}",
            path.display(),
            e.reason()
        ))
    })?;
    if looks_like_cs(&bytes) || path.extension().is_some_and(|e| e == "cs") {
        read_cs(path, bytes)
    } else {
        read_star(path)
    }
}

/// FILE's directory and up to four parents: the first that holds the list's
/// first stack; else FILE's directory.
fn guess_data_dir(file: &Path, first: &str) -> (PathBuf, bool) {
    // From the absolute path, so that a list given by its bare name is
    // searched for up the same directories as one given in full.
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let start = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut dir = Some(start.as_path());
    for _ in 0..5 {
        let Some(d) = dir else { break };
        if d.join(first).is_file() {
            return (d.to_path_buf(), true);
        }
        dir = match d.parent() {
            Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
            Some(p) => Some(p),
            None => None,
        };
        if dir == Some(d) {
            break;
        }
    }
    (start, false)
}

/// Sizes the list's stacks (from the files when present) and the subset.
pub(crate) fn analyse(
    file_label: &str,
    list: &ParticleList,
    data_dir: &Path,
    particles_per_file: u64,
) -> SubsetReport {
    let mut stacks = Vec::new();
    let (mut stack_bytes, mut subset_pixels) = (0u64, 0u64);
    let (mut measured, mut estimated) = (0u64, 0u64);
    let mut unknown_shape = 0u64;
    let mut bad_files = Vec::new();
    for (name, u) in &list.stacks {
        let path = data_dir.join(name);
        let meta_px = u.shape.map(|[ny, nx]| ny * nx * 4);
        let (bytes, px, from) = match MrcFile::open(&path) {
            Ok(m) => {
                let px = m
                    .header
                    .mode
                    .bytes_for(u64::from(m.header.nx) * u64::from(m.header.ny));
                (m.file_bytes, px, "file")
            }
            Err(e) => {
                if path.exists() {
                    bad_files.push(e.to_string());
                }
                let px = meta_px.unwrap_or_else(|| {
                    unknown_shape += 1;
                    0
                });
                (MRC_HEADER_BYTES + (u.max_index + 1) * px, px, "metadata")
            }
        };
        if from == "file" {
            measured += 1;
        } else {
            estimated += 1;
        }
        stack_bytes += bytes;
        subset_pixels += u.images.len() as u64 * px;
        stacks.push(SubsetStack {
            path: name.clone(),
            particles: u.particles,
            bytes,
            bytes_from: from.into(),
        });
    }
    let distinct: u64 = list.stacks.values().map(|u| u.images.len() as u64).sum();
    let repeated_rows = list.particles - distinct;
    let subset_bytes =
        subset_pixels + distinct.div_ceil(particles_per_file.max(1)) * MRC_HEADER_BYTES;
    let mut notes = Vec::new();
    if estimated > 0 {
        notes.push(format!(
            "{estimated} stack file(s) not found under {}: their sizes are estimated from the metadata \
             (float32, images up to the highest index used, one 1024-byte header); give --data-dir to measure them",
            data_dir.display()
        ));
    }
    if unknown_shape > 0 {
        notes.push(format!(
            "{unknown_shape} stack file(s) have neither a readable file nor an image size in the list (no rlnImageSize / blob/shape): their pixels count as 0"
        ));
    }
    for b in bad_files.iter().take(3) {
        notes.push(format!("not a readable MRC stack, estimated instead: {b}"));
    }
    if repeated_rows > 0 {
        notes.push(format!(
            "{repeated_rows} row(s) name an image another row names too (symmetry expansion): the subset counts each image once"
        ));
    }
    notes.push(format!(
        "subset alone = the listed images' pixels plus one 1024-byte MRC header per {particles_per_file} particles (--particles-per-file)"
    ));
    SubsetReport {
        file: file_label.to_string(),
        format: list.format.to_string(),
        particles: list.particles,
        stack_files: list.stacks.len() as u64,
        stack_bytes,
        subset_bytes,
        saving_bytes: stack_bytes.saturating_sub(subset_bytes),
        files_measured: measured,
        files_estimated: estimated,
        repeated_rows,
        stacks,
        ssd: None,
        notes,
    }
}

/// The directory the list's stack paths are relative to: `given` when it
/// is a directory, else the first of the list's directory and its parents
/// that holds the first stack.
pub(crate) fn data_dir(
    file: &Path,
    list: &ParticleList,
    given: Option<&Path>,
) -> Result<PathBuf, CacheError> {
    match given {
        Some(d) if d.is_dir() => Ok(d.to_path_buf()),
        Some(d) => Err(CacheError::Subset(format!(
            "--data-dir {}: not a directory",
            d.display()
        ))),
        None => {
            let first = list.stacks.keys().next().cloned().unwrap_or_default();
            Ok(guess_data_dir(file, &first).0)
        }
    }
}

/// What an SSD of `ssd` bytes, with CryoSPARC's quota and reserve, holds
/// of the stacks and of the subset.
pub(crate) fn fit(r: &SubsetReport, ssd: u64, quota: Option<u64>, reserve: u64) -> SubsetFit {
    let cap = policy::capacity(ssd, quota, reserve, 0);
    SubsetFit {
        ssd_bytes: ssd,
        capacity_bytes: cap,
        stacks_fit: r.stack_bytes <= cap,
        subset_fits: r.subset_bytes <= cap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_files_versus_subset_from_metadata() {
        let mut list = ParticleList {
            format: "star",
            ..Default::default()
        };
        // 2 particles of a 100-image stack, 1 of a 10-image stack, box 10
        add(&mut list, "a.mrcs", 99, Some([10, 10]));
        add(&mut list, "a.mrcs", 3, Some([10, 10]));
        add(&mut list, "b.mrcs", 9, Some([10, 10]));
        let r = analyse("x.star", &list, Path::new("/nonexistent-dir"), 1000);
        assert_eq!(r.stack_files, 2);
        assert_eq!(r.stack_bytes, (1024 + 100 * 400) + (1024 + 10 * 400));
        assert_eq!(r.subset_bytes, 3 * 400 + 1024);
        assert_eq!(r.saving_bytes, r.stack_bytes - r.subset_bytes);
        assert_eq!(r.files_estimated, 2);
    }
}
