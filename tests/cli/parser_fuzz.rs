//! Both particle-list parsers take random and mutated bytes without
//! panicking: every input gives particles or an error. PROPTEST_CASES sets
//! the count (CI's default is modest; run once with 1000000 to soak).

use std::path::Path;

use cryocap::metadata::cs::CsFile;
use cryocap::metadata::star;
use proptest::prelude::*;

fn valid_cs() -> Vec<u8> {
    let descr = "[('uid', '<u8'), ('blob/path', '|S8'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4')]";
    let mut h = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    for i in 0..2u32 {
        out.extend_from_slice(&u64::from(i).to_le_bytes());
        out.extend_from_slice(b"a.mrcs\0\0");
        out.extend_from_slice(&i.to_le_bytes());
        out.extend_from_slice(&[64, 0, 0, 0, 64, 0, 0, 0]);
        out.extend_from_slice(&1.5f32.to_le_bytes());
    }
    out
}

const STAR: &str = "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImageSize\n1 64\n\ndata_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 1\n2@'b c.mrcs' 1\n";

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(i, b) in edits {
        if !v.is_empty() {
            let n = v.len();
            v[i % n] = b;
        }
    }
    v.truncate(cut % (v.len() + 1));
    v
}

fn cs_any(bytes: Vec<u8>) {
    if let Ok(f) = CsFile::parse(Path::new("f.cs"), bytes) {
        let _ = f.particles();
    }
}

fn star_any(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(s) = star::parse(Path::new("f.star"), &text)
        && let Ok((_, t)) = s.table_with("rlnImageName")
        && let Some(c) = t.column("rlnImageName")
    {
        for r in &t.rows {
            let _ = star::parse_image_name(&r[c]);
        }
    }
}

proptest! {
    #[test]
    fn cs_parser_survives_mutations(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        cs_any(mutate(&valid_cs(), &edits, cut));
    }

    #[test]
    fn cs_parser_survives_random_bytes(mut bytes in prop::collection::vec(any::<u8>(), 0..300), npy in any::<bool>()) {
        if npy {
            let mut v = b"\x93NUMPY\x01\x00".to_vec();
            v.append(&mut bytes);
            bytes = v;
        }
        cs_any(bytes);
    }

    #[test]
    fn star_parser_survives_mutations(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        star_any(&mutate(STAR.as_bytes(), &edits, cut));
    }

    #[test]
    fn star_parser_survives_random_text(text in "[ -~\n\t@_'\"]{0,200}") {
        star_any(text.as_bytes());
    }
}
