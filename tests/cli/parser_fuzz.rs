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

const STAR: &str = "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImageSize\n_rlnImagePixelSize\n1 64 1.1\n\n\
data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
_rlnOriginXAngst\n_rlnOriginYAngst\n_rlnDetectorPixelSize\n_rlnMagnification\n\
1@a.mrcs 1 10 20 30 0.5 -0.5 5 50000\n'2@b c.mrcs' 1 -10 1e3 0 0 0 14 10000\nc.mrc 1 0 0 0 0 0 1 1\n";

/// The unmutated files are valid, so mutations start from a real parse.
#[test]
fn the_files_mutated_are_valid() {
    let cs = CsFile::parse(Path::new("f.cs"), valid_cs()).unwrap();
    assert_eq!(cs.particles().unwrap().index.len(), 2);
    let s = star::parse(Path::new("f.star"), STAR).unwrap();
    let p = cryocap::particles::list::from_star(Path::new("f.star"), &s).unwrap();
    assert_eq!(p.len(), 3);
}

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
    let Ok(s) = star::parse(Path::new("f.star"), &text) else {
        return;
    };
    let _ = cryocap::particles::list::from_star(Path::new("f.star"), &s);
    if let Ok((_, t)) = s.table_with("rlnImageName")
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

/// Text typed at a flag: digits, separators, units, signs, exponents,
/// control characters and long runs of any of them.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9,._eE+-]{0,40}[kKmMgGtTpPiIbB/s%]{0,4}",
        "[ -~\n\t]{0,60}",
        (0usize..50_000).prop_map(|n| "9".repeat(n)),
        (0usize..5_000).prop_map(|n| ",".repeat(n) + "1"),
    ]
}

/// A bracket nest `depth` deep in `open`, closed or not.
fn nest(open: &'static str, close: &'static str) -> impl Strategy<Value = String> {
    (0usize..50_000, any::<bool>()).prop_map(move |(depth, closed)| {
        let mut s = open.repeat(depth);
        if closed {
            s.push_str(&close.repeat(depth));
        }
        s
    })
}

proptest! {
    /// Every parser of typed values answers with a value or a message.
    #[test]
    fn value_parsers_never_panic(text in typed()) {
        use cryocap::cli::values::*;
        let _ = cryocap::units::parse_count(&text);
        let _ = cryocap::units::parse_size(&text);
        let _ = cryocap::units::parse_size_with_default(&text, Some(1 << 30));
        let _ = text.parse::<BoxSize>();
        let _ = text.parse::<CryosparcMb>();
        let _ = text.parse::<Rate>();
        let _ = text.parse::<SizeRange>();
        let _ = count::<u32>(1, 64)(&text);
        let _ = size(1)(&text);
        let _ = vram(&text);
        let _ = percent(0.0, 100.0)(&text);
        let _ = duration(std::time::Duration::ZERO, std::time::Duration::from_secs(86_400))(&text);
        let _ = reserve(&text);
        let _ = pixel_size(&text);
        let _ = positive(1e9)(&text);
        let _ = pattern(&text);
    }

    /// Results files of any shape, nested deep: a result or an error.
    #[test]
    fn results_reader_survives_nesting_and_junk(
        body in prop_oneof![nest("[", "]"), nest("{\"a\":", "}"), "[ -~]{0,200}"],
        version in 0u64..4,
        kind in "[a-z-]{0,12}",
    ) {
        let text = format!("{{\"schema_version\": {version}, \"kind\": \"{kind}\", \"x\": {body}}}");
        let _ = cryocap::results::read::parse(Path::new("r.json"), &text);
    }

    /// Job traces: rows, quoting and sizes of any kind.
    #[test]
    fn trace_parser_survives_junk(rows in prop::collection::vec("[ -~\"]{0,80}", 0..50), header in any::<bool>()) {
        let mut text = if header { "job,start_s,duration_s,stack,bytes\n".to_string() } else { String::new() };
        for r in rows {
            text.push_str(&r);
            text.push('\n');
        }
        let _ = cryocap::cache::trace::parse(Path::new("t.csv"), text.as_bytes());
    }

    /// .cs headers nested deep in lists, tuples and dicts.
    #[test]
    fn cs_parser_survives_deep_nesting(body in prop_oneof![nest("[", "]"), nest("(", ")"), nest("{'a': ", "}")]) {
        let mut h = format!("{{'descr': {body}, 'fortran_order': False, 'shape': (2,), }}");
        h.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(h.len().min(65_535) as u16).to_le_bytes());
        v.extend_from_slice(h.as_bytes());
        cs_any(v);
    }

    /// STAR files with many blocks, loops and very long lines.
    #[test]
    fn star_parser_survives_size(blocks in 0usize..200, width in 0usize..20_000) {
        let mut text = String::new();
        for b in 0..blocks {
            text.push_str(&format!("data_b{b}\nloop_\n_rlnImageName\n"));
        }
        text.push_str(&"x".repeat(width));
        star_any(text.as_bytes());
    }
}
