//! The particles of a RELION STAR file: image, orientation, origin offset.
//! `_rlnImageName` (`index@stack`), `_rlnAngleRot/Tilt/Psi` (degrees), and
//! either `_rlnOriginXAngst/_rlnOriginYAngst` (RELION 3.1+, Å, converted with
//! the pixel size of the particle's optics group, the particle's own
//! `_rlnImagePixelSize`, or the stack's header) or `_rlnOriginX/_rlnOriginY`
//! (older files, pixels). Missing origins mean 0. Following RELION, the
//! origin is the translation that centres the particle: images are shifted
//! by +origin before insertion. The pixel size comes from the particle's
//! `_rlnImagePixelSize`, its optics group, or (RELION 3.0, no optics block)
//! `10000 · _rlnDetectorPixelSize / _rlnMagnification`. An image name without
//! `index@` is a file of one image.

use std::path::{Path, PathBuf};

use crate::metadata::star::{self, StarError, StarFile, Table};

/// RELION Euler angles in degrees, as the STAR file gives them; their
/// rotation matrix is `crate::recon::euler`'s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EulerAngles {
    pub rot: f64,
    pub tilt: f64,
    pub psi: f64,
}

/// An origin offset as written in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    Pixels([f64; 2]),
    /// Å, with the pixel size the file gives for this particle, if any.
    Angstrom([f64; 2], Option<f64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// The stack as named in the STAR file.
    pub stack: String,
    /// 0-based image index in the stack.
    pub index: u64,
    /// Whether the name gave an image number; without one the file must
    /// hold one image.
    pub numbered: bool,
    pub angles: EulerAngles,
    pub origin: Origin,
    /// Å per pixel, as the STAR file gives it for this particle.
    pub pixel_size: Option<f64>,
    /// The box the optics block gives for this particle (`_rlnImageSize`).
    pub image_size: Option<u32>,
    /// Line of the STAR file the row is on.
    pub line: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ParticlesError {
    #[error(transparent)]
    Star(#[from] StarError),
    #[error("{path}:{line}: {reason}")]
    Row {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: the particles table has no {column} column; {hint}")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        hint: &'static str,
    },
    #[error("{path}: the particles table has no rows")]
    Empty { path: PathBuf },
}

/// Reads the particles of the STAR file at `path`.
pub fn read(path: &Path) -> Result<Vec<Particle>, ParticlesError> {
    from_star(path, &StarFile::read(path)?)
}

/// The particles of a parsed STAR `file`, read from `path`.
pub fn from_star(path: &Path, file: &StarFile) -> Result<Vec<Particle>, ParticlesError> {
    let (_, table) = file.table_with("rlnImageName")?;
    let optics = optics_groups(file);
    let cols = Columns::find(path, table)?;
    if table.rows.is_empty() {
        return Err(ParticlesError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut out = Vec::with_capacity(table.rows.len());
    for (row, &line) in table.rows.iter().zip(&table.row_lines) {
        out.push(cols.particle(&Row { path, line, row }, &optics)?);
    }
    Ok(out)
}

/// Where the columns a particle is read from are in the particles table.
struct Columns {
    image: usize,
    /// rlnAngleRot, rlnAngleTilt, rlnAnglePsi.
    angles: [usize; 3],
    angst: Option<(usize, usize)>,
    pixels: Option<(usize, usize)>,
    group: Option<usize>,
    own_pixel: Option<usize>,
    detector: Option<(usize, usize)>,
    own_size: Option<usize>,
}

/// One row of the particles table, with what its messages name.
struct Row<'a> {
    path: &'a Path,
    line: usize,
    row: &'a [String],
}

impl Row<'_> {
    /// An error naming the row's file and line.
    fn bad(&self, reason: String) -> ParticlesError {
        ParticlesError::Row {
            path: self.path.to_path_buf(),
            line: self.line,
            reason,
        }
    }

    /// Column `i` as a finite number, `what` naming it if it is not one.
    fn num(&self, i: usize, what: &str) -> Result<f64, ParticlesError> {
        self.row[i]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.bad(format!("{what} '{}' is not a number", self.row[i])))
    }
}

impl Columns {
    /// The columns of `table`; the image name and the three angles must be
    /// there.
    fn find(path: &Path, table: &Table) -> Result<Columns, ParticlesError> {
        let col = |name: &'static str| table.column(name);
        let need = |name: &'static str| {
            col(name).ok_or(ParticlesError::MissingColumn {
                path: path.to_path_buf(),
                column: name,
                hint: "reconstruct needs the image name and the three angles (rlnAngleRot, rlnAngleTilt, rlnAnglePsi) of every particle",
            })
        };
        Ok(Columns {
            image: need("rlnImageName")?,
            angles: [
                need("rlnAngleRot")?,
                need("rlnAngleTilt")?,
                need("rlnAnglePsi")?,
            ],
            angst: col("rlnOriginXAngst").zip(col("rlnOriginYAngst")),
            pixels: col("rlnOriginX").zip(col("rlnOriginY")),
            group: col("rlnOpticsGroup"),
            own_pixel: col("rlnImagePixelSize"),
            detector: col("rlnDetectorPixelSize").zip(col("rlnMagnification")),
            own_size: col("rlnImageSize"),
        })
    }

    /// The particle of row `r`; `optics` are the optics block's groups.
    fn particle(&self, r: &Row<'_>, optics: &[Optics]) -> Result<Particle, ParticlesError> {
        let name = star::parse_image_name(&r.row[self.image]).map_err(|e| r.bad(e))?;
        let optic = self.optic(r, optics)?;
        let psize = self.pixel_size(r, optic)?;
        let image_size = match self.own_size {
            Some(c) => r.row[c].parse().ok(),
            None => optic.and_then(|o| o.image_size),
        };
        let origin = self.origin(r, psize)?;
        Ok(Particle {
            stack: name.stack,
            index: name.index,
            numbered: name.numbered,
            pixel_size: psize,
            image_size,
            angles: EulerAngles {
                rot: r.num(self.angles[0], "rlnAngleRot")?,
                tilt: r.num(self.angles[1], "rlnAngleTilt")?,
                psi: r.num(self.angles[2], "rlnAnglePsi")?,
            },
            origin,
            line: r.line,
        })
    }

    /// The optics group of row `r`, where the table and the optics block
    /// both give groups.
    fn optic<'o>(
        &self,
        r: &Row<'_>,
        optics: &'o [Optics],
    ) -> Result<Option<&'o Optics>, ParticlesError> {
        // a group the optics block does not list would silently lose its
        // pixel size and image size
        Ok(match self.group {
            Some(g) if !optics.is_empty() => {
                Some(optics.iter().find(|o| o.group == r.row[g]).ok_or_else(|| {
                    r.bad(format!(
                        "optics group '{}' is not in the optics block (data_optics)",
                        r.row[g]
                    ))
                })?)
            }
            _ => None,
        })
    }

    /// Å per pixel of row `r`: its own, its optics group's, or from the
    /// detector pixel size and magnification (RELION 3.0); none if not
    /// positive.
    fn pixel_size(
        &self,
        r: &Row<'_>,
        optic: Option<&Optics>,
    ) -> Result<Option<f64>, ParticlesError> {
        Ok(match (
            self.own_pixel,
            optic.and_then(|o| o.pixel_size),
            self.detector,
        ) {
            (Some(c), _, _) => Some(r.num(c, "rlnImagePixelSize")?),
            (None, Some(p), _) => Some(p),
            (None, None, Some((d, m))) => {
                let (d, m) = (
                    r.num(d, "rlnDetectorPixelSize")?,
                    r.num(m, "rlnMagnification")?,
                );
                (m > 0.0).then(|| 1e4 * d / m)
            }
            (None, None, None) => None,
        }
        .filter(|p| *p > 0.0))
    }

    /// The origin of row `r`: in Å (with pixel size `psize`), in pixels, or
    /// none (0).
    fn origin(&self, r: &Row<'_>, psize: Option<f64>) -> Result<Origin, ParticlesError> {
        Ok(if let Some((x, y)) = self.angst {
            Origin::Angstrom(
                [r.num(x, "rlnOriginXAngst")?, r.num(y, "rlnOriginYAngst")?],
                psize,
            )
        } else if let Some((x, y)) = self.pixels {
            Origin::Pixels([r.num(x, "rlnOriginX")?, r.num(y, "rlnOriginY")?])
        } else {
            Origin::Pixels([0.0, 0.0])
        })
    }
}

