//! The largest box whose GPU reconstruction working set actually fits,
//! found by allocating it (an out-of-memory answer means "does not fit",
//! never a crash), next to what `plan`'s VRAM model says for `reconstruct`.

use std::sync::Arc;

use cudarc::driver::CudaContext;

use super::pipeline;
use super::{GpuError, driver};
use crate::datasets::Catalog;
use crate::sizing::MAX_BOX;
use crate::sizing::stack::largest_even;
use crate::sizing::vram;

/// Device bytes cryocap's reconstruction pipeline holds at box `n` (the
/// padded float4 grid and each stream's particle buffers; cuFFT's workspace
/// comes on top).
pub(crate) fn working_set_bytes(n: u32, pad: u32) -> u64 {
    pipeline::working_set_bytes(n as usize, pad as usize)
}

/// The largest even box whose whole pipeline (grid, stream buffers, FFT
/// plans) cryocap could allocate on this GPU (None: not even box 2). Box 64
/// must build, so that a broken driver or library is an error, not "none".
pub(crate) fn by_allocation(ctx: &Arc<CudaContext>, pad: u32) -> Result<Option<u32>, GpuError> {
    let total = ctx.total_mem().map_err(driver("reading the memory size"))? as u64;
    let pad_u = pad as usize;
    if !pipeline::fits(ctx, 64, pad_u) {
        // say why: the same allocation, with its error
        let layout = super::insert::Layout {
            n: 64,
            pad: pad_u,
            centre: true,
        };
        pipeline::Pipeline::new(ctx, layout, pipeline::Precision::F32, 1)?;
    }
    // no box beyond what the whole memory could hold is worth trying
    let ceiling = largest_even(MAX_BOX, |b| working_set_bytes(b, pad) <= total).unwrap_or(2) + 2;
    Ok(largest_even(ceiling, |b| {
        pipeline::fits(ctx, b as usize, pad_u)
    }))
}

/// The largest box `plan`'s `reconstruct` VRAM model allows in `vram_bytes`.
pub(crate) fn by_plan_model(vram_bytes: u64) -> Option<u32> {
    let catalog = Catalog::get().ok()?;
    let job = catalog.vram_jobs.iter().find(|j| j.job == "reconstruct")?;
    vram::max_box(job, vram_bytes, vram::classes_for(job, None)).map(|(b, _)| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_set_is_dominated_by_the_padded_grid() {
        // box 256, pad 2: 512 * 512 * 257 float4 = 1,077,936,128 bytes
        let grid = 16 * 512 * 512 * 257;
        // 3 streams of 256 particles: image, transform, rotation and shift
        let streams = 3 * 256 * (256 * 256 * 4 + 256 * 129 * 8 + 44);
        assert_eq!(working_set_bytes(256, 2), grid + streams);
        assert!(working_set_bytes(258, 2) > working_set_bytes(256, 2));
    }

    #[test]
    fn plan_model_gives_a_box_for_an_80_gib_gpu() {
        let b = by_plan_model(80 << 30).unwrap();
        assert!(b > 1000 && b.is_multiple_of(2), "{b}");
    }
}
