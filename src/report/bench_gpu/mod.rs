//! `cryocap bench gpu` results as a document (one line when nothing ran)
//! and in long CSV form.

use super::document::{Align, Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::GpuTimeSplit;
use crate::results::gpu::{
    Bandwidth, BenchStatus, DeviceInfo, EndToEndResult, FftResult, FrameAlignResult, FromFiles,
    FromFilesRun, GpuBenchReport, GpuDeviceResult, InsertionResult, JobMemory, KernelCheck, MaxBox,
};
use crate::units::{bytes_binary, group_digits, rate_decimal};

mod csv_rows;
use csv_rows::{device_csv, job_memory_csv, rates_csv};

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
        job_memory_csv(j, w);
    }
    for d in &r.devices {
        device_csv(d, w);
        rates_csv(d, w);
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

/// What the result stores as the reason it was skipped.
fn skip_reason(r: &GpuBenchReport) -> &str {
    r.reason.as_deref().unwrap_or("the result stores no reason")
}

/// A section per device, then job memory, `--from-files` and the notes; a
/// title alone when nothing ran.
fn document(r: &GpuBenchReport) -> Document {
    if r.status == BenchStatus::Skipped && r.from_files.is_none() {
        return Document {
            title: format!("cryocap bench gpu: skipped: {}", skip_reason(r)),
            sections: Vec::new(),
        };
    }
    let mut sections: Vec<Section> = r.devices.iter().map(device_section).collect();
    if let Some(j) = &r.job_memory {
        sections.push(job_memory_section(j));
    }
    if let Some(f) = &r.from_files {
        sections.push(from_files_section(f));
    }
    sections.push(Section::new("Notes").with(Block::Bullets(notes(r))));
    Document {
        title: "cryocap bench gpu".into(),
        sections,
    }
}

/// One device: what it is, its checks, bandwidths and largest box, then a
/// table per kind of rate it measured.
fn device_section(d: &GpuDeviceResult) -> Section {
    let mut sec = Section::new(format!("GPU {}: {}", d.device.ordinal, d.device.name))
        .with(device_pairs(&d.device))
        .with(checks_table(&d.checks));
    let pairs = bandwidth_pairs(d);
    if !pairs.is_empty() {
        sec = sec.with(Block::Pairs(pairs));
    }
    if !d.fft.is_empty() {
        sec = sec.with(fft_table(&d.fft));
    }
    if !d.insertion.is_empty() {
        sec = sec.with(insertion_table(&d.insertion));
    }
    if !d.end_to_end.is_empty() {
        sec = sec.with(end_to_end_table(&d.end_to_end));
    }
    if !d.frame_alignment.is_empty() {
        sec = sec.with(frame_alignment_table(&d.frame_alignment));
    }
    sec
}

/// Compute capability, memory, SMs and driver.
fn device_pairs(i: &DeviceInfo) -> Block {
    let (cm, cn) = i.compute_capability;
    Block::Pairs(vec![
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
    ])
}

/// Each kernel against the CPU reference, pass or FAIL.
fn checks_table(checks: &[KernelCheck]) -> Block {
    Block::table(
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
        checks
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
    )
}

/// The bandwidths measured, then the largest box where it was looked for.
fn bandwidth_pairs(d: &GpuDeviceResult) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = [
        ("device copy (kernel)", &d.copy),
        ("device copy (driver)", &d.copy_memcpy),
        ("host to device", &d.host_to_device),
        ("device to host", &d.device_to_host),
    ]
    .into_iter()
    .filter_map(|(label, b)| b.as_ref().map(|b| bandwidth_pair(label, b)))
    .collect();
    if let Some(m) = &d.max_box {
        pairs.push(largest_box_pair(m));
    }
    pairs
}

/// A bandwidth's median, range, what it counts and over how many runs.
fn bandwidth_pair(label: &str, c: &Bandwidth) -> (String, String) {
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
}

/// The largest box that allocated, next to plan's model.
fn largest_box_pair(m: &MaxBox) -> (String, String) {
    (
        "largest box".into(),
        format!(
            "{} by allocation (pad {}, working set {}); plan's reconstruct model: {}",
            m.by_allocation.map_or("none".into(), |b| b.to_string()),
            m.pad,
            bytes_binary(m.working_set_bytes),
            m.plan_model_reconstruct
                .map_or("none".into(), |b| b.to_string())
        ),
    )
}