/// One optics group of a RELION 3.1+ optics table.
struct Optics {
    group: String,
    pixel_size: Option<f64>,
    image_size: Option<u32>,
}

fn optics_groups(file: &StarFile) -> Vec<Optics> {
    let Some(t): Option<&Table> = file
        .blocks
        .iter()
        .flat_map(|b| &b.tables)
        .find(|t| t.column("rlnOpticsGroup").is_some() && t.column("rlnImageName").is_none())
    else {
        return Vec::new();
    };
    let Some(g) = t.column("rlnOpticsGroup") else {
        return Vec::new();
    };
    let (p, n) = (t.column("rlnImagePixelSize"), t.column("rlnImageSize"));
    t.rows
        .iter()
        .map(|r| Optics {
            group: r[g].clone(),
            pixel_size: p.and_then(|p| r[p].parse().ok()),
            image_size: n.and_then(|n| r[n].parse().ok()),
        })
        .collect()
}

impl Particle {
    /// The origin in pixels; `header_pixel_size` (from the stack) is used
    /// when the STAR file gives none for an Å origin.
    pub fn origin_pixels(&self, header_pixel_size: Option<f64>) -> Option<[f64; 2]> {
        match self.origin {
            Origin::Pixels(o) => Some(o),
            Origin::Angstrom(o, p) => {
                let p = p.or(header_pixel_size).filter(|p| *p > 0.0)?;
                Some(o.map(|v| v / p))
            }
        }
    }
}

