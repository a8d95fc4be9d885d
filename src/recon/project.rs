//! Projection of an arbitrary volume by a real-space ray sum: for each image
//! pixel `p`, the sum over unit steps `t` of the volume at `Aᵀ·(p, t)`,
//! sampled with trilinear interpolation. This is the discrete line integral
//! that the backprojector inverts (central-slice theorem); the phantom's
//! closed-form projections are checked against it.

use super::{Rotation, Volume};

/// Trilinear sample of `v` at centred coordinates `r` (origin at `n/2`);
/// zero outside the grid.
fn sample(v: &Volume, r: [f64; 3]) -> f64 {
    let n = v.n as i64;
    let half = (v.n / 2) as f64;
    let p = r.map(|c| c + half);
    let i0 = p.map(|c| c.floor() as i64);
    let f = [0, 1, 2].map(|a| p[a] - i0[a] as f64);
    let mut sum = 0.0;
    for dz in 0..2 {
        for dy in 0..2 {
            for dx in 0..2 {
                let (x, y, z) = (i0[0] + dx, i0[1] + dy, i0[2] + dz);
                if x < 0 || y < 0 || z < 0 || x >= n || y >= n || z >= n {
                    continue;
                }
                let w = [(dx, 0), (dy, 1), (dz, 2)]
                    .iter()
                    .map(|&(d, a)| if d == 1 { f[a] } else { 1.0 - f[a] })
                    .product::<f64>();
                sum += w * f64::from(v.at(x as usize, y as usize, z as usize));
            }
        }
    }
    sum
}

/// The projection of `v` at orientation `a`: an `n`×`n` image, origin at
/// pixel `n/2`, each pixel the ray sum over `n` unit steps through the box.
pub(super) fn ray_sum(v: &Volume, a: &Rotation) -> Vec<f32> {
    let n = v.n;
    let half = (n / 2) as f64;
    let mut img = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let (px, py) = (x as f64 - half, y as f64 - half);
            let s: f64 = (0..n)
                .map(|t| sample(v, a.apply_transpose([px, py, t as f64 - half])))
                .sum();
            img[y * n + x] = s as f32;
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recon::Phantom;

    fn correlation(a: &[f32], b: &[f32]) -> f64 {
        crate::recon::fsc::correlation(a, b)
    }

    #[test]
    fn ray_sum_matches_the_closed_form_projection() {
        let p = Phantom::random(32, 6, 11);
        let v = p.volume();
        for (r, t, s) in [(0.0, 0.0, 0.0), (30.0, 60.0, -45.0), (200.0, 130.0, 10.0)] {
            let a = Rotation::from_relion_degrees(r, t, s);
            let numeric = ray_sum(&v, &a);
            let exact = p.project(&a, [0.0, 0.0]);
            let c = correlation(&numeric, &exact);
            assert!(c > 0.995, "({r}, {t}, {s}): correlation {c}");
        }
    }

    #[test]
    fn identity_projection_sums_along_z() {
        let mut v = Volume::zeros(8);
        // one voxel at (x, y, z) = (5, 2, 3)
        v.data[(3 * 8 + 2) * 8 + 5] = 2.0;
        let img = ray_sum(&v, &Rotation::IDENTITY);
        assert_eq!(img[2 * 8 + 5], 2.0);
        assert_eq!(img.iter().sum::<f32>(), 2.0);
    }
}
