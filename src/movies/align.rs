//! The CPU reference of frame alignment, the work motion correction does per
//! movie: each frame's Fourier transform, its cross-correlation with the sum
//! of the other frames (aligned by the current estimates), the peak found to
//! a sub-pixel by a parabola through its neighbours, repeated until the
//! shifts settle. Whole frames here; patches are sub-images given the same
//! treatment. The GPU benchmark of issue 18 is checked against this.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Forward and inverse 2-D FFTs of one frame size, rows then columns.
pub struct Fft2 {
    width: usize,
    height: usize,
    rows: [Arc<dyn Fft<f32>>; 2],
    cols: [Arc<dyn Fft<f32>>; 2],
}

impl Fft2 {
    pub fn new(width: usize, height: usize) -> Fft2 {
        let mut p = FftPlanner::<f32>::new();
        Fft2 {
            width,
            height,
            rows: [p.plan_fft_forward(width), p.plan_fft_inverse(width)],
            cols: [p.plan_fft_forward(height), p.plan_fft_inverse(height)],
        }
    }

    /// Transforms `data` (row-major, `width × height`) in place; the inverse
    /// is not normalised.
    pub fn run(&self, data: &mut [Complex<f32>], inverse: bool) {
        let i = usize::from(inverse);
        self.rows[i].process(data);
        let mut col = vec![Complex::default(); self.height];
        for x in 0..self.width {
            for (y, c) in col.iter_mut().enumerate() {
                *c = data[y * self.width + x];
            }
            self.cols[i].process(&mut col);
            for (y, c) in col.iter().enumerate() {
                data[y * self.width + x] = *c;
            }
        }
    }

    /// The spectrum of a real image.
    pub fn spectrum(&self, image: &[f32]) -> Vec<Complex<f32>> {
        let mut d: Vec<Complex<f32>> = image.iter().map(|&v| Complex::new(v, 0.0)).collect();
        self.run(&mut d, false);
        d
    }

    /// Signed frequency of index `i` along an axis of `n`.
    fn freq(i: usize, n: usize) -> f64 {
        if i <= n / 2 {
            i as f64 / n as f64
        } else {
            (i as f64 - n as f64) / n as f64
        }
    }
}

/// Where `frame` sits against `reference`: the shift `(dx, dy)` in pixels
/// such that `frame(x) ≈ reference(x − shift)`, from their spectra. `bfactor`
/// weights frequencies by exp(−bfactor·|k|²) (k in cycles per pixel) to keep
/// shot noise out of the peak, as motion correction does.
pub fn shift_between(
    fft: &Fft2,
    reference: &[Complex<f32>],
    frame: &[Complex<f32>],
    bfactor: f64,
) -> (f64, f64) {
    let (w, h) = (fft.width, fft.height);
    let mut cc: Vec<Complex<f32>> = Vec::with_capacity(w * h);
    for y in 0..h {
        let ky = Fft2::freq(y, h);
        for x in 0..w {
            let kx = Fft2::freq(x, w);
            // no mean: the peak stands on zero, for the Gaussian fit below
            let weight = if x == 0 && y == 0 {
                0.0
            } else {
                (-bfactor * (kx * kx + ky * ky)).exp() as f32
            };
            let i = y * w + x;
            cc.push(frame[i] * reference[i].conj() * weight);
        }
    }
    fft.run(&mut cc, true);
    let at = |x: i64, y: i64| {
        let xi = x.rem_euclid(w as i64) as usize;
        let yi = y.rem_euclid(h as i64) as usize;
        cc[yi * w + xi].re
    };
    let (mut best, mut bx, mut by) = (f32::NEG_INFINITY, 0i64, 0i64);
    for y in 0..h {
        for x in 0..w {
            if cc[y * w + x].re > best {
                best = cc[y * w + x].re;
                bx = x as i64;
                by = y as i64;
            }
        }
    }
    // the peak's offset from a Gaussian through it and its two neighbours
    // (a parabola through their logarithms): a correlation of smooth
    // features peaks as a Gaussian, where a plain parabola pulls the
    // estimate towards the whole pixel; a parabola where a value is not
    // positive
    let parabola = |m: f32, c: f32, p: f32| {
        let (m, c, p) = if m > 0.0 && c > 0.0 && p > 0.0 {
            (m.ln(), c.ln(), p.ln())
        } else {
            (m, c, p)
        };
        let d = m - 2.0 * c + p;
        if d.abs() < f32::EPSILON {
            0.0
        } else {
            f64::from((0.5 * (m - p) / d).clamp(-0.5, 0.5))
        }
    };
    let sx = parabola(at(bx - 1, by), best, at(bx + 1, by));
    let sy = parabola(at(bx, by - 1), best, at(bx, by + 1));
    let wrap = |v: i64, n: usize| if v > n as i64 / 2 { v - n as i64 } else { v };
    (wrap(bx, w) as f64 + sx, wrap(by, h) as f64 + sy)
}