/// Where a stack named in a STAR file is: under `data_dir` when one is
/// given; else as given when absolute or present relative to the working
/// directory (RELION's project directory), else next to the STAR file.
pub fn resolve_stack(star: &Path, name: &str, data_dir: Option<&Path>) -> PathBuf {
    let given = PathBuf::from(name);
    if let Some(d) = data_dir
        && !given.is_absolute()
    {
        return d.join(name);
    }
    if given.is_absolute() || given.exists() {
        return given;
    }
    match star.parent() {
        Some(dir) => dir.join(name),
        None => given,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Vec<Particle>, ParticlesError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.star");
        std::fs::write(&p, text).unwrap();
        read(&p)
    }

    #[test]
    fn relion_31_angstrom_origins_use_the_optics_pixel_size() {
        let ps = read_text(
            "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 2.0\n2 0.5\n\n\
             data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             _rlnOriginXAngst\n_rlnOriginYAngst\n_rlnOpticsGroup\n\
             1@a.mrcs 10 20 30 4.0 -2.0 1\n2@a.mrcs 0 90 0 1.0 1.0 2\n",
        )
        .unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].index, 0);
        assert_eq!(ps[0].angles.tilt, 20.0);
        assert_eq!(ps[0].origin_pixels(None), Some([2.0, -1.0]));
        assert_eq!(ps[1].origin_pixels(Some(9.0)), Some([2.0, 2.0]));
    }

    #[test]
    fn a_group_the_optics_block_lacks_is_named() {
        let e = read_text(
            "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 2.0\n\n\
             data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             _rlnOpticsGroup\n1@a.mrcs 0 0 0 1\n2@a.mrcs 0 0 0 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":15:") && e.contains("optics group '3'"), "{e}");
    }

    #[test]
    fn old_pixel_origins_and_header_fallback() {
        let ps = read_text(
            "data_\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             _rlnOriginX\n_rlnOriginY\n3@s.mrcs 1 2 3 -1.5 2.5\n",
        )
        .unwrap();
        assert_eq!(ps[0].origin_pixels(None), Some([-1.5, 2.5]));
        let ps = read_text(
            "data_\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             _rlnOriginXAngst\n_rlnOriginYAngst\n3@s.mrcs 1 2 3 3 3\n",
        )
        .unwrap();
        assert_eq!(ps[0].origin_pixels(None), None);
        assert_eq!(ps[0].origin_pixels(Some(1.5)), Some([2.0, 2.0]));
    }

    #[test]
    fn missing_angles_and_bad_numbers_are_named() {
        let e = read_text("data_\nloop_\n_rlnImageName\n_rlnAngleRot\n1@a.mrcs 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rlnAngleTilt"), "{e}");
        let e = read_text(
            "data_\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             1@a.mrcs 3 x 4\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":7:") && e.contains("'x'"), "{e}");
    }
}