/// Batched 2D FFT rates per box.
fn fft_table(fft: &[FftResult]) -> Block {
    Block::table(
        &[
            "2D FFT (cuFFT R2C)",
            "images/batch",
            "median images/s",
            "min",
            "max",
        ],
        "lrrrr",
        fft.iter()
            .map(|x| {
                rate_row(
                    vec![format!("box {}", x.box_size), group_digits(x.images)],
                    &x.error,
                    x.rates(),
                )
            })
            .collect(),
    )
}

/// Insertion rates with the images already on the GPU.
fn insertion_table(insertion: &[InsertionResult]) -> Block {
    Block::table(
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
        insertion
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
    )
}

/// End-to-end rates from host memory, next to the host link bound.
fn end_to_end_table(end_to_end: &[EndToEndResult]) -> Block {
    Block::table(
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
        end_to_end
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
    )
}

/// Seconds per movie and movies per hour of frame alignment.
fn frame_alignment_table(frame_alignment: &[FrameAlignResult]) -> Block {
    Block::table(
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
        frame_alignment.iter().map(frame_alignment_row).collect(),
    )
}

/// One movie shape's timings, or its error.
fn frame_alignment_row(x: &FrameAlignResult) -> Vec<String> {
    let mut cells = vec![
        format!("{} {}×{}", x.detector, x.width, x.height),
        x.frames.to_string(),
        format!("1 + {0}×{0}", x.patches),
    ];
    match &x.error {
        Some(e) => cells.extend([e.clone(), String::new(), String::new(), String::new()]),
        None => cells.extend([
            format!("{:.3}", x.median_seconds),
            format!("{:.3}", x.min_seconds),
            format!("{:.3}", x.max_seconds),
            per_second(x.movies_per_hour),
        ]),
    }
    cells
}

/// Why nothing ran or a check failed, how the end-to-end and frame
/// alignment cases work, what was not measured, and how rates are timed.
fn notes(r: &GpuBenchReport) -> Vec<String> {
    let mut notes = Vec::new();
    if r.status == BenchStatus::Skipped {
        notes.push(format!("GPU: skipped: {}", skip_reason(r)));
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
    notes
}

/// `--from-files`: the readers alone, then each GPU end to end against the
/// smaller of the read rate and the host link bound.
fn from_files_section(f: &FromFiles) -> Section {
    let sec = Section::new(format!("From files: {}", f.dir)).with(from_files_pairs(f));
    if f.runs.is_empty() {
        return sec;
    }
    sec.with(from_files_runs_table(&f.runs)).with(Block::Text(
        "of bound: the median end-to-end rate over the smaller of the readers' rate and the host link bound (the target is 80 %)".into(),
    ))
}

/// The stacks read, how, and how fast the readers alone went.
fn from_files_pairs(f: &FromFiles) -> Block {
    let reading = match &f.direct_fallback {
        Some(why) => format!("{} ({why})", f.reading),
        None if f.reading == "page cache" => {
            "page cache (after a warm-up pass, the stacks are in it where memory allows)".into()
        }
        None => f.reading.clone(),
    };
    let stored = |rate: f64| rate_decimal(rate * f.image_bytes as f64);
    Block::Pairs(vec![
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
    ])
}

/// Each GPU and pad end to end from the files: rate, bound and time split.
fn from_files_runs_table(runs: &[FromFilesRun]) -> Block {
    Block::Table {
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
        rows: runs.iter().map(from_files_run_row).collect(),
    }
}

/// One run's cells: GPU, pad, rates (or its error), bound, share of it and
/// time split.
fn from_files_run_row(r: &FromFilesRun) -> Vec<String> {
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
    cells.push(r.split.as_ref().map_or("-".into(), time_split));
    cells
}

/// Where the median run's time went.
fn time_split(s: &GpuTimeSplit) -> String {
    format!(
        "read {:.2} s, wait {:.2} s, copy {:.2} s, FFT {:.2} s, insert {:.2} s",
        s.read_seconds, s.wait_seconds, s.gpu_copy_seconds, s.gpu_fft_seconds, s.gpu_insert_seconds
    )
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
