//! The reader feed, on real stack files.

use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::particles::list::{EulerAngles, Origin};
use crate::particles::stacks::StackOptions;
use crate::storage::mrc::{MrcHeader, encode_pixels};

const N: usize = 16;

/// Pixel `j` of image `i` of stack `s`: distinct, exact in float16.
fn value(s: usize, i: usize, j: usize) -> f32 {
    (s * 64 + i) as f32 + (j % 8) as f32 * 0.125
}

/// Writes stacks of `counts[s]` images in `mode`; returns the STAR path
/// they are relative to.
fn write_stacks(dir: &Path, counts: &[usize], mode: Mode) -> PathBuf {
    for (s, &count) in counts.iter().enumerate() {
        let h = MrcHeader::image_stack(N as u32, N as u32, count as u32, mode, 1.0);
        let mut bytes = h.to_bytes().to_vec();
        for i in 0..count {
            let img: Vec<f32> = (0..N * N).map(|j| value(s, i, j)).collect();
            match mode {
                Mode::Float32 | Mode::Float16 => encode_pixels(&img, mode, &mut bytes),
                Mode::Int16 => img
                    .iter()
                    .for_each(|v| bytes.extend_from_slice(&(*v as i16).to_le_bytes())),
                _ => unreachable!("the tests write float32, float16 and int16"),
            }
        }
        let mut f = std::fs::File::create(dir.join(format!("s{s}.mrcs"))).unwrap();
        f.write_all(&bytes).unwrap();
    }
    dir.join("particles.star")
}

fn particle(s: usize, index: u64) -> Particle {
    Particle {
        stack: format!("s{s}.mrcs"),
        index,
        numbered: true,
        angles: EulerAngles {
            rot: 0.0,
            tilt: 0.0,
            psi: 0.0,
        },
        origin: Origin::Pixels([0.0, 0.0]),
        pixel_size: None,
        image_size: None,
        line: 10 + index as usize,
    }
}

fn opts(readers: usize, chunk: usize, direct: bool) -> FeedOptions {
    FeedOptions {
        readers,
        chunk,
        direct,
        policy: NonFinite::Refuse,
    }
}

/// Runs the feed over host buffers and returns each particle's image
/// as float32, as delivered, with the stats and how many buffers the
/// consumer ever saw.
fn feed_all(
    star: &Path,
    parts: &[Particle],
    order: &[usize],
    f16: bool,
    o: &FeedOptions,
) -> (HashMap<usize, Vec<f32>>, FeedStats, u64, usize) {
    let stacks = Stacks::open(star, parts, &StackOptions::default()).unwrap();
    let ring: Vec<HostSlot> = (0..3)
        .map(|_| match f16 {
            true => HostSlot::F16(vec![0; o.chunk * N * N]),
            false => HostSlot::F32(vec![0.0; o.chunk * N * N]),
        })
        .collect();
    let mut got = HashMap::new();
    let mut skipped = 0;
    let mut seen = std::collections::HashSet::new();
    let stats = run(
        star,
        parts,
        &stacks,
        order,
        ring,
        o,
        |mut f: Filled<HostSlot>| {
            skipped += f.skipped;
            let ptr = match &f.slot {
                HostSlot::F32(v) => v.as_ptr() as usize,
                HostSlot::F16(v) => v.as_ptr() as usize,
            };
            seen.insert(ptr);
            for (k, p) in f.particles.iter().enumerate() {
                let img = match f.slot.pixels().unwrap() {
                    Pixels::F32(v) => v[k * N * N..(k + 1) * N * N].to_vec(),
                    Pixels::F16(v) => v[k * N * N..(k + 1) * N * N]
                        .iter()
                        .map(|b| half::f16::from_bits(*b).to_f32())
                        .collect(),
                };
                assert!(
                    got.insert(*p, img).is_none(),
                    "particle {p} delivered twice"
                );
            }
            Ok::<_, String>(f.slot)
        },
    )
    .unwrap();
    (got, stats, skipped, seen.len())
}

fn expect_all(parts: &[Particle], order: &[usize], got: &HashMap<usize, Vec<f32>>, mode: Mode) {
    assert_eq!(got.len(), order.len());
    for &p in order {
        let s: usize = parts[p].stack[1..2].parse().unwrap();
        let want: Vec<f32> = (0..N * N)
            .map(|j| value(s, parts[p].index as usize, j))
            .map(|v| if mode == Mode::Int16 { v.trunc() } else { v })
            .collect();
        assert_eq!(got[&p], want, "particle {p}");
    }
}

#[test]
fn every_particle_arrives_once_with_its_pixels_in_every_mode_and_reading() {
    for (mode, f16) in [
        (Mode::Float32, false),
        (Mode::Float16, true),
        (Mode::Float16, false),
        (Mode::Int16, false),
    ] {
        for direct in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let star = write_stacks(dir.path(), &[40, 25], mode);
            // runs within a stack, a jump back, and a switch of stack
            let mut parts: Vec<Particle> = (0..40).map(|i| particle(0, i)).collect();
            parts.extend((0..25).rev().map(|i| particle(1, i)));
            parts.push(particle(0, 3));
            let order: Vec<usize> = (0..parts.len()).collect();
            let (got, stats, skipped, buffers) =
                feed_all(&star, &parts, &order, f16, &opts(3, 7, direct));
            expect_all(&parts, &order, &got, mode);
            assert_eq!(skipped, 0);
            assert!(buffers <= 3, "{buffers} buffers: the ring was not reused");
            assert!(stats.bytes >= (66 * N * N * mode.bytes_for(1) as usize) as u64);
            assert_eq!(stats.readers, 3);
            // O_DIRECT is used, or the refusal is said (tmpfs refuses it)
            assert!(!direct || stats.direct || stats.fallback.is_some());
            assert!(direct || !stats.direct);
        }
    }
}

