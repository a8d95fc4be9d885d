//! The CUDA C sources in `kernels/`, embedded, and their compilation to PTX
//! with NVRTC for a given compute capability.

use cudarc::nvrtc::{CompileOptions, Ptx, compile_ptx_with_opts};

use super::GpuError;
use super::probe::nvrtc_present;

/// One source file and the kernels it defines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelSource {
    pub file: &'static str,
    pub source: &'static str,
    /// The kernels it defines (the NVRTC test finds each in the PTX).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the NVRTC test only"))]
    pub functions: &'static [&'static str],
}

pub(crate) const BACKPROJECT: KernelSource = KernelSource {
    file: "backproject.cu",
    source: include_str!("../../kernels/backproject.cu"),
    functions: &["insert_trilinear", "insert_tiled"],
};
pub(crate) const CONVERT: KernelSource = KernelSource {
    file: "convert.cu",
    source: include_str!("../../kernels/convert.cu"),
    functions: &["f16_to_f32"],
};
pub(crate) const COPY: KernelSource = KernelSource {
    file: "copy.cu",
    source: include_str!("../../kernels/copy.cu"),
    functions: &["copy_float4"],
};

pub(crate) const ALIGN: KernelSource = KernelSource {
    file: "align.cu",
    source: include_str!("../../kernels/align.cu"),
    functions: &[
        "counts_to_float",
        "extract_patches",
        "image_means",
        "taper_complex",
        "shifted_sum",
        "cross_spectra",
        "find_peaks",
    ],
};

#[cfg(test)]
const ALL: [KernelSource; 4] = [BACKPROJECT, CONVERT, COPY, ALIGN];

/// NVRTC's name for compute capability `major.minor` (it wants a `'static`).
pub(crate) fn arch_for(major: i32, minor: i32) -> Result<&'static str, GpuError> {
    Ok(match (major, minor) {
        (5, 0) => "compute_50",
        (5, 2) => "compute_52",
        (6, 0) => "compute_60",
        (6, 1) => "compute_61",
        (7, 0) => "compute_70",
        (7, 5) => "compute_75",
        (8, 0) => "compute_80",
        (8, 6) => "compute_86",
        (8, 9) => "compute_89",
        (9, 0) => "compute_90",
        (10, 0) => "compute_100",
        (12, 0) => "compute_120",
        _ => return Err(GpuError::UnknownArch(major, minor)),
    })
}

/// Compiles `k` to PTX for `arch` (e.g. "compute_90").
pub(crate) fn compile(k: &KernelSource, arch: &'static str) -> Result<Ptx, GpuError> {
    if !nvrtc_present() {
        return Err(GpuError::NoNvrtc);
    }
    let opts = CompileOptions {
        arch: Some(arch),
        options: vec!["--use_fast_math".into()],
        name: Some(k.file.into()),
        ..Default::default()
    };
    compile_ptx_with_opts(k.source, opts).map_err(|e| GpuError::Compile {
        file: k.file,
        arch: arch.into(),
        log: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NVRTC is needed; CI sets CRYOCAP_REQUIRE_NVRTC=1 so a missing library
    /// fails instead of skipping.
    fn nvrtc_or_skip() -> bool {
        if nvrtc_present() {
            return true;
        }
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_NVRTC").is_none(),
            "CRYOCAP_REQUIRE_NVRTC is set but libnvrtc cannot be loaded (LD_LIBRARY_PATH?)"
        );
        eprintln!("skipped: libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12)");
        false
    }

    #[test]
    fn every_kernel_compiles_for_ampere_and_hopper() {
        if !nvrtc_or_skip() {
            return;
        }
        for arch in ["compute_80", "compute_90"] {
            for k in ALL {
                let ptx = compile(&k, arch).unwrap_or_else(|e| panic!("{e}"));
                let text = ptx.to_src();
                for f in k.functions {
                    assert!(
                        text.contains(&format!(".entry {f}")),
                        "{} lacks {f}",
                        k.file
                    );
                }
            }
        }
    }

    #[test]
    fn hopper_insertion_uses_vector_atomics() {
        if !nvrtc_or_skip() {
            return;
        }
        let sm90 = compile(&BACKPROJECT, "compute_90").unwrap().to_src();
        let sm80 = compile(&BACKPROJECT, "compute_80").unwrap().to_src();
        assert!(
            sm90.contains(".v4.f32"),
            "no vector atomic in the sm_90 PTX"
        );
        assert!(!sm80.contains("red.global.add.v4") && !sm80.contains("atom.global.v4"));
    }

    #[test]
    fn tiled_insertion_sums_with_integer_atomics_in_shared_memory() {
        // float atomicAdd on shared memory is a compare-and-swap loop on
        // sm_90, which made the first tiled kernel slower than the plain one
        if !nvrtc_or_skip() {
            return;
        }
        let ptx = compile(&BACKPROJECT, "compute_90").unwrap().to_src();
        let start = ptx
            .find(".entry insert_tiled")
            .expect("insert_tiled in the PTX");
        let tiled = &ptx[start..];
        assert!(tiled.contains("atom.shared.cas.b32") && tiled.contains("atom.shared.exch.b32"));
        assert!(
            !tiled.contains("atom.shared.add.f32"),
            "float atomics in shared memory"
        );
    }

    #[test]
    fn a_broken_kernel_is_an_error() {
        if !nvrtc_or_skip() {
            return;
        }
        let bad = KernelSource {
            file: "bad.cu",
            source: "extern \"C\" __global__ void f() { undefined_thing(); }",
            functions: &["f"],
        };
        match compile(&bad, "compute_80") {
            Err(GpuError::Compile { file, .. }) => assert_eq!(file, "bad.cu"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn known_architectures() {
        assert_eq!(arch_for(9, 0).unwrap(), "compute_90");
        assert!(arch_for(1, 0).is_err());
    }
}
