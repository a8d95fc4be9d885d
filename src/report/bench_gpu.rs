//! `cryocap bench gpu` results as a document (one line when nothing ran)
//! and in long CSV form.

use super::document::{Align, Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::gpu::{BenchStatus, FromFiles, GpuBenchReport, JobMemory};
use crate::units::{bytes_binary, group_digits, rate_decimal};

impl Render for GpuBenchReport {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    fn csv(&self, w: &mut LongCsv) {
        csv(self, w)
    }
}

/// Every device's checks, bandwidths and rates, one item per device and case.
fn csv(r: &GpuBenchReport, w: &mut LongCsv) {
    if let Some(j) = &r.job_memory {
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
    for d in &r.devices {
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
}

/// Particles (or images) per second, rounded and grouped.
fn per_second(v: f64) -> String {
    group_digits(v.round() as u64)
}

/// A rate row: the case's cells, then median, min and max, or its error.
fn rate_row(mut cells: Vec<String>, error: &Option<String>, rates: [f64; 3]) -> Vec<String> {
    match error {
        Some(e) => cells.extend([e.clone(), String::new(), String::new()]),
        None => cells.extend(rates.map(per_second)),
    }
    cells
}

fn document(r: &GpuBenchReport) -> Document {
    if r.status == BenchStatus::Skipped && r.from_files.is_none() {
        return Document {
            title: format!(
                "cryocap bench gpu: skipped: {}",
                r.reason.as_deref().unwrap_or("the result stores no reason")
            ),
            sections: Vec::new(),
        };
    }
    let mut sections = Vec::new();
    for d in &r.devices {
        let i = &d.device;
        let (cm, cn) = i.compute_capability;
        let mut sec =
            Section::new(format!("GPU {}: {}", i.ordinal, i.name)).with(Block::Pairs(vec![
                ("compute capability".into(), format!("{cm}.{cn}")),
                ("memory".into(), bytes_binary(i.vram_bytes)),
                ("SMs".into(), i.sm_count.to_string()),
                (
                    "driver".into(),
                    format!(
                        "CUDA {}.{}",
                        i.driver_version / 1000,
                        (i.driver_version % 1000) / 10
                    ),
                ),
            ]));
        sec = sec.with(Block::table(
            &[
                "check against the CPU reference",
                "box",
                "pad",
                "images",
                "relative error",
                "limit",
                "result",
            ],
            "lrrrrrl",
            d.checks
                .iter()
                .map(|c| {
                    vec![
                        c.kernel.clone(),
                        c.box_size.to_string(),
                        c.pad.to_string(),
                        c.images.to_string(),
                        format!("{:.2e}", c.relative_error),
                        format!("{:.0e}", c.limit),
                        if c.passed { "pass" } else { "FAIL" }.into(),
                    ]
                })
                .collect(),
        ));
        let bw = |label: &str, c: &crate::results::gpu::Bandwidth| {
            (
                label.to_string(),
                format!(
                    "{} median ({} to {}, {}, {} runs of {})",
                    rate_decimal(c.median_bytes_per_second),
                    rate_decimal(c.min_bytes_per_second),
                    rate_decimal(c.max_bytes_per_second),
                    c.counts,
                    c.repeats,
                    bytes_binary(c.bytes_per_run)
                ),
            )
        };
        let mut pairs: Vec<(String, String)> = [
            ("device copy (kernel)", &d.copy),
            ("device copy (driver)", &d.copy_memcpy),
            ("host to device", &d.host_to_device),
            ("device to host", &d.device_to_host),
        ]
        .into_iter()
        .filter_map(|(label, b)| b.as_ref().map(|b| bw(label, b)))
        .collect();
        if let Some(m) = &d.max_box {
            pairs.push((
                "largest box".into(),
                format!(
                    "{} by allocation (pad {}, working set {}); plan's reconstruct model: {}",
                    m.by_allocation.map_or("none".into(), |b| b.to_string()),
                    m.pad,
                    bytes_binary(m.working_set_bytes),
                    m.plan_model_reconstruct
                        .map_or("none".into(), |b| b.to_string())
                ),
            ));
        }
        if !pairs.is_empty() {
            sec = sec.with(Block::Pairs(pairs));
        }
        if !d.fft.is_empty() {
            sec = sec.with(Block::table(
                &[
                    "2D FFT (cuFFT R2C)",
                    "images/batch",
                    "median images/s",
                    "min",
                    "max",
                ],
                "lrrrr",
                d.fft
                    .iter()
                    .map(|x| {
                        rate_row(
                            vec![format!("box {}", x.box_size), group_digits(x.images)],
                            &x.error,
                            x.rates(),
                        )
                    })
                    .collect(),
            ));
        }
        if !d.insertion.is_empty() {
            sec = sec.with(Block::table(
                &[
                    "insertion (images on the GPU)",
                    "pad",
                    "kernel",
                    "images/launch",
                    "median particles/s",
                    "min",
                    "max",
                ],
                "lrlrrrr",
                d.insertion
                    .iter()
                    .map(|x| {
                        rate_row(
                            vec![
                                format!("box {}", x.box_size),
                                x.pad.to_string(),
                                x.kernel.clone(),
                                group_digits(x.particles),
                            ],
                            &x.error,
                            x.rates(),
                        )
                    })
                    .collect(),
            ));
        }
        if !d.end_to_end.is_empty() {
            sec = sec.with(Block::table(
                &[
                    "end to end (host memory)",
                    "pad",
                    "input",
                    "kernel",
                    "chunk",
                    "host link bound",
                    "median particles/s",
                    "min",
                    "max",
                ],
                "lrllrrrrr",
                d.end_to_end
                    .iter()
                    .map(|x| {
                        rate_row(
                            vec![
                                format!("box {}", x.box_size),
                                x.pad.to_string(),
                                x.input.clone(),
                                x.kernel.clone(),
                                group_digits(x.chunk),
                                x.host_link_bound.map_or("-".into(), per_second),
                            ],
                            &x.error,
                            x.rates(),
                        )
                    })
                    .collect(),
            ));
        }
        if !d.frame_alignment.is_empty() {
            sec = sec.with(Block::table(
                &[
                    "frame alignment",
                    "frames",
                    "patches",
                    "median s/movie",
                    "min",
                    "max",
                    "movies/h",
                ],
                "lrrrrrr",
                d.frame_alignment
                    .iter()
                    .map(|x| {
                        let mut cells = vec![
                            format!("{} {}×{}", x.detector, x.width, x.height),
                            x.frames.to_string(),
                            format!("1 + {0}×{0}", x.patches),
                        ];
                        match &x.error {
                            Some(e) => cells.extend([
                                e.clone(),
                                String::new(),
                                String::new(),
                                String::new(),
                            ]),
                            None => cells.extend([
                                format!("{:.3}", x.median_seconds),
                                format!("{:.3}", x.min_seconds),
                                format!("{:.3}", x.max_seconds),
                                per_second(x.movies_per_hour),
                            ]),
                        }
                        cells
                    })
                    .collect(),
            ));
        }
        sections.push(sec);
    }
    if let Some(j) = &r.job_memory {
        sections.push(job_memory_section(j));
    }
    if let Some(f) = &r.from_files {
        sections.push(from_files_section(f));
    }
    let mut notes = Vec::new();
    if r.status == BenchStatus::Skipped {
        notes.push(format!(
            "GPU: skipped: {}",
            r.reason.as_deref().unwrap_or("the result stores no reason")
        ));
    }
    if r.status == BenchStatus::CheckFailed {
        notes.push(r.reason.clone().unwrap_or_else(|| {
            "a kernel disagreed with the CPU reference (the result stores no reason)".into()
        }));
    }
    if let Some(e) = r.devices.iter().flat_map(|d| &d.end_to_end).next() {
        notes.push(format!(
            "end to end: particles in pinned host memory, copied to the GPU in chunks (particles per chunk in the table) over {} streams, float16 converted on the GPU, cuFFT R2C, insertion with random orientations and shifts; wall time from the first copy queued to the last stream drained",
            e.streams,
        ));
        notes.push("host link bound: measured pinned host-to-device bandwidth over the bytes of one particle".into());
    }
    if !r.not_measured.is_empty() {
        notes.push(format!("not measured: {}", r.not_measured.join("; ")));
    }
    if r.devices.iter().any(|d| !d.frame_alignment.is_empty()) {
        notes.push("frame alignment: a movie's 8-bit counts copied from host memory, widened on the GPU, aligned as whole frames and then as non-overlapping patches (full complex cuFFT, each frame against the sum of the others, B-factor 50, 3 iterations), checked against the CPU reference (src/movies/align.rs); wall time per movie, decoding not included".into());
    }
    notes.push("rates are medians of the repeats after one warm-up; GPU-only figures are timed with CUDA events".into());
    sections.push(Section::new("Notes").with(Block::Bullets(notes)));
    Document {
        title: "cryocap bench gpu".into(),
        sections,
    }
}

/// `--from-files`: the readers alone, then each GPU end to end against the
/// smaller of the read rate and the host link bound.
fn from_files_section(f: &FromFiles) -> Section {
    let reading = match &f.direct_fallback {
        Some(why) => format!("{} ({why})", f.reading),
        None if f.reading == "page cache" => {
            "page cache (after a warm-up pass, the stacks are in it where memory allows)".into()
        }
        None => f.reading.clone(),
    };
    let stored = |rate: f64| rate_decimal(rate * f.image_bytes as f64);
    let mut sec = Section::new(format!("From files: {}", f.dir)).with(Block::Pairs(vec![
        (
            "stacks".into(),
            format!(
                "{} file(s), {} particles, box {}, {} ({} per image)",
                f.stacks,
                group_digits(f.particles),
                f.box_size,
                f.input,
                bytes_binary(f.image_bytes)
            ),
        ),
        (
            "reading".into(),
            format!("{} reader(s), {reading}", f.readers),
        ),
        (
            "readers alone".into(),
            format!(
                "{} particles/s median ({} to {}), {}; {} passes after a warm-up",
                per_second(f.read_median_particles_per_second),
                per_second(f.read_min_particles_per_second),
                per_second(f.read_max_particles_per_second),
                stored(f.read_median_particles_per_second),
                f.repeats
            ),
        ),
    ]));
    if !f.runs.is_empty() {
        let rows = f
            .runs
            .iter()
            .map(|r| {
                let mut cells = vec![format!("gpu{}", r.device), r.pad.to_string()];
                cells = rate_row(
                    cells,
                    &r.error,
                    [
                        r.median_particles_per_second,
                        r.min_particles_per_second,
                        r.max_particles_per_second,
                    ],
                );
                cells.push(r.host_link_bound.map_or("-".into(), per_second));
                cells.push(
                    r.of_bound
                        .map_or("-".into(), |x| format!("{:.0} %", 100.0 * x)),
                );
                cells.push(r.split.as_ref().map_or("-".into(), |s| {
                    format!(
                        "read {:.2} s, wait {:.2} s, copy {:.2} s, FFT {:.2} s, insert {:.2} s",
                        s.read_seconds,
                        s.wait_seconds,
                        s.gpu_copy_seconds,
                        s.gpu_fft_seconds,
                        s.gpu_insert_seconds
                    )
                }));
                cells
            })
            .collect();
        sec = sec.with(Block::Table {
            headers: [
                "GPU",
                "pad",
                "particles/s",
                "min",
                "max",
                "link bound",
                "of bound",
                "time split (median run; readers and streams overlap)",
            ]
            .map(String::from)
            .to_vec(),
            align: vec![
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Left,
            ],
            rows,
        });
        sec = sec.with(Block::Text(
            "of bound: the median end-to-end rate over the smaller of the readers' rate and the host link bound (the target is 80 %)".into(),
        ));
    }
    sec
}

/// `--job-memory`: each box allocated or not, and the largest box that
/// allocated next to the model's.
fn job_memory_section(j: &JobMemory) -> Section {
    let rows = j
        .rows
        .iter()
        .map(|r| {
            vec![
                format!("GPU {}", r.device),
                r.pad.to_string(),
                r.box_size.to_string(),
                bytes_binary(r.per_rank_bytes),
                if r.allocated { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let limits = j
        .limits
        .iter()
        .map(|l| {
            let show = |b: Option<u32>| b.map_or("none".to_string(), |b| b.to_string());
            let diff = match (l.allocated_max_box, l.model_max_box) {
                (Some(a), Some(m)) if m > 0 => {
                    format!(
                        "{:+.1} %",
                        (f64::from(a) - f64::from(m)) / f64::from(m) * 100.0
                    )
                }
                _ => "-".to_string(),
            };
            vec![
                format!("GPU {}", l.device),
                l.pad.to_string(),
                bytes_binary(l.vram_bytes),
                show(l.allocated_max_box),
                show(l.model_max_box),
                diff,
            ]
        })
        .collect();
    Section::new(format!(
        "Job memory: {}, {} rank(s) per GPU, {} class(es), one CUDA context per rank",
        j.job, j.ranks_per_gpu, j.classes
    ))
    .with(Block::table(
        &["GPU", "pad", "box", "per rank (model)", "allocated"],
        "lrrrl",
        rows,
    ))
    .with(Block::table(
        &[
            "GPU",
            "pad",
            "memory",
            "largest box allocated",
            "largest box modelled",
            "allocated vs model",
        ],
        "lrrrrr",
        limits,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::gpu::*;

    fn measured() -> GpuBenchReport {
        GpuBenchReport {
            status: BenchStatus::Measured,
            reason: None,
            input: GpuBenchInput {
                boxes: vec![256],
                pads: vec![1],
                particles: 10_000,
            },
            devices: vec![GpuDeviceResult {
                device: DeviceInfo {
                    ordinal: 0,
                    name: "Test GPU".into(),
                    compute_capability: (9, 0),
                    vram_bytes: 80 << 30,
                    sm_count: 132,
                    driver_version: 13000,
                },
                checks: vec![KernelCheck {
                    kernel: "insert_trilinear".into(),
                    box_size: 64,
                    pad: 2,
                    images: 64,
                    relative_error: 3.2e-7,
                    limit: 1e-4,
                    passed: true,
                }],
                copy_memcpy: None,
                copy: Some(Bandwidth {
                    counts: "bytes read + written".into(),
                    bytes_per_run: 2 << 30,
                    repeats: 7,
                    median_bytes_per_second: 2.8e12,
                    min_bytes_per_second: 2.7e12,
                    max_bytes_per_second: 2.9e12,
                }),
                host_to_device: Some(Bandwidth {
                    counts: "bytes copied, pinned host memory to GPU".into(),
                    bytes_per_run: 512 << 20,
                    repeats: 7,
                    median_bytes_per_second: 55.3e9,
                    min_bytes_per_second: 55.0e9,
                    max_bytes_per_second: 55.4e9,
                }),
                device_to_host: None,
                max_box: Some(MaxBox {
                    pad: 2,
                    by_allocation: Some(1234),
                    working_set_bytes: 5 << 30,
                    plan_model_reconstruct: Some(1600),
                }),
                fft: vec![FftResult {
                    box_size: 256,
                    images: 10_000,
                    repeats: 7,
                    median_images_per_second: 2_500_000.0,
                    min_images_per_second: 2_400_000.0,
                    max_images_per_second: 2_600_000.0,
                    error: None,
                }],
                insertion: vec![InsertionResult {
                    kernel: "insert_tiled".into(),
                    box_size: 256,
                    pad: 1,
                    particles: 10_000,
                    repeats: 7,
                    median_particles_per_second: 400_000.0,
                    min_particles_per_second: 390_000.0,
                    max_particles_per_second: 410_000.0,
                    error: None,
                }],
                end_to_end: vec![EndToEndResult {
                    box_size: 256,
                    pad: 1,
                    input: "float16".into(),
                    kernel: "insert_tiled".into(),
                    particles: 10_240,
                    chunk: 256,
                    streams: 3,
                    repeats: 7,
                    median_particles_per_second: 300_000.0,
                    min_particles_per_second: 290_000.0,
                    max_particles_per_second: 310_000.0,
                    host_link_bound: Some(421_900.0),
                    error: None,
                }],
                frame_alignment: vec![FrameAlignResult {
                    detector: "k3".into(),
                    width: 5760,
                    height: 4092,
                    frames: 50,
                    patches: 5,
                    iterations: 3,
                    repeats: 3,
                    median_seconds: 0.9,
                    min_seconds: 0.85,
                    max_seconds: 0.95,
                    movies_per_hour: 4000.0,
                    error: None,
                }],
            }],
            not_measured: vec!["cuFFT".into()],
            job_memory: None,
            from_files: None,
        }
    }

    #[test]
    fn job_memory_sets_the_allocated_box_next_to_the_model() {
        let r = GpuBenchReport {
            status: BenchStatus::Measured,
            reason: None,
            input: GpuBenchInput {
                boxes: vec![432],
                pads: vec![2],
                particles: 0,
            },
            devices: Vec::new(),
            not_measured: Vec::new(),
            job_memory: Some(JobMemory {
                job: "relion-refine".into(),
                ranks_per_gpu: 2,
                classes: 1,
                rows: vec![JobMemoryRow {
                    device: 0,
                    pad: 2,
                    box_size: 432,
                    per_rank_bytes: 7_094_883_840,
                    allocated: true,
                }],
                limits: vec![JobMemoryLimit {
                    device: 0,
                    pad: 2,
                    vram_bytes: 80 << 30,
                    allocated_max_box: Some(600),
                    model_max_box: Some(624),
                }],
            }),
            from_files: None,
        };
        let text = document(&r).to_text();
        assert!(
            text.contains("Job memory: relion-refine, 2 rank(s) per GPU"),
            "{text}"
        );
        assert!(text.contains("-3.8 %"), "{text}");
        let mut w = LongCsv::default();
        csv(&r, &mut w);
        let out = w.finish().unwrap();
        assert!(
            out.contains("job_memory,gpu0 relion-refine pad 2,allocated_max_box,600,"),
            "{out}"
        );
    }

    #[test]
    fn measured_report_shows_device_checks_and_rates() {
        let text = document(&measured()).to_text();
        for want in [
            "Test GPU",
            "9.0",
            "CUDA 13.0",
            "3.20e-7",
            "pass",
            "400,000",
            "insert_tiled",
            "bytes read + written",
            "host to device",
            "2,500,000",
            "1234 by allocation (pad 2, working set 5.00 GiB); plan's reconstruct model: 1600",
            "55.30 GB/s",
            "not measured: cuFFT",
            "float16",
            "421,900",
            "300,000",
            "over 3 streams",
            "k3 5760×4092",
            "1 + 5×5",
            "4,000",
            "frame alignment: a movie's 8-bit counts",
        ] {
            assert!(text.contains(want), "missing {want}:\n{text}");
        }
    }

    #[test]
    fn failed_check_is_said() {
        let mut r = measured();
        r.status = BenchStatus::CheckFailed;
        r.reason = Some("the insertion kernel disagrees".into());
        r.devices[0].checks[0].passed = false;
        let text = document(&r).to_text();
        assert!(
            text.contains("FAIL") && text.contains("disagrees"),
            "{text}"
        );
    }
}
