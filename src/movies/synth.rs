//! Synthetic counting-mode exposures: Poisson electron counts at a dose
//! rate, optionally over a faint specimen so the counts are not flat.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Levels the specimen image is quantised to, each with its own sampler: 256,
/// so that a specimen shifted by a fraction of a pixel still changes the
/// counts (16 levels locked drift to whole steps).
const LEVELS: usize = 256;

/// The expected counts of one pixel over one frame, and how they vary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    /// Mean electrons per pixel per frame.
    pub per_pixel_per_frame: f64,
    /// Relative amplitude of the specimen's modulation (0: flat).
    pub contrast: f64,
}

impl Dose {
    /// Electrons per pixel per frame from a total dose in e⁻/Å² over `frames`
    /// frames at `pixel_size` Å.
    pub fn from_total(e_per_a2: f64, pixel_size: f64, frames: u64, contrast: f64) -> Dose {
        Dose {
            per_pixel_per_frame: e_per_a2 * pixel_size * pixel_size / frames.max(1) as f64,
            contrast,
        }
    }
}

/// A faint, smooth specimen: the sum of a few seeded blobs, 0..1 per pixel,
/// their centres in the middle two thirds of each axis (frame alignment
/// tapers the edges, where a frame's fixed border would hold shifts back).
fn specimen(width: u32, height: u32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_5bec);
    let (w, h) = (f64::from(width), f64::from(height));
    let blobs: Vec<(f64, f64, f64)> = (0..24)
        .map(|_| {
            (
                w / 6.0 + rng.random::<f64>() * w * 2.0 / 3.0,
                h / 6.0 + rng.random::<f64>() * h * 2.0 / 3.0,
                (8.0 + rng.random::<f64>() * 0.05 * f64::from(width.max(height))).powi(2),
            )
        })
        .collect();
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        for x in 0..width {
            let (xf, yf) = (f64::from(x), f64::from(y));
            let mut v = 0.0;
            for &(bx, by, r2) in &blobs {
                let d2 = (xf - bx).powi(2) + (yf - by).powi(2);
                if d2 < 9.0 * r2 {
                    v += (-d2 / r2).exp();
                }
            }
            out.push(v.min(1.0) as f32);
        }
    }
    out
}

/// Inverse-CDF Poisson sampler for one mean: a uniform u32 against the
/// cumulative table; means of cryo-EM frames are well under 10, so the scan
/// stops after a step or two.
#[derive(Debug, Clone)]
struct Poisson {
    cdf: Vec<u32>,
}

impl Poisson {
    fn new(mean: f64) -> Poisson {
        let mut cdf = Vec::new();
        let mut p = (-mean).exp();
        let mut sum = p;
        let mut k = 0u32;
        while sum < 1.0 - 1e-10 && k < 255 {
            cdf.push((sum * f64::from(u32::MAX)) as u32);
            k += 1;
            p *= mean / f64::from(k);
            sum += p;
        }
        Poisson { cdf }
    }

    #[inline]
    fn sample(&self, u: u32) -> u8 {
        let mut k = 0;
        while k < self.cdf.len() && u > self.cdf[k] {
            k += 1;
        }
        k as u8
    }
}

/// The level (0..LEVELS) of a specimen value.
fn level(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * (LEVELS - 1) as f32).round() as u8
}

/// `base` sampled at `(x − dx, y − dy)` (bilinear, edges held), as levels.
fn shifted_levels(base: &[f32], width: u32, height: u32, dx: f64, dy: f64, out: &mut [u8]) {
    let (w, h) = (width as usize, height as usize);
    let at = |x: isize, y: isize| {
        let xi = x.clamp(0, w as isize - 1) as usize;
        let yi = y.clamp(0, h as isize - 1) as usize;
        base[yi * w + xi]
    };
    let (fx, fy) = (dx.floor(), dy.floor());
    let (tx, ty) = ((dx - fx) as f32, (dy - fy) as f32);
    let (ix, iy) = (fx as isize, fy as isize);
    for y in 0..h {
        for x in 0..w {
            // the value at x − dx lies between x − ix − 1 and x − ix
            let (sx, sy) = (x as isize - ix, y as isize - iy);
            let top = at(sx, sy) * (1.0 - tx) + at(sx - 1, sy) * tx;
            let bottom = at(sx, sy - 1) * (1.0 - tx) + at(sx - 1, sy - 1) * tx;
            out[y * w + x] = level(top * (1.0 - ty) + bottom * ty);
        }
    }
}