#[test]
fn a_subset_in_any_order_reads_only_its_particles() {
    let dir = tempfile::tempdir().unwrap();
    let star = write_stacks(dir.path(), &[30], Mode::Float32);
    let parts: Vec<Particle> = (0..30).map(|i| particle(0, i)).collect();
    let order = vec![29, 0, 1, 2, 17, 5];
    let (got, ..) = feed_all(&star, &parts, &order, false, &opts(2, 4, false));
    expect_all(&parts, &order, &got, Mode::Float32);
}

/// Stack 0 with NaN in image 2 and +inf (float16) in image 5.
fn poisoned(dir: &Path, mode: Mode) -> PathBuf {
    let star = write_stacks(dir, &[8], mode);
    let path = dir.join("s0.mrcs");
    let mut bytes = std::fs::read(&path).unwrap();
    let b = mode.bytes_for(1) as usize;
    let at = |i: usize| 1024 + (i * N * N + 7) * b;
    let (nan, inf): (Vec<u8>, Vec<u8>) = match mode {
        Mode::Float16 => (vec![0x00, 0x7e], vec![0x00, 0x7c]),
        _ => (
            f32::NAN.to_le_bytes().to_vec(),
            f32::INFINITY.to_le_bytes().to_vec(),
        ),
    };
    bytes[at(2)..at(2) + b].copy_from_slice(&nan);
    bytes[at(5)..at(5) + b].copy_from_slice(&inf);
    std::fs::write(&path, bytes).unwrap();
    star
}

#[test]
fn non_finite_images_are_left_out_and_the_rest_compacted() {
    for (mode, f16, direct) in [
        (Mode::Float32, false, false),
        (Mode::Float32, false, true),
        (Mode::Float16, true, false),
        (Mode::Float16, false, true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let star = poisoned(dir.path(), mode);
        let parts: Vec<Particle> = (0..8).map(|i| particle(0, i)).collect();
        let order: Vec<usize> = (0..8).collect();
        let o = FeedOptions {
            policy: NonFinite::Skip,
            ..opts(2, 3, direct)
        };
        let (got, _, skipped, _) = feed_all(&star, &parts, &order, f16, &o);
        assert_eq!(skipped, 2, "{mode:?}");
        let kept: Vec<usize> = order
            .iter()
            .copied()
            .filter(|p| ![2, 5].contains(p))
            .collect();
        expect_all(&parts, &kept, &got, mode);
    }
}

#[test]
fn a_non_finite_image_is_refused_by_star_line_and_stack() {
    let dir = tempfile::tempdir().unwrap();
    let star = poisoned(dir.path(), Mode::Float16);
    let parts: Vec<Particle> = (0..8).map(|i| particle(0, i)).collect();
    let stacks = Stacks::open(&star, &parts, &StackOptions::default()).unwrap();
    let ring = vec![HostSlot::F16(vec![0; 4 * N * N])];
    let order: Vec<usize> = (0..8).collect();
    let err = run(
        &star,
        &parts,
        &stacks,
        &order,
        ring,
        &opts(2, 4, false),
        |f| Ok::<_, String>(f.slot),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("particles.star:12: image 3 of"), "{err}");
    assert!(err.contains("non-finite"), "{err}");
}

#[test]
fn a_stack_truncated_after_opening_is_an_error_not_a_hang() {
    for direct in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let star = write_stacks(dir.path(), &[20], Mode::Float32);
        let parts: Vec<Particle> = (0..20).map(|i| particle(0, i)).collect();
        let stacks = Stacks::open(&star, &parts, &StackOptions::default()).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("s0.mrcs"))
            .unwrap();
        f.set_len(1024 + 10 * (N * N * 4) as u64).unwrap();
        let ring = vec![HostSlot::F32(vec![0.0; 4 * N * N]); 2];
        let order: Vec<usize> = (0..20).collect();
        let err = run(
            &star,
            &parts,
            &stacks,
            &order,
            ring,
            &opts(2, 4, direct),
            |f| Ok::<_, String>(f.slot),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}

#[test]
fn a_consumer_error_stops_the_readers() {
    let dir = tempfile::tempdir().unwrap();
    let star = write_stacks(dir.path(), &[60], Mode::Float32);
    let parts: Vec<Particle> = (0..60).map(|i| particle(0, i)).collect();
    let stacks = Stacks::open(&star, &parts, &StackOptions::default()).unwrap();
    let ring = vec![HostSlot::F32(vec![0.0; 2 * N * N]); 2];
    let order: Vec<usize> = (0..60).collect();
    let mut calls = 0;
    let err = run(
        &star,
        &parts,
        &stacks,
        &order,
        ring,
        &opts(3, 2, false),
        |f| {
            calls += 1;
            if calls == 2 {
                Err("the GPU went away".to_string())
            } else {
                Ok(f.slot)
            }
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "the GPU went away");
    assert_eq!(calls, 2);
}

#[test]
fn buffers_smaller_than_a_chunk_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let star = write_stacks(dir.path(), &[4], Mode::Float32);
    let parts: Vec<Particle> = (0..4).map(|i| particle(0, i)).collect();
    let stacks = Stacks::open(&star, &parts, &StackOptions::default()).unwrap();
    let ring = vec![HostSlot::F32(vec![0.0; N * N])];
    let r = run(
        &star,
        &parts,
        &stacks,
        &[0, 1, 2, 3],
        ring,
        &opts(1, 4, false),
        |f| Ok::<_, String>(f.slot),
    );
    assert!(matches!(r, Err(FeedError::Ring)));
}