/// A Tukey window of `n`: flat in the middle, a cosine fall to zero over
/// the outer eighth at each end.
pub fn taper(n: usize) -> Vec<f32> {
    let edge = (n / 8).max(1) as f64;
    (0..n)
        .map(|i| {
            let d = (i as f64 + 0.5).min(n as f64 - i as f64 - 0.5);
            if d >= edge {
                1.0
            } else {
                (0.5 - 0.5 * (std::f64::consts::PI * d / edge).cos()) as f32
            }
        })
        .collect()
}

/// Aligns the frames of one movie (or one patch of it): each frame against
/// the sum of the others, shifted by the current estimates, `iterations`
/// times. Shifts are relative to the frames' mean position (alignment fixes
/// them only up to one common translation; the mean is less noisy than any
/// one frame).
pub fn align(
    frames: &[Vec<f32>],
    width: usize,
    height: usize,
    bfactor: f64,
    iterations: usize,
) -> Vec<(f64, f64)> {
    let fft = Fft2::new(width, height);
    let (wx, wy) = (taper(width), taper(height));
    let spectra: Vec<Vec<Complex<f32>>> = frames
        .iter()
        .map(|f| {
            // the frame's edges stay where they are while the specimen
            // moves: without a taper their wrap-around pulls every shift
            // towards zero
            let mean = f.iter().map(|&v| f64::from(v)).sum::<f64>() / f.len().max(1) as f64;
            let tapered: Vec<f32> = f
                .iter()
                .enumerate()
                .map(|(i, &v)| (v - mean as f32) * wx[i % width] * wy[i / width])
                .collect();
            fft.spectrum(&tapered)
        })
        .collect();
    let mut shifts = vec![(0.0, 0.0); frames.len()];
    // the phase that moves a spectrum back by (dx, dy)
    let unshift = |spec: &[Complex<f32>], (dx, dy): (f64, f64), out: &mut [Complex<f32>]| {
        for y in 0..height {
            let ky = Fft2::freq(y, height);
            for x in 0..width {
                let kx = Fft2::freq(x, width);
                let phase = 2.0 * std::f64::consts::PI * (kx * dx + ky * dy);
                let rot = Complex::new(phase.cos() as f32, phase.sin() as f32);
                out[y * width + x] += spec[y * width + x] * rot;
            }
        }
    };
    for _ in 0..iterations.max(1) {
        let mut total = vec![Complex::default(); width * height];
        for (s, &sh) in spectra.iter().zip(&shifts) {
            unshift(s, sh, &mut total);
        }
        let mut next = shifts.clone();
        for (i, s) in spectra.iter().enumerate() {
            // the sum of the others: subtract this frame's aligned copy
            let mut mine = vec![Complex::default(); width * height];
            unshift(s, shifts[i], &mut mine);
            let others: Vec<Complex<f32>> = total.iter().zip(&mine).map(|(t, m)| t - m).collect();
            next[i] = shift_between(&fft, &others, s, bfactor);
        }
        shifts = next;
    }
    let n = shifts.len().max(1) as f64;
    let x0 = shifts.iter().map(|s| s.0).sum::<f64>() / n;
    let y0 = shifts.iter().map(|s| s.1).sum::<f64>() / n;
    shifts.iter().map(|&(x, y)| (x - x0, y - y0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// A smooth specimen sampled at `(x − sx, y − sy)`: a sum of Gaussian blobs.
    fn specimen(w: usize, h: usize, sx: f64, sy: f64) -> Vec<f64> {
        // 60 seeded blobs of 3 to 8 pixels, like a field of particles, kept
        // 24 pixels from the edges: the correlation wraps round, and a blob
        // leaving one side would come back on the other
        let mut rng = StdRng::seed_from_u64(3);
        let blobs: Vec<(f64, f64, f64, f64)> = (0..60)
            .map(|_| {
                (
                    24.0 + rng.random::<f64>() * (w as f64 - 48.0),
                    24.0 + rng.random::<f64>() * (h as f64 - 48.0),
                    3.0 + 5.0 * rng.random::<f64>(),
                    0.5 + 0.5 * rng.random::<f64>(),
                )
            })
            .collect();
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f64 - sx, y as f64 - sy);
                out[y * w + x] = blobs
                    .iter()
                    .map(|&(bx, by, r, a)| {
                        a * (-((xf - bx).powi(2) + (yf - by).powi(2)) / (r * r)).exp()
                    })
                    .sum::<f64>()
                    .min(1.0);
            }
        }
        out
    }

    /// Poisson counts (Knuth's method: means here are small) of a specimen
    /// absorbing up to `contrast` of `dose` electrons a pixel.
    fn counts(spec: &[f64], dose: f64, contrast: f64, rng: &mut StdRng) -> Vec<f32> {
        spec.iter()
            .map(|&s| {
                let l = (-(dose * (1.0 - contrast * s))).exp();
                let (mut k, mut p) = (0u32, 1.0f64);
                loop {
                    p *= rng.random::<f64>();
                    if p <= l {
                        break;
                    }
                    k += 1;
                }
                k as f32
            })
            .collect()
    }

    #[test]
    fn a_shift_between_two_clean_images_is_found_to_a_hundredth() {
        let (w, h) = (256, 256);
        let a: Vec<f32> = specimen(w, h, 0.0, 0.0).iter().map(|&v| v as f32).collect();
        let b: Vec<f32> = specimen(w, h, 3.3, -2.6)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let fft = Fft2::new(w, h);
        let (dx, dy) = shift_between(&fft, &fft.spectrum(&a), &fft.spectrum(&b), 0.0);
        assert!(
            (dx - 3.3).abs() < 0.05 && (dy + 2.6).abs() < 0.05,
            "{dx} {dy}"
        );
    }

    #[test]
    fn planted_shifts_in_counting_frames_are_recovered_within_a_tenth_of_a_pixel() {
        // 10 e⁻/pixel a frame, ten times a real frame's: a 256² frame stands
        // in for the signal of a 4K one
        let (w, h) = (256, 256);
        let planted: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                let t = i as f64;
                (0.37 * t - 0.02 * t * t, -0.21 * t + 0.015 * t * t)
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(11);
        let frames: Vec<Vec<f32>> = planted
            .iter()
            .map(|&(sx, sy)| counts(&specimen(w, h, sx, sy), 10.0, 0.8, &mut rng))
            .collect();
        let found = align(&frames, w, h, 50.0, 3);
        let n = planted.len() as f64;
        let mx = planted.iter().map(|p| p.0).sum::<f64>() / n;
        let my = planted.iter().map(|p| p.1).sum::<f64>() / n;
        let planted: Vec<(f64, f64)> = planted.iter().map(|p| (p.0 - mx, p.1 - my)).collect();
        for (f, p) in found.iter().zip(&planted) {
            assert!(
                (f.0 - p.0).abs() < 0.1 && (f.1 - p.1).abs() < 0.1,
                "found {f:?}, planted {p:?}"
            );
        }
    }
}
