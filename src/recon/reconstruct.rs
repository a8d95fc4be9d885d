//! From accumulated Fourier data to a real-space volume: make the x = 0
//! plane Hermitian, divide data by weights (with a floor), inverse 3D FFT of
//! the half transform, move the origin to the centre, crop the padding, and
//! divide by sinc² (the real-space image of the trilinear kernel).

use std::path::Path;
use std::time::Instant;

use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;

use super::{Backprojector, Volume};
use crate::storage::mrc::write_volume;

/// Weights below this fraction of the mean weight (over voxels that have any)
/// are raised to it before dividing, so sparsely sampled voxels are damped
/// rather than amplified.
pub(crate) const WEIGHT_FLOOR_FRACTION: f32 = 1e-3;

/// The reconstructed `n`³ volume. Consumes the accumulated data.
pub fn reconstruct(mut bp: Backprojector) -> Volume {
    enforce_hermitian_plane(&mut bp);
    divide_by_weights(&mut bp);
    let real = inverse_fft_half(&bp);
    crop_and_correct(&real, bp.p, bp.n)
}

/// What finishing and writing a volume took, and what to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Seconds [`reconstruct`] took (the writing left out).
    pub seconds_finish: f64,
    /// Bytes of the file written.
    pub output_bytes: u64,
    /// Set when no pixel size was known and 1 Å was written.
    pub note: Option<String>,
}

/// Finishes `grid` ([`reconstruct`]) and writes the volume as MRC at
/// `path` with `pixel_size_a` in its header (1 Å per voxel where none is
/// known, with a note saying so).
pub fn reconstruct_to_file(
    grid: Backprojector,
    pixel_size_a: Option<f64>,
    path: &Path,
) -> std::io::Result<Written> {
    let t = Instant::now();
    let volume = reconstruct(grid);
    let seconds_finish = t.elapsed().as_secs_f64();
    let (pixel, note) = match pixel_size_a {
        Some(p) => (p as f32, None),
        None => (1.0, Some("no pixel size in the STAR file or the stack headers: the volume's header says 1 Å per voxel; give the real one with --angpix".to_string())),
    };
    write_volume(path, &volume.data, volume.n as u32, pixel)?;
    Ok(Written {
        seconds_finish,
        output_bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        note,
    })
}

/// The x = 0 plane holds both (0, y, z) and its mate (0, -y, -z); points
/// inserted near it reached only one of them. Sum each pair, as RELION does.
fn enforce_hermitian_plane(bp: &mut Backprojector) {
    let p = bp.p as i64;
    for z in 0..p {
        for y in 0..p {
            let (i, j) = (bp.index(0, y, z), bp.index(0, -y, -z));
            if j < i {
                continue;
            }
            let d = bp.data[i] + bp.data[j].conj();
            let w = bp.weight[i] + bp.weight[j];
            bp.data[i] = d;
            bp.data[j] = d.conj();
            bp.weight[i] = w;
            bp.weight[j] = w;
        }
    }
}

fn divide_by_weights(bp: &mut Backprojector) {
    let (sum, count) = bp
        .weight
        .iter()
        .filter(|w| **w > 0.0)
        .fold((0f64, 0u64), |(s, c), w| (s + f64::from(*w), c + 1));
    let floor = if count == 0 {
        1.0
    } else {
        (sum / count as f64) as f32 * WEIGHT_FLOOR_FRACTION
    };
    let p = bp.p as i64;
    let r2_max = (p / 2) * (p / 2);
    let xdim = bp.xdim();
    for z in 0..bp.p {
        let kz = if (z as i64) < p / 2 {
            z as i64
        } else {
            z as i64 - p
        };
        for y in 0..bp.p {
            let ky = if (y as i64) < p / 2 {
                y as i64
            } else {
                y as i64 - p
            };
            for x in 0..xdim {
                let i = (z * bp.p + y) * xdim + x;
                let r2 = (x * x) as i64 + ky * ky + kz * kz;
                bp.data[i] = if r2 < r2_max && bp.weight[i] > 0.0 {
                    bp.data[i] / bp.weight[i].max(floor)
                } else {
                    Complex32::default()
                };
            }
        }
    }
}

/// Inverse transform of the half grid to a real `p`³ volume (origin at index
/// 0), normalised by 1/p³ so that it inverts an unnormalised forward DFT.
fn inverse_fft_half(bp: &Backprojector) -> Vec<f32> {
    let p = bp.p;
    let xdim = bp.xdim();
    let mut planner = FftPlanner::<f32>::new();
    let ifft = planner.plan_fft_inverse(p);
    let mut scratch = vec![Complex32::default(); ifft.get_inplace_scratch_len()];
    let mut half = bp.data.clone();
    let mut line = vec![Complex32::default(); p];
    // along z (lines start at (x, y, 0), stride one plane), then along y
    // (lines start at (x, 0, z), stride one row)
    let plane = p * xdim;
    for (stride, outer_step) in [(plane, xdim), (xdim, plane)] {
        for outer in 0..p {
            for x in 0..xdim {
                let base = outer * outer_step + x;
                for (k, v) in line.iter_mut().enumerate() {
                    *v = half[base + k * stride];
                }
                ifft.process_with_scratch(&mut line, &mut scratch);
                for (k, v) in line.iter().enumerate() {
                    half[base + k * stride] = *v;
                }
            }
        }
    }
    // along x: rebuild the full row from Hermitian symmetry, keep the real part
    let scale = 1.0 / (p * p * p) as f32;
    let mut out = vec![0f32; p * p * p];
    for zy in 0..p * p {
        let row = &half[zy * xdim..(zy + 1) * xdim];
        for (x, v) in line.iter_mut().enumerate() {
            *v = if x < xdim { row[x] } else { row[p - x].conj() };
        }
        ifft.process_with_scratch(&mut line, &mut scratch);
        for (x, v) in line.iter().enumerate() {
            out[zy * p + x] = v.re * scale;
        }
    }
    out
}

