//! The EER event code (Thermo Fisher's Electron Event Representation), one
//! frame at a time. Public facts (docs/sources.md §10, checked here against
//! `imagecodecs.eer_decode`): the bits of a frame are read least significant
//! first; each code is a run of `run_bits` giving the pixels skipped, then
//! `horz_bits + vert_bits` of sub-pixel position for the event that follows
//! the run. A run of all ones skips that many pixels and carries no event. A
//! frame ends with a run that lands exactly on the last pixel + 1, with no
//! sub-pixel bits after it. Sub-pixel values are stored offset by half their
//! range (value XOR the top bit), so 0 is the pixel's centre-right.

/// The bit widths of one EER variant (TIFF compression 65001 fixes 7/2/2;
/// 65002 states them in tags 65007–65009).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths {
    pub run_bits: u32,
    pub horz_bits: u32,
    pub vert_bits: u32,
}

impl Widths {
    /// The common layout: 7-bit runs, 2+2 sub-pixel bits (a 4096² sensor
    /// rendered up to 16384²).
    pub const STANDARD: Widths = Widths {
        run_bits: 7,
        horz_bits: 2,
        vert_bits: 2,
    };

    /// Whether a decoder can use these widths (one code fits a refill).
    pub fn valid(self) -> bool {
        (1..=16).contains(&self.run_bits) && self.horz_bits <= 8 && self.vert_bits <= 8
    }

    fn max_run(self) -> u64 {
        (1u64 << self.run_bits) - 1
    }
}

/// What is wrong with a frame's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EerError {
    #[error("the code runs past the frame's last pixel (at pixel {0})")]
    PastEnd(u64),
    #[error("the code ends at pixel {at} of {pixels}: truncated")]
    Truncated { at: u64, pixels: u64 },
    #[error("bit widths {0:?} are outside what EER uses")]
    Widths(Widths),
}

/// Writes codes least significant bit first.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, bits: u32) {
        self.acc |= value << self.used;
        self.used += bits;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        // whole 64-bit words: imagecodecs reads the code in words and
        // refuses an odd byte count
        while !self.out.len().is_multiple_of(8) {
            self.out.push(0);
        }
        self.out
    }
}

/// Encodes one frame of `pixels` pixels from events given in increasing
/// pixel order as `(pixel, sub-pixel bits)`; `sub` holds the horizontal bits
/// low and the vertical bits above them. Two events on one pixel are not
/// representable (the detector cannot record them in one frame): the second
/// is dropped.
pub fn encode_frame(
    w: Widths,
    pixels: u64,
    events: impl IntoIterator<Item = (u64, u32)>,
) -> Vec<u8> {
    let mut bw = BitWriter {
        out: Vec::new(),
        acc: 0,
        used: 0,
    };
    let max = w.max_run();
    let sub_bits = w.horz_bits + w.vert_bits;
    let sub_mask = (1u64 << sub_bits) - 1;
    let mut pos = 0u64;
    for (at, sub) in events {
        if at < pos || at >= pixels {
            continue;
        }
        let mut gap = at - pos;
        while gap >= max {
            bw.put(max, w.run_bits);
            gap -= max;
        }
        bw.put(gap, w.run_bits);
        bw.put(u64::from(sub) & sub_mask, sub_bits);
        pos = at + 1;
    }
    let mut gap = pixels - pos;
    while gap >= max {
        bw.put(max, w.run_bits);
        gap -= max;
    }
    bw.put(gap, w.run_bits);
    bw.finish()
}

/// Reads the code least significant bit first, a 64-bit word at a time.
struct BitReader<'a> {
    data: &'a [u8],
    next: usize,
    acc: u64,
    have: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            next: 0,
            acc: 0,
            have: 0,
        }
    }

    /// Tops the accumulator up to at least 57 bits where the data allows.
    #[inline]
    fn refill(&mut self) {
        if self.next + 8 <= self.data.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&self.data[self.next..self.next + 8]);
            let w = u64::from_le_bytes(word);
            self.acc |= w << self.have;
            let took = (63 - self.have) / 8;
            self.next += took as usize;
            self.have += took * 8;
        } else {
            while self.have <= 56 && self.next < self.data.len() {
                self.acc |= u64::from(self.data[self.next]) << self.have;
                self.next += 1;
                self.have += 8;
            }
        }
    }

    #[inline]
    fn take(&mut self, bits: u32) -> Option<u64> {
        if self.have < bits {
            self.refill();
            if self.have < bits {
                return None;
            }
        }
        let v = self.acc & ((1u64 << bits) - 1);
        self.acc >>= bits;
        self.have -= bits;
        Some(v)
    }
}

/// Decodes one frame, calling `event(pixel, horz_sub, vert_sub)` for each
/// event in pixel order, with the sub-pixel offsets already centred (the
/// stored value XOR the top bit). Returns the number of events.
#[inline]
pub fn decode_frame(
    w: Widths,
    pixels: u64,
    data: &[u8],
    mut event: impl FnMut(u64, u32, u32),
) -> Result<u64, EerError> {
    if !w.valid() {
        return Err(EerError::Widths(w));
    }
    let max = w.max_run();
    let sub_bits = w.horz_bits + w.vert_bits;
    let h_mask = (1u32 << w.horz_bits) - 1;
    let h_flip = if w.horz_bits > 0 {
        1 << (w.horz_bits - 1)
    } else {
        0
    };
    let v_flip = if w.vert_bits > 0 {
        1 << (w.vert_bits - 1)
    } else {
        0
    };
    let code_bits = w.run_bits + sub_bits;
    let mut r = BitReader::new(data);
    let mut pos = 0u64;
    let mut count = 0u64;
    loop {
        // one refill serves a whole code
        if r.have < code_bits {
            r.refill();
        }
        let Some(run) = r.take(w.run_bits) else {
            return Err(EerError::Truncated { at: pos, pixels });
        };
        pos += run;
        if run == max {
            continue;
        }
        if pos >= pixels {
            if pos == pixels {
                return Ok(count);
            }
            return Err(EerError::PastEnd(pos));
        }
        let Some(sub) = r.take(sub_bits) else {
            return Err(EerError::Truncated { at: pos, pixels });
        };
        let sub = sub as u32;
        event(pos, (sub & h_mask) ^ h_flip, (sub >> w.horz_bits) ^ v_flip);
        count += 1;
        pos += 1;
    }
}

