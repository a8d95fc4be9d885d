//! `bench gpu` in long CSV form: job memory, then each device's figures
//! and rates.

use crate::report::LongCsv;
use crate::results::gpu::{GpuDeviceResult, JobMemory};

/// `--job-memory`: each box's per-rank bytes and whether it allocated, then
/// the largest box allocated and modelled per pad.
pub(super) fn job_memory_csv(j: &JobMemory, w: &mut LongCsv) {
    for row in &j.rows {
        let item = format!(
            "gpu{} {} box {} pad {}",
            row.device, j.job, row.box_size, row.pad
        );
        w.add(
            "job_memory",
            &item,
            "per_rank_bytes",
            row.per_rank_bytes,
            "bytes",
        );
        w.add("job_memory", &item, "allocated", row.allocated, "");
    }
    for l in &j.limits {
        let item = format!("gpu{} {} pad {}", l.device, j.job, l.pad);
        if let Some(b) = l.allocated_max_box {
            w.add("job_memory", &item, "allocated_max_box", b, "pixels");
        }
        if let Some(b) = l.model_max_box {
            w.add("job_memory", &item, "model_max_box", b, "pixels");
        }
    }
}

/// One device's memory, SMs, checks, bandwidths and largest box.
pub(super) fn device_csv(d: &GpuDeviceResult, w: &mut LongCsv) {
    let g = format!("gpu{}", d.device.ordinal);
    w.add("device", &g, "vram_bytes", d.device.vram_bytes, "bytes");
    w.add("device", &g, "sm_count", d.device.sm_count, "SMs");
    for c in &d.checks {
        let item = format!("{g} {} box {} pad {}", c.kernel, c.box_size, c.pad);
        w.add("check", &item, "relative_error", c.relative_error, "");
        w.add("check", &item, "passed", c.passed, "");
    }
    let bandwidths = [
        ("copy", &d.copy),
        ("copy_memcpy", &d.copy_memcpy),
        ("host_to_device", &d.host_to_device),
        ("device_to_host", &d.device_to_host),
    ];
    for (name, b) in bandwidths {
        if let Some(b) = b {
            let spread = [
                b.median_bytes_per_second,
                b.min_bytes_per_second,
                b.max_bytes_per_second,
            ];
            w.add_spread("bandwidth", &format!("{g} {name}"), spread, "bytes/s");
        }
    }
    if let Some(m) = &d.max_box
        && let Some(b) = m.by_allocation
    {
        w.add(
            "max_box",
            &format!("{g} pad {}", m.pad),
            "by_allocation",
            b,
            "pixels",
        );
    }
}

/// One device's FFT, insertion, frame alignment and end-to-end rates (the
/// cases that ran).
pub(super) fn rates_csv(d: &GpuDeviceResult, w: &mut LongCsv) {
    let g = format!("gpu{}", d.device.ordinal);
    for f in d.fft.iter().filter(|f| f.error.is_none()) {
        let item = format!("{g} box {}", f.box_size);
        w.add_spread("fft", &item, f.rates(), "images/s");
    }
    for x in d.insertion.iter().filter(|x| x.error.is_none()) {
        let item = format!("{g} {} box {} pad {}", x.kernel, x.box_size, x.pad);
        w.add_spread("insertion", &item, x.rates(), "particles/s");
    }
    for x in d.frame_alignment.iter().filter(|x| x.error.is_none()) {
        let item = format!("{g} {} {}x{}x{}", x.detector, x.width, x.height, x.frames);
        w.add_spread(
            "frame_alignment",
            &item,
            [x.median_seconds, x.min_seconds, x.max_seconds],
            "s/movie",
        );
        w.add(
            "frame_alignment",
            &item,
            "movies_per_hour",
            x.movies_per_hour,
            "movies/h",
        );
    }
    for x in d.end_to_end.iter().filter(|x| x.error.is_none()) {
        let item = format!("{g} {} box {} pad {}", x.input, x.box_size, x.pad);
        w.add_spread("end_to_end", &item, x.rates(), "particles/s");
        if let Some(b) = x.host_link_bound {
            w.add("end_to_end", &item, "host_link_bound", b, "particles/s");
        }
    }
}
