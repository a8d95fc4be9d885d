//! The largest box whose GPU reconstruction working set actually fits,
//! found by allocating it (an out-of-memory answer means "does not fit",
//! never a crash), next to what `plan`'s VRAM model says for `reconstruct`.

use std::sync::Arc;

use cudarc::driver::CudaContext;

use super::reconstruct::BATCH;
use super::{GpuError, driver};
use crate::datasets::Catalog;
use crate::sizing::MAX_BOX;
use crate::sizing::stack::largest_even;
use crate::sizing::vram;

/// Bytes cryocap's GPU insertion holds at box `n`: the float4 padded grid,
/// one batch of Fourier images (float2) and their rotations.
pub fn working_set_bytes(n: u32, pad: u32) -> u64 {
    let (n, pad, batch) = (u64::from(n), u64::from(pad), BATCH as u64);
    let p = n * pad;
    16 * p * p * (p / 2 + 1) + batch * n * (n / 2 + 1) * 8 + batch * 9 * 4
}

/// The largest even box whose working set cryocap could allocate on this
/// GPU (None: not even box 2).
pub fn by_allocation(ctx: &Arc<CudaContext>, pad: u32) -> Result<Option<u32>, GpuError> {
    let total = ctx.total_mem().map_err(driver("reading the memory size"))? as u64;
    // no box beyond what the whole memory could hold is worth trying
    let ceiling = largest_even(MAX_BOX, |b| working_set_bytes(b, pad) <= total).unwrap_or(2) + 2;
    let stream = ctx.default_stream();
    let fits = |b: u32| {
        let bytes = working_set_bytes(b, pad) as usize;
        // SAFETY: the memory is allocated and freed, never read.
        let ok = unsafe { stream.alloc::<u8>(bytes) }.is_ok();
        // give freed memory back before the next try
        ok && stream.synchronize().is_ok()
    };
    Ok(largest_even(ceiling, fits))
}

/// The largest box `plan`'s `reconstruct` VRAM model allows in `vram_bytes`.
pub fn by_plan_model(vram_bytes: u64) -> Option<u32> {
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
        let images = 1024 * 256 * 129 * 8;
        assert_eq!(working_set_bytes(256, 2), grid + images + 1024 * 36);
        assert!(working_set_bytes(258, 2) > working_set_bytes(256, 2));
    }

    #[test]
    fn plan_model_gives_a_box_for_an_80_gib_gpu() {
        let b = by_plan_model(80 << 30).unwrap();
        assert!(b > 1000 && b.is_multiple_of(2), "{b}");
    }
}
