//! Fourier transforms of particle images (rustfft), in the layout the
//! backprojector and the GPU kernels take: the non-redundant half of the 2D
//! transform, `n` rows (ky = 0, 1, …, n/2-1, -n/2, …, -1) of `n/2 + 1`
//! columns (kx = 0 … n/2), as a real-to-complex FFT (cuFFT R2C) lays it out.
//! The image origin (pixel `n/2`) is moved to index 0 before transforming, so
//! a centred particle has no phase ramp.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Half of the 2D transform of an `n`×`n` image, `n` rows of `n/2 + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierImage {
    pub n: usize,
    pub data: Vec<Complex32>,
}

impl FourierImage {
    pub fn row_len(&self) -> usize {
        self.n / 2 + 1
    }

    /// The signed frequency of row `i`.
    pub fn ky(n: usize, i: usize) -> i64 {
        if i < n / 2 {
            i as i64
        } else {
            i as i64 - n as i64
        }
    }
}

/// Reusable 2D FFT plans and buffers for one box size.
pub struct ImageFft {
    n: usize,
    fft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    column: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl ImageFft {
    pub fn new(n: usize) -> ImageFft {
        let fft = FftPlanner::new().plan_fft_forward(n);
        let scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
        ImageFft {
            n,
            fft,
            buf: vec![Complex32::default(); n * n],
            column: vec![Complex32::default(); n],
            scratch,
        }
    }

    /// The transform of `image` (row-major, `n`×`n`, origin at `n/2`) after
    /// shifting it by `shift` pixels (x, y): a particle at `-shift` from the
    /// centre ends up centred. The shift is a phase ramp, exact for
    /// band-limited images.
    pub fn forward(&mut self, image: &[f32], shift: [f64; 2]) -> FourierImage {
        let n = self.n;
        let h = n / 2;
        assert_eq!(image.len(), n * n, "image size does not match the plan");
        for y in 0..n {
            for x in 0..n {
                let v = image[((y + h) % n) * n + (x + h) % n];
                self.buf[y * n + x] = Complex32::new(v, 0.0);
            }
        }
        for row in self.buf.chunks_exact_mut(n) {
            self.fft.process_with_scratch(row, &mut self.scratch);
        }
        let w = h + 1;
        let mut out = vec![Complex32::default(); n * w];
        for x in 0..w {
            for y in 0..n {
                self.column[y] = self.buf[y * n + x];
            }
            self.fft
                .process_with_scratch(&mut self.column, &mut self.scratch);
            for y in 0..n {
                out[y * w + x] = self.column[y];
            }
        }
        if shift != [0.0, 0.0] {
            let two_pi_n = 2.0 * std::f64::consts::PI / n as f64;
            for y in 0..n {
                let ky = FourierImage::ky(n, y) as f64;
                for x in 0..w {
                    let phase = -two_pi_n * (x as f64 * shift[0] + ky * shift[1]);
                    let (s, c) = phase.sin_cos();
                    out[y * w + x] *= Complex32::new(c as f32, s as f32);
                }
            }
        }
        FourierImage { n, data: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_delta_is_flat_and_real() {
        let n = 8;
        let mut img = vec![0f32; n * n];
        img[(n / 2) * n + n / 2] = 3.0;
        let f = ImageFft::new(n).forward(&img, [0.0, 0.0]);
        assert_eq!(f.data.len(), n * (n / 2 + 1));
        for c in &f.data {
            assert!((c.re - 3.0).abs() < 1e-6 && c.im.abs() < 1e-6, "{c}");
        }
    }

    #[test]
    fn shift_recentres_a_displaced_delta() {
        let n = 16;
        let mut img = vec![0f32; n * n];
        // particle at (+3, -2) from the centre; shifting by (-3, +2) centres it
        img[(n / 2 - 2) * n + n / 2 + 3] = 1.0;
        let f = ImageFft::new(n).forward(&img, [-3.0, 2.0]);
        for c in &f.data {
            assert!((c.re - 1.0).abs() < 1e-5 && c.im.abs() < 1e-5, "{c}");
        }
    }

    #[test]
    fn row_frequencies_wrap() {
        assert_eq!(FourierImage::ky(8, 0), 0);
        assert_eq!(FourierImage::ky(8, 3), 3);
        assert_eq!(FourierImage::ky(8, 4), -4);
        assert_eq!(FourierImage::ky(8, 7), -1);
    }
}
