//! GPU measurements for `qualify`, from `bench gpu` when a CUDA driver is
//! present: the devices' VRAM and compute capability for the checks, and
//! the insertion throughput per box for the bottleneck analysis.

use crate::gpu::bench::{self, BenchGpuParams};
use crate::gpu::probe;
use crate::results::gpu::{BenchStatus, GpuBenchReport, InsertionResult};
use crate::results::metrics::{Better, Metric};

/// What the GPU part of `qualify` found.
#[derive(Debug, Default)]
pub(crate) struct GpuResults {
    pub metrics: Vec<Metric>,
    pub devices: u32,
    /// (box, particles/s one GPU inserts at padding 2), the slowest device.
    pub insertion: Vec<(u32, f64)>,
    pub notes: Vec<String>,
    /// The newest compute capability among the GPUs (what the driver must
    /// support), when a driver listed them.
    pub newest_arch: Option<(i32, i32)>,
}

fn range(
    id: String,
    label: String,
    unit: &str,
    median: f64,
    min: f64,
    max: f64,
    counts: &str,
) -> Metric {
    Metric {
        id,
        label,
        unit: unit.to_string(),
        better: Better::Higher,
        value: median,
        min,
        max,
        // bench gpu keeps the median and range of its repeats, not each one
        samples: vec![min, median, max],
        counts: counts.to_string(),
    }
}

/// Turns a `bench gpu` report into metrics.
pub(crate) fn from_report(r: &GpuBenchReport) -> GpuResults {
    let mut out = GpuResults {
        devices: r.devices.len() as u32,
        newest_arch: r.devices.iter().map(|d| d.device.compute_capability).max(),
        ..Default::default()
    };
    if r.status == BenchStatus::Skipped {
        out.notes.push(format!(
            "GPU not measured: {}",
            r.reason.clone().unwrap_or_else(|| "skipped".into())
        ));
        return out;
    }
    if r.status == BenchStatus::CheckFailed {
        out.notes
            .push("a GPU kernel disagreed with the CPU reference: its speed is not used".into());
    }
    let one = |id: &str, label: &str, unit: &str, v: f64| {
        Metric::from_samples(id, label, unit, Better::Higher, vec![v])
    };
    if let Some(min_vram) = r.devices.iter().map(|d| d.device.vram_bytes).min() {
        out.metrics.push(one(
            "gpu_vram",
            "VRAM of the smallest GPU",
            "bytes",
            min_vram as f64,
        ));
    }
    if let Some(cc) = r
        .devices
        .iter()
        .map(|d| {
            f64::from(d.device.compute_capability.0)
                + f64::from(d.device.compute_capability.1) / 10.0
        })
        .reduce(f64::min)
    {
        out.metrics.push(one(
            "gpu_compute_capability",
            "lowest GPU compute capability",
            "compute_capability",
            cc,
        ));
    }
    for d in &r.devices {
        let i = d.device.ordinal;
        if let Some(c) = &d.copy {
            out.metrics.push(range(
                format!("gpu{i}.copy.bytes_per_second"),
                format!("GPU {i} device-to-device copy"),
                "bytes_per_second",
                c.median_bytes_per_second,
                c.min_bytes_per_second,
                c.max_bytes_per_second,
                &c.counts,
            ));
        }
        for ins in fastest_insertion_per_box(&d.insertion, 2) {
            out.metrics.push(range(
                format!("gpu{i}.insertion.box{}.particles_per_second", ins.box_size),
                format!(
                    "GPU {i} Fourier insertion, box {}, padding 2 ({})",
                    ins.box_size, ins.kernel
                ),
                "particles_per_second",
                ins.median_particles_per_second,
                ins.min_particles_per_second,
                ins.max_particles_per_second,
                "particles inserted per second, Fourier images already on the GPU",
            ));
            match out.insertion.iter_mut().find(|(b, _)| *b == ins.box_size) {
                Some(slot) => slot.1 = slot.1.min(ins.median_particles_per_second),
                None => out
                    .insertion
                    .push((ins.box_size, ins.median_particles_per_second)),
            }
        }
        for e in d
            .end_to_end
            .iter()
            .filter(|x| x.error.is_none() && x.pad == 2)
        {
            out.metrics.push(range(
                format!(
                    "gpu{i}.end_to_end.{}.box{}.particles_per_second",
                    e.input, e.box_size
                ),
                format!(
                    "GPU {i} end to end from {} particles in host memory, box {}, padding 2",
                    e.input, e.box_size
                ),
                "particles_per_second",
                e.median_particles_per_second,
                e.min_particles_per_second,
                e.max_particles_per_second,
                "particles copied, transformed and inserted per second",
            ));
        }
    }
    if r.status == BenchStatus::CheckFailed {
        out.insertion.clear();
        out.metrics
            .retain(|m| !m.id.contains(".insertion.") && !m.id.contains(".end_to_end."));
    }
    out
}

