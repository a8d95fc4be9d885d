//! Comparing volumes: real-space (Pearson) correlation and the Fourier shell
//! correlation.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

use super::Volume;

/// Pearson correlation of two equally long arrays.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n == 0.0 {
        return 0.0;
    }
    let ma = a.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let mb = b.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(*x) - ma, f64::from(*y) - mb);
        ab += dx * dy;
        aa += dx * dx;
        bb += dy * dy;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

fn fft3(v: &Volume) -> Vec<Complex64> {
    let n = v.n;
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
    let mut d: Vec<Complex64> = v
        .data
        .iter()
        .map(|x| Complex64::new(f64::from(*x), 0.0))
        .collect();
    let mut line = vec![Complex64::default(); n];
    for stride in [1, n, n * n] {
        for base in 0..n * n * n {
            // visit each line once: its first element has coordinate 0 along the axis
            if (base / stride) % n != 0 {
                continue;
            }
            for (k, l) in line.iter_mut().enumerate() {
                *l = d[base + k * stride];
            }
            fft.process(&mut line);
            for (k, l) in line.iter().enumerate() {
                d[base + k * stride] = *l;
            }
        }
    }
    d
}

/// FSC per shell 0 … n/2 (shell `s` holds frequencies with |k| rounded to
/// `s`, in units of 1/n; shell n/2 is Nyquist). Both volumes must be `n`³.
pub fn fsc(a: &Volume, b: &Volume) -> Vec<f64> {
    assert_eq!(a.n, b.n, "FSC needs two volumes of the same size");
    let n = a.n;
    let (fa, fb) = (fft3(a), fft3(b));
    let shells = n / 2 + 1;
    let (mut num, mut da, mut db) = (vec![0.0; shells], vec![0.0; shells], vec![0.0; shells]);
    let freq = |i: usize| {
        if i < n / 2 {
            i as f64
        } else {
            i as f64 - n as f64
        }
    };
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let r = (freq(x).powi(2) + freq(y).powi(2) + freq(z).powi(2)).sqrt();
                let s = r.round() as usize;
                if s >= shells {
                    continue;
                }
                let i = (z * n + y) * n + x;
                num[s] += (fa[i] * fb[i].conj()).re;
                da[s] += fa[i].norm_sqr();
                db[s] += fb[i].norm_sqr();
            }
        }
    }
    (0..shells)
        .map(|s| {
            let d = (da[s] * db[s]).sqrt();
            if d > 0.0 { num[s] / d } else { 0.0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recon::Phantom;

    #[test]
    fn identical_volumes_correlate_fully() {
        let v = Phantom::random(16, 4, 1).volume();
        assert!((correlation(&v.data, &v.data) - 1.0).abs() < 1e-12);
        for s in fsc(&v, &v) {
            assert!((s - 1.0).abs() < 1e-9, "{s}");
        }
    }

    #[test]
    fn scaling_does_not_matter_but_unrelated_volumes_do() {
        use rand::{RngExt, SeedableRng};
        let a = Phantom::random(16, 6, 1).volume();
        let mut scaled = a.clone();
        scaled.data.iter_mut().for_each(|v| *v *= 3.0);
        assert!((correlation(&a.data, &scaled.data) - 1.0).abs() < 1e-9);
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let mut noise = Volume::zeros(16);
        noise
            .data
            .iter_mut()
            .for_each(|v| *v = rng.random_range(-1.0..1.0));
        assert!(correlation(&a.data, &noise.data).abs() < 0.1);
        let curve = fsc(&a, &noise);
        for s in &curve[2..] {
            assert!(s.abs() < 0.5, "{curve:?}");
        }
    }
}