/// sin(πu)/(πu).
fn sinc(u: f64) -> f64 {
    if u.abs() < 1e-12 {
        1.0
    } else {
        let a = std::f64::consts::PI * u;
        a.sin() / a
    }
}

/// Centre voxel `n/2` of the output is padded index 0; divides by
/// sinc²(x/p)·sinc²(y/p)·sinc²(z/p), the transform of the trilinear tent.
fn crop_and_correct(real: &[f32], p: usize, n: usize) -> Volume {
    let h = (n / 2) as i64;
    let pi = p as i64;
    let corr: Vec<f64> = (0..n as i64)
        .map(|c| {
            let s = sinc((c - h) as f64 / p as f64);
            1.0 / (s * s)
        })
        .collect();
    let wrap = |c: usize| ((c as i64 - h).rem_euclid(pi)) as usize;
    let mut v = Volume::zeros(n);
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let src = (wrap(z) * p + wrap(y)) * p + wrap(x);
                v.data[(z * n + y) * n + x] =
                    (f64::from(real[src]) * corr[x] * corr[y] * corr[z]) as f32;
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recon::euler::EulerAngles;
    use crate::recon::fourier::ImageFft;
    use crate::recon::fsc::{correlation, fsc};
    use crate::recon::{Phantom, Rotation};
    use rand::SeedableRng;

    /// Noise-free projections of a phantom at random orientations,
    /// reconstructed; returns (correlation, FSC curve).
    fn round_trip(n: usize, images: usize, pad: usize, seed: u64) -> (f64, Vec<f64>) {
        let phantom = Phantom::random(n, 12, seed);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed + 1);
        let mut fft = ImageFft::new(n);
        let mut bp = Backprojector::new(n, pad);
        for _ in 0..images {
            let a = EulerAngles::random(&mut rng).matrix();
            let img = phantom.project(&a, [0.0, 0.0]);
            bp.insert(&fft.forward(&img, [0.0, 0.0]), &a);
        }
        let vol = reconstruct(bp);
        let truth = phantom.volume();
        (correlation(&vol.data, &truth.data), fsc(&vol, &truth))
    }

    #[test]
    fn box_64_from_2000_views_matches_the_phantom() {
        let (c, curve) = round_trip(64, 2000, 2, 42);
        eprintln!("box 64, 2000 views, pad 2: correlation {c:.4}, FSC {curve:.3?}");
        assert!(c >= 0.95, "real-space correlation {c}");
        for (shell, v) in curve.iter().enumerate().take(64 / 4 + 1).skip(1) {
            assert!(*v > 0.9, "FSC at shell {shell} is {v}: {curve:?}");
        }
    }

    #[test]
    fn padding_1_also_reconstructs() {
        let (c, _) = round_trip(32, 600, 1, 5);
        eprintln!("box 32, 600 views, pad 1: correlation {c:.4}");
        assert!(c >= 0.9, "real-space correlation {c}");
    }

    #[test]
    fn a_single_axis_of_views_cannot_reconstruct() {
        // all views about one axis leave a missing cone: must be worse
        let n = 32;
        let phantom = Phantom::random(n, 12, 9);
        let mut fft = ImageFft::new(n);
        let mut bp = Backprojector::new(n, 2);
        for i in 0..200 {
            let a = Rotation::from_relion_degrees(0.0, 0.0, i as f64 * 1.8);
            bp.insert(
                &fft.forward(&phantom.project(&a, [0.0, 0.0]), [0.0, 0.0]),
                &a,
            );
        }
        let c = correlation(&reconstruct(bp).data, &phantom.volume().data);
        assert!(c < 0.9, "top views alone gave correlation {c}");
    }

    #[test]
    fn shifted_particles_are_recentred() {
        let n = 32;
        let phantom = Phantom::random(n, 10, 21);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut fft = ImageFft::new(n);
        let mut bp = Backprojector::new(n, 2);
        for i in 0..800 {
            let a = EulerAngles::random(&mut rng).matrix();
            // particle displaced by `s`; the origin that centres it is -s
            let s = [(i % 7) as f64 - 3.0, 2.5 - (i % 5) as f64];
            let img = phantom.project(&a, s);
            bp.insert(&fft.forward(&img, [-s[0], -s[1]]), &a);
        }
        let c = correlation(&reconstruct(bp).data, &phantom.volume().data);
        assert!(c >= 0.95, "correlation {c}");
    }

    #[test]
    fn the_volume_is_written_with_its_pixel_size_or_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mrc");
        let w = reconstruct_to_file(Backprojector::new(8, 2), Some(1.25), &path).unwrap();
        assert_eq!(w.output_bytes, 1024 + 8 * 8 * 8 * 4);
        assert_eq!(w.note, None);
        assert!(w.seconds_finish >= 0.0);
        let h = crate::storage::mrc::MrcFile::open(&path).unwrap().header;
        assert_eq!((h.nx, h.ny, h.nz), (8, 8, 8));
        let w = reconstruct_to_file(Backprojector::new(8, 1), None, &path).unwrap();
        assert!(w.note.unwrap().contains("--angpix"));
        let missing = dir.path().join("no/such/dir/v.mrc");
        assert!(reconstruct_to_file(Backprojector::new(8, 1), None, &missing).is_err());
    }
}
