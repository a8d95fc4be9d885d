//! Trilinear Fourier-space insertion (RELION's BackProjector, trilinear):
//! each Fourier pixel `k` of an image inside radius `n/2` lands at
//! `pad·Aᵀ·(kx, ky, 0)` in a padded 3D half-transform; a point with x < 0 is
//! replaced by its Hermitian mate (negated, value conjugated). The value
//! times each trilinear weight goes to the eight neighbouring voxels, the
//! weight alone to a separate weight array.
//!
//! The grid is the non-redundant half of a `p`³ transform (`p = pad·n`):
//! x = 0 … p/2 (`p/2 + 1` columns), y and z wrapped modulo `p` (FFT order).

use rustfft::num_complex::Complex32;

use super::{FourierImage, Rotation};

#[derive(Debug, Clone, PartialEq)]
pub struct Backprojector {
    /// Box size of the images.
    pub n: usize,
    /// Padding factor (1 or 2).
    pub pad: usize,
    /// Padded size `pad·n`.
    pub p: usize,
    /// Real and imaginary parts, `p`·`p`·(`p/2 + 1`), x fastest.
    pub data: Vec<Complex32>,
    pub weight: Vec<f32>,
    /// Images inserted.
    pub count: u64,
}

impl Backprojector {
    /// An empty grid, or None when its memory cannot be had (the caller
    /// says how much that was, instead of the process aborting).
    pub fn try_new(n: usize, pad: usize) -> Option<Backprojector> {
        let p = n * pad;
        let len = p.checked_mul(p)?.checked_mul(p / 2 + 1)?;
        let mut data = Vec::new();
        data.try_reserve_exact(len).ok()?;
        data.resize(len, Complex32::default());
        let mut weight = Vec::new();
        weight.try_reserve_exact(len).ok()?;
        weight.resize(len, 0.0);
        Some(Backprojector {
            n,
            pad,
            p,
            data,
            weight,
            count: 0,
        })
    }

    pub fn new(n: usize, pad: usize) -> Backprojector {
        let p = n * pad;
        let len = p * p * (p / 2 + 1);
        Backprojector {
            n,
            pad,
            p,
            data: vec![Complex32::default(); len],
            weight: vec![0.0; len],
            count: 0,
        }
    }

    /// Columns along x.
    pub fn xdim(&self) -> usize {
        self.p / 2 + 1
    }

    /// Index of voxel (x, y, z), x in 0..=p/2, y and z wrapped.
    pub fn index(&self, x: usize, y: i64, z: i64) -> usize {
        let p = self.p as i64;
        let (y, z) = (y.rem_euclid(p) as usize, z.rem_euclid(p) as usize);
        (z * self.p + y) * self.xdim() + x
    }

    /// Inserts one image's transform at orientation `a`.
    pub fn insert(&mut self, f: &FourierImage, a: &Rotation) {
        debug_assert_eq!(f.n, self.n);
        let n = self.n;
        let w = f.row_len();
        let r_max = (n / 2) as f64;
        let pad = self.pad as f64;
        let m = a.0;
        for row in 0..n {
            let ky = FourierImage::ky(n, row) as f64;
            for kx in 0..w {
                let kxf = kx as f64;
                if kxf * kxf + ky * ky >= r_max * r_max {
                    continue;
                }
                let mut value = f.data[row * w + kx];
                // Aᵀ·(kx, ky, 0), scaled to the padded grid
                let mut q = [0, 1, 2].map(|j| pad * (m[0][j] * kxf + m[1][j] * ky));
                if q[0] < 0.0 {
                    q = q.map(|c| -c);
                    value = value.conj();
                }
                self.splat(q, value);
            }
        }
        self.count += 1;
    }