/// Adds one frame's events into `counts`, rendered at `upsample` (1: the
/// sensor's pixels; 2: twice as many per axis, from the top sub-pixel bit).
/// `counts` holds `(width·upsample) × (height·upsample)` pixels.
pub fn render_frame(
    w: Widths,
    width: u32,
    height: u32,
    upsample: u32,
    data: &[u8],
    counts: &mut [u16],
) -> Result<u64, EerError> {
    let pixels = u64::from(width) * u64::from(height);
    let width = u64::from(width);
    if upsample == 1 {
        return decode_frame(w, pixels, data, |p, _, _| {
            let c = &mut counts[p as usize];
            *c = c.saturating_add(1);
        });
    }
    let out_w = width * 2;
    let hs = w.horz_bits.saturating_sub(1);
    let vs = w.vert_bits.saturating_sub(1);
    decode_frame(w, pixels, data, |p, h, v| {
        let x = (p % width) * 2 + u64::from(h >> hs);
        let y = (p / width) * 2 + u64::from(v >> vs);
        let c = &mut counts[(y * out_w + x) as usize];
        *c = c.saturating_add(1);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_specification_example_decodes() {
        // the example of the EER specification that imagecodecs' tests use:
        // events at pixels 3 and 17 of a 312-pixel row, 7-bit runs, 1+1 sub-pixel bits
        let w = Widths {
            run_bits: 7,
            horz_bits: 1,
            vert_bits: 1,
        };
        let mut seen = Vec::new();
        let data = [0x03, 0x1b, 0xfc, 0xb1, 0x35, 0xfb];
        let _ = decode_frame(w, 312, &data, |p, _, _| seen.push(p));
        assert_eq!(&seen[..2], &[3, 17]);
    }

    #[test]
    fn an_empty_frame_is_one_run_per_127_pixels() {
        let code = encode_frame(Widths::STANDARD, 1000, []);
        let mut n = 0;
        assert_eq!(
            decode_frame(Widths::STANDARD, 1000, &code, |_, _, _| n += 1),
            Ok(0)
        );
        assert_eq!(n, 0);
        assert_eq!(code.len() % 8, 0);
    }

    #[test]
    fn truncated_and_overlong_codes_are_refused() {
        let code = encode_frame(Widths::STANDARD, 4096, [(5, 3), (4000, 1)]);
        assert!(matches!(
            decode_frame(Widths::STANDARD, 4096, &code[..2], |_, _, _| {}),
            Err(EerError::Truncated { .. })
        ));
        // the same code read as a smaller frame runs past its end
        assert!(matches!(
            decode_frame(Widths::STANDARD, 3000, &code, |_, _, _| {}),
            Err(EerError::PastEnd(_))
        ));
    }

    #[test]
    fn rendering_at_2x_uses_the_top_sub_pixel_bit() {
        // stored horizontal 1 is centred to 3 (right half), 2 to 0 (left half)
        let code = encode_frame(Widths::STANDARD, 16, [(5, 0b0001), (6, 0b1010)]);
        let mut counts = vec![0u16; 8 * 32];
        render_frame(Widths::STANDARD, 16, 1, 2, &code, &mut counts[..64]).unwrap();
        let hits: Vec<usize> = (0..64).filter(|&i| counts[i] > 0).collect();
        // pixel 5, right half, lower row (vertical 0 → 2); pixel 6, left half, upper row
        assert_eq!(hits, vec![12, 32 + 11]);
    }

    proptest! {
        #[test]
        fn events_survive_a_round_trip(
            pixels in 1u64..5000,
            raw in proptest::collection::vec((0u64..5000, 0u32..16), 0..400),
        ) {
            let mut ev: Vec<(u64, u32)> = raw.into_iter().filter(|e| e.0 < pixels).collect();
            ev.sort_by_key(|e| e.0);
            ev.dedup_by_key(|e| e.0);
            let code = encode_frame(Widths::STANDARD, pixels, ev.iter().copied());
            let mut back = Vec::new();
            let n = decode_frame(Widths::STANDARD, pixels, &code, |p, h, v| {
                back.push((p, (h ^ 2) | ((v ^ 2) << 2)))
            });
            prop_assert_eq!(n, Ok(ev.len() as u64));
            prop_assert_eq!(back, ev);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            pixels in 1u64..3000,
            run_bits in 0u32..20,
            up in 1u32..3,
        ) {
            let w = Widths { run_bits, horz_bits: 2, vert_bits: 2 };
            let width = 50u32;
            let height = (pixels as u32).div_ceil(width);
            let mut counts = vec![0u16; (width * height * up * up) as usize];
            let _ = render_frame(w, width, height, up, &data, &mut counts);
        }
    }
}