/// Per box, the fastest kernel's measured insertion at padding `pad` (bench
/// gpu times each kernel; the pipeline uses the fastest), boxes in order.
fn fastest_insertion_per_box(rows: &[InsertionResult], pad: u32) -> Vec<&InsertionResult> {
    let mut best: Vec<&InsertionResult> = Vec::new();
    for r in rows.iter().filter(|x| x.error.is_none() && x.pad == pad) {
        match best.iter_mut().find(|b| b.box_size == r.box_size) {
            Some(b) if b.median_particles_per_second < r.median_particles_per_second => *b = r,
            Some(_) => {}
            None => best.push(r),
        }
    }
    best
}

/// Runs `bench gpu` at `boxes` when a driver is present.
pub(crate) fn measure(boxes: &[u32], quick: bool) -> GpuResults {
    if !probe::driver_present() {
        return GpuResults::default();
    }
    let (timed, untimed): (Vec<u32>, Vec<u32>) = boxes.iter().partition(|&&n| bench::times_box(n));
    let cfg = BenchGpuParams {
        boxes: timed,
        pads: vec![2],
        particles: if quick { 2_000 } else { 10_000 },
    };
    let mut results = match bench::run(&cfg) {
        Ok(r) => from_report(&r),
        Err(e) => GpuResults {
            notes: vec![format!("GPU not measured: {e}")],
            ..Default::default()
        },
    };
    for n in untimed {
        results.notes.push(format!(
            "box {n}: not timed on the GPU (the bench times even boxes from {} to {})",
            bench::BOXES.start(),
            bench::BOXES.end()
        ));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::gpu::*;

    fn device(ordinal: usize, vram: u64, cc: (i32, i32), rate: f64) -> GpuDeviceResult {
        GpuDeviceResult {
            insertion: vec![
                InsertionResult {
                    kernel: "insert_trilinear".into(),
                    box_size: 256,
                    pad: 2,
                    particles: 1000,
                    repeats: 7,
                    median_particles_per_second: rate / 2.0,
                    min_particles_per_second: rate * 0.45,
                    max_particles_per_second: rate * 0.55,
                    error: None,
                },
                InsertionResult {
                    kernel: "insert_tiled".into(),
                    box_size: 256,
                    pad: 2,
                    particles: 1000,
                    repeats: 7,
                    median_particles_per_second: rate,
                    min_particles_per_second: rate * 0.9,
                    max_particles_per_second: rate * 1.1,
                    error: None,
                },
            ],
            end_to_end: vec![EndToEndResult {
                box_size: 256,
                pad: 2,
                input: "float16".into(),
                kernel: "insert_tiled".into(),
                particles: 1024,
                chunk: 256,
                streams: 3,
                repeats: 7,
                median_particles_per_second: rate / 2.0,
                min_particles_per_second: rate * 0.45,
                max_particles_per_second: rate * 0.55,
                host_link_bound: None,
                error: None,
            }],
            ..GpuDeviceResult::checks_only(
                DeviceInfo {
                    ordinal,
                    name: "test GPU".into(),
                    compute_capability: cc,
                    vram_bytes: vram,
                    sm_count: 100,
                    driver_version: 13000,
                },
                Vec::new(),
            )
        }
    }

    fn report(status: BenchStatus) -> GpuBenchReport {
        GpuBenchReport {
            status,
            reason: None,
            input: GpuBenchInput {
                boxes: vec![256],
                pads: vec![2],
                particles: 1000,
            },
            devices: vec![
                device(0, 80 << 30, (9, 0), 4e5),
                device(1, 24 << 30, (8, 6), 1e5),
            ],
            not_measured: Vec::new(),
            job_memory: None,
            from_files: None,
        }
    }

    #[test]
    fn the_weakest_device_answers_the_checks_and_the_bottleneck() {
        let g = from_report(&report(BenchStatus::Measured));
        assert_eq!(g.devices, 2);
        let vram = g.metrics.iter().find(|m| m.id == "gpu_vram").unwrap();
        assert_eq!(vram.value, (24u64 << 30) as f64);
        let cc = g
            .metrics
            .iter()
            .find(|m| m.id == "gpu_compute_capability")
            .unwrap();
        assert!((cc.value - 8.6).abs() < 1e-9);
        // the faster kernel of each device, then the slower device
        assert_eq!(g.insertion, vec![(256, 1e5)]);
        let mut ids: Vec<&str> = g.metrics.iter().map(|m| m.id.as_str()).collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "metric ids are unique");
        let e2e = g
            .metrics
            .iter()
            .find(|m| m.id == "gpu1.end_to_end.float16.box256.particles_per_second")
            .unwrap();
        assert_eq!(e2e.value, 5e4);
    }

    #[test]
    fn a_failed_kernel_check_keeps_speed_out() {
        let g = from_report(&report(BenchStatus::CheckFailed));
        assert!(g.insertion.is_empty());
        assert!(
            g.metrics
                .iter()
                .all(|m| !m.id.contains("insertion") && !m.id.contains("end_to_end"))
        );
        let skipped = from_report(&GpuBenchReport {
            devices: Vec::new(),
            ..report(BenchStatus::Skipped)
        });
        assert!(skipped.metrics.is_empty() && !skipped.notes.is_empty());
    }
}