/// Makes the frames of one movie, in order, from a seed.
pub struct Exposure {
    width: u32,
    height: u32,
    levels: Vec<u8>,
    /// The specimen before quantising, and its drift in pixels a frame,
    /// when it moves.
    drifting: Option<(Vec<f32>, f64, f64)>,
    frame: u64,
    samplers: Vec<Poisson>,
    /// Event probability per pixel per frame for each level (EER frames).
    probabilities: Vec<f64>,
    rng: StdRng,
}

impl Exposure {
    pub fn new(width: u32, height: u32, dose: Dose, seed: u64) -> Exposure {
        let levels = if dose.contrast > 0.0 {
            specimen(width, height, seed)
                .into_iter()
                .map(level)
                .collect()
        } else {
            vec![0; width as usize * height as usize]
        };
        let mean_at = |l: usize| {
            let m = if dose.contrast > 0.0 {
                // a specimen absorbs: full level is (1 - contrast) of the open beam
                1.0 - dose.contrast * l as f64 / (LEVELS - 1) as f64
            } else {
                1.0
            };
            (dose.per_pixel_per_frame * m).max(0.0)
        };
        Exposure {
            width,
            height,
            levels,
            drifting: None,
            frame: 0,
            samplers: (0..LEVELS).map(|l| Poisson::new(mean_at(l))).collect(),
            probabilities: (0..LEVELS).map(|l| mean_at(l).min(1.0)).collect(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Moves the specimen by `(dx, dy)` pixels a frame (frame i sits at
    /// i·(dx, dy)), as stage drift does; frame alignment should find it.
    pub fn with_drift(mut self, dx: f64, dy: f64, seed: u64) -> Exposure {
        if (dx, dy) != (0.0, 0.0) && self.levels.iter().any(|&l| l > 0) {
            self.drifting = Some((specimen(self.width, self.height, seed), dx, dy));
        }
        self
    }

    /// Sets the levels for the next frame when the specimen drifts.
    fn advance(&mut self) {
        if let Some((base, dx, dy)) = &self.drifting {
            let i = self.frame as f64;
            shifted_levels(
                base,
                self.width,
                self.height,
                i * dx,
                i * dy,
                &mut self.levels,
            );
        }
        self.frame += 1;
    }

    /// The next counting frame: one count (0..=255) per pixel.
    pub fn counts(&mut self, out: &mut [u8]) {
        self.advance();
        for (o, &l) in out.iter_mut().zip(&self.levels) {
            *o = self.samplers[l as usize].sample(self.rng.random::<u32>());
        }
    }

    /// The next EER frame: events in pixel order with random sub-pixel bits
    /// (`sub_bits` of them), at most one per pixel. Gaps are drawn from the
    /// geometric distribution of the brightest level and thinned per pixel,
    /// so the work is per event, not per pixel.
    pub fn events(&mut self, sub_bits: u32, out: &mut Vec<(u64, u32)>) {
        out.clear();
        self.advance();
        let p_max = self.probabilities.iter().copied().fold(0.0, f64::max);
        if p_max <= 0.0 {
            return;
        }
        let pixels = self.pixels() as u64;
        let log_q = (1.0 - p_max).ln();
        let sub_mask = (1u32 << sub_bits) - 1;
        let mut pos = 0u64;
        loop {
            let gap = if p_max >= 1.0 {
                0
            } else {
                let u: f64 = 1.0 - self.rng.random::<f64>(); // (0, 1]
                (u.ln() / log_q).floor() as u64
            };
            pos = pos.saturating_add(gap);
            if pos >= pixels {
                return;
            }
            let p = self.probabilities[self.levels[pos as usize] as usize];
            if p >= p_max || self.rng.random::<f64>() * p_max < p {
                out.push((pos, self.rng.random::<u32>() & sub_mask));
            }
            pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_the_dose_mean_and_poisson_spread() {
        let mut e = Exposure::new(256, 256, Dose::from_total(40.0, 0.83, 40, 0.0), 3);
        let mut f = vec![0u8; e.pixels()];
        let mut sum = 0.0;
        let mut sq = 0.0;
        for _ in 0..4 {
            e.counts(&mut f);
            for &c in &f {
                sum += f64::from(c);
                sq += f64::from(c) * f64::from(c);
            }
        }
        let n = 4.0 * f.len() as f64;
        let mean = sum / n;
        let var = sq / n - mean * mean;
        let want = 40.0 * 0.83 * 0.83 / 40.0;
        assert!((mean - want).abs() < 0.01, "mean {mean} want {want}");
        assert!((var - want).abs() < 0.02, "variance {var} want {want}");
    }

    #[test]
    fn events_follow_the_dose_and_stay_in_order() {
        let mut e = Exposure::new(512, 512, Dose::from_total(40.0, 0.83, 1000, 0.0), 9);
        let mut ev = Vec::new();
        let mut total = 0usize;
        for _ in 0..20 {
            e.events(4, &mut ev);
            assert!(ev.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(ev.iter().all(|&(_, s)| s < 16));
            total += ev.len();
        }
        let want = 20.0 * 512.0 * 512.0 * 40.0 * 0.83 * 0.83 / 1000.0;
        assert!(
            (total as f64 - want).abs() < 0.02 * want,
            "{total} vs {want}"
        );
    }

    #[test]
    fn a_specimen_lowers_counts_where_it_sits() {
        let mut flat = Exposure::new(128, 128, Dose::from_total(50.0, 1.0, 10, 0.0), 1);
        let mut spec = Exposure::new(128, 128, Dose::from_total(50.0, 1.0, 10, 0.3), 1);
        let mut a = vec![0u8; 128 * 128];
        let mut b = vec![0u8; 128 * 128];
        flat.counts(&mut a);
        spec.counts(&mut b);
        let sa: u64 = a.iter().map(|&c| u64::from(c)).sum();
        let sb: u64 = b.iter().map(|&c| u64::from(c)).sum();
        assert!(sb < sa);
        assert!(spec.levels.iter().any(|&l| l > 0));
    }

    #[test]
    fn a_drifting_specimen_is_found_where_it_was_put() {
        use super::super::align::align;
        // 20 e⁻/pixel a frame over a strong specimen (a 384² frame standing
        // in for a 4K one's signal): the planted drift of (0.3, −0.2)
        // pixels a frame comes back from the counts
        let (w, h) = (384u32, 384u32);
        let dose = Dose::from_total(200.0, 1.0, 10, 0.8);
        let mut e = Exposure::new(w, h, dose, 5).with_drift(0.3, -0.2, 5);
        let frames: Vec<Vec<f32>> = (0..10)
            .map(|_| {
                let mut f = vec![0u8; (w * h) as usize];
                e.counts(&mut f);
                f.iter().map(|&c| f32::from(c)).collect()
            })
            .collect();
        let found = align(&frames, w as usize, h as usize, 50.0, 3);
        for (i, f) in found.iter().enumerate() {
            let t = i as f64 - 4.5;
            assert!(
                (f.0 - 0.3 * t).abs() < 0.1 && (f.1 + 0.2 * t).abs() < 0.1,
                "frame {i}: found {f:?}, planted ({}, {})",
                0.3 * t,
                -0.2 * t
            );
        }
    }
}