    fn splat(&mut self, q: [f64; 3], value: Complex32) {
        let i0 = q.map(|c| c.floor());
        let f = [0, 1, 2].map(|a| (q[a] - i0[a]) as f32);
        let (x0, y0, z0) = (i0[0] as usize, i0[1] as i64, i0[2] as i64);
        let xmax = self.p / 2;
        for dz in 0..2 {
            let wz = if dz == 1 { f[2] } else { 1.0 - f[2] };
            for dy in 0..2 {
                let wy = if dy == 1 { f[1] } else { 1.0 - f[1] };
                for dx in 0..2 {
                    let x = x0 + dx;
                    if x > xmax {
                        continue; // only reached with weight 0
                    }
                    let wx = if dx == 1 { f[0] } else { 1.0 - f[0] };
                    let wgt = wx * wy * wz;
                    let i = self.index(x, y0 + dy as i64, z0 + dz as i64);
                    self.data[i] += value * wgt;
                    self.weight[i] += wgt;
                }
            }
        }
    }

    /// Sums another backprojector of the same shape into this one (for
    /// inserting in parallel and merging).
    pub fn merge(&mut self, other: &Backprojector) {
        debug_assert_eq!((self.n, self.pad), (other.n, other.pad));
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += *b;
        }
        for (a, b) in self.weight.iter_mut().zip(&other.weight) {
            *a += *b;
        }
        self.count += other.count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_image(n: usize, v: f32) -> FourierImage {
        FourierImage {
            n,
            data: vec![Complex32::new(v, 0.0); n * (n / 2 + 1)],
        }
    }

    #[test]
    fn identity_insertion_fills_the_z0_plane() {
        let n = 8;
        let mut bp = Backprojector::new(n, 1);
        bp.insert(&flat_image(n, 2.0), &Rotation::IDENTITY);
        // on-grid samples: each pixel inside radius 4 adds weight 1 at z = 0
        let i = bp.index(1, -2, 0);
        assert_eq!(bp.weight[i], 1.0);
        assert_eq!(bp.data[i], Complex32::new(2.0, 0.0));
        let total: f32 = bp.weight.iter().sum();
        let inside = (0..n)
            .flat_map(|r| (0..=n / 2).map(move |x| (x as i64, FourierImage::ky(n, r))))
            .filter(|(x, y)| x * x + y * y < 16)
            .count();
        assert_eq!(total, inside as f32);
        let off_plane: f32 = (0..bp.xdim()).map(|x| bp.weight[bp.index(x, 0, 1)]).sum();
        assert_eq!(off_plane, 0.0);
    }

    #[test]
    fn negative_x_uses_the_hermitian_mate() {
        let n = 8;
        let mut bp = Backprojector::new(n, 2);
        // psi = 180: (kx, ky) → (-kx, -ky), so every point is mirrored
        let a = Rotation::from_relion_degrees(0.0, 0.0, 180.0);
        let mut f = flat_image(n, 0.0);
        let w = f.row_len();
        f.data[w + 1] = Complex32::new(1.0, 0.5); // kx = 1, ky = 1
        bp.insert(&f, &a);
        // lands at pad·(1, 1, 0) = (2, 2, 0) after mirroring, conjugated
        let i = bp.index(2, 2, 0);
        assert!((bp.weight[i] - 1.0).abs() < 1e-6);
        assert!((bp.data[i] - Complex32::new(1.0, -0.5)).norm() < 1e-6);
    }

    #[test]
    fn values_split_trilinearly_and_sum_to_one() {
        let n = 16;
        let mut bp = Backprojector::new(n, 1);
        let mut f = flat_image(n, 0.0);
        f.data[3] = Complex32::new(1.0, 0.0); // kx = 3, ky = 0
        bp.insert(&f, &Rotation::from_relion_degrees(0.0, 0.0, 20.0));
        // every pixel adds weight 1 in all; only the one nonzero value adds data
        let total: f32 = bp.data.iter().map(|c| c.re).sum();
        assert!((total - 1.0).abs() < 1e-6);
        // Aᵀ·(3, 0, 0) with psi = 20 is (3 cos 20, 3 sin 20, 0) = (2.82, 1.03, 0)
        let w = bp.data[bp.index(3, 1, 0)].re;
        let want = 0.819_077_9 * 0.973_940_6;
        assert!((w - want).abs() < 1e-4, "{w} vs {want}");
    }
}
