//! `cryocap plan`: every sizing question for one dataset, answered at once.

use super::node;
use super::ssd::{self, SsdRecommendation};
use super::stack::{self, SizeModel};
use super::storage_time;
use super::vram;
use crate::datasets::Catalog;
use crate::results::plan::*;
use crate::units;

/// The VRAM the jobs are checked against.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VramSource {
    /// How the user named it: a catalog GPU's name, or `--vram 24`.
    pub label: String,
    pub bytes: u64,
}

/// One dataset and the node it is planned for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanParams {
    pub particles: u64,
    pub box_size: u32,
    pub pixel_size_a: Option<f64>,
    pub dtype: Dtype,
    pub size_model: SizeModel,
    pub gpus: u32,
    pub vram: Option<VramSource>,
    pub classes: Option<u32>,
    pub passes: u32,
    pub dataset: Option<String>,
    pub ssd_bytes: Option<u64>,
    /// CryoSPARC's --ssdquota and --ssdreserve, in its MB.
    pub ssd_quota_mb: Option<u64>,
    pub ssd_reserve_mb: u64,
    pub cache_tier: String,
}

impl PlanParams {
    /// NSYMBT as counted: the guide's fixed 128, or the exact model's value.
    pub(crate) fn nsymbt(&self) -> u64 {
        match self.size_model {
            SizeModel::Guide => stack::GUIDE_NSYMBT,
            SizeModel::Exact { nsymbt, .. } => nsymbt,
        }
    }
}

fn formula(cfg: &PlanParams) -> String {
    let bpp = cfg.dtype.bytes_per_pixel();
    match cfg.size_model {
        SizeModel::Guide => format!(
            "({bpp}·{b}² + {nsymbt} + {header}) · {n}",
            b = cfg.box_size,
            nsymbt = stack::GUIDE_NSYMBT,
            header = stack::MRC_HEADER_BYTES,
            n = units::group_digits(cfg.particles)
        ),
        SizeModel::Exact {
            particles_per_file,
            nsymbt,
        } => format!(
            "⌈{n}/{per_file}⌉ files · ({header} + {nsymbt}) + {n} · {bpp}·{b}²",
            n = units::group_digits(cfg.particles),
            per_file = units::group_digits(particles_per_file),
            header = stack::MRC_HEADER_BYTES,
            b = cfg.box_size
        ),
    }
}

fn stack_report(cfg: &PlanParams) -> StackReport {
    let s = stack::stack_size(cfg.particles, cfg.box_size, cfg.dtype, cfg.size_model);
    StackReport {
        bytes: s.bytes,
        bytes_per_particle: s.bytes_per_particle(cfg.particles),
        pixel_bytes_per_particle: s.pixel_bytes_per_particle,
        files: s.files,
        formula: formula(cfg),
    }
}

fn ssd_report(cfg: &PlanParams, catalog: &Catalog, stack_bytes: u64) -> SsdReport {
    let rec: Option<SsdRecommendation> =
        ssd::recommend(stack_bytes, cfg.ssd_reserve_mb, &catalog.ssd_classes);
    let given = cfg.ssd_bytes.map(|drive| {
        let capacity = ssd::cache_capacity(drive, cfg.ssd_quota_mb, cfg.ssd_reserve_mb);
        let fits = stack_bytes <= capacity;
        SsdGiven {
            drive_bytes: drive,
            quota_mb: cfg.ssd_quota_mb,
            capacity_bytes: capacity,
            fits,
            connect_command: ssd::connect_command(
                ssd::bytes_to_mb_floor(capacity),
                cfg.ssd_reserve_mb,
            ),
            remedies: if fits {
                Vec::new()
            } else {
                ssd::remedies(
                    cfg.particles,
                    cfg.box_size,
                    cfg.dtype,
                    cfg.size_model,
                    capacity,
                )
            },
        }
    });
    SsdReport {
        needed_bytes: stack_bytes,
        reserve_mb: cfg.ssd_reserve_mb,
        recommended_bytes: rec.as_ref().map(|r| r.nominal_bytes),
        recommended_class: rec.as_ref().map(|r| r.class.clone()),
        recommended_smallest_bytes: rec.as_ref().map(|r| r.smallest_bytes),
        stacks_held: rec.as_ref().map(|r| r.stacks_held),
        quota_mb: rec.as_ref().map(|r| r.quota_mb),
        connect_command: rec
            .as_ref()
            .map(|r| ssd::connect_command(r.quota_mb, cfg.ssd_reserve_mb)),
        given,
    }
}

fn vram_rows(cfg: &PlanParams, catalog: &Catalog) -> Vec<VramRow> {
    catalog
        .vram_jobs
        .iter()
        .map(|job| {
            let classes = vram::classes_for(job, cfg.classes);
            let needed = vram::bytes_needed(job, cfg.box_size, classes);
            let (max_box, max_box_limit, fits, fits_gpus) = match &cfg.vram {
                Some(v) => {
                    let m = vram::max_box(job, v.bytes, classes);
                    (
                        Some(m.map_or(0, |(b, _)| b)),
                        m.map(|(_, l)| l),
                        Some(needed <= v.bytes),
                        None,
                    )
                }
                None => {
                    let names = catalog
                        .gpus
                        .iter()
                        .filter(|g| g.vram_bytes() >= needed)
                        .map(|g| g.id.clone())
                        .collect();
                    (None, None, None, Some(names))
                }
            };
            let smallest_fit = fits_gpus.as_ref().and_then(|names: &Vec<String>| {
                names
                    .iter()
                    .filter_map(|n| catalog.gpu(n))
                    .min_by(|a, b| a.vram_gib.total_cmp(&b.vram_gib).then(a.id.cmp(&b.id)))
                    .map(|g| GpuRef {
                        id: g.id.clone(),
                        vram_gib: g.vram_gib,
                    })
            });
            VramRow {
                job: job.job.clone(),
                label: job.label.clone(),
                basis: job.basis.clone(),
                classes,
                bytes_needed: needed,
                max_box,
                max_box_limit,
                fits,
                fits_gpus,
                smallest_fit,
                source: job.source.clone(),
            }
        })
        .collect()
}

fn storage_rows(cfg: &PlanParams, catalog: &Catalog, stack: &StackReport) -> Vec<StorageRow> {
    let Some(cache) = catalog.storage_tier(&cfg.cache_tier) else {
        return Vec::new();
    };
    let particle = stack.pixel_bytes_per_particle;
    let passes = f64::from(cfg.passes);
    let cached_pass = storage_time::random_pass_seconds(cache, cfg.particles, particle);
    catalog
        .storage_tiers
        .iter()
        .map(|tier| {
            let random = storage_time::random_pass_seconds(tier, cfg.particles, particle);
            let fill = storage_time::fill_seconds(tier, cache, stack.bytes);
            StorageRow {
                tier: tier.id.clone(),
                label: tier.label.clone(),
                seq_bytes_per_second: tier.seq_read_bytes_per_s(),
                random_particles_per_second: storage_time::random_particles_per_second(
                    tier, particle,
                ),
                seconds_per_pass_sequential: storage_time::sequential_seconds(tier, stack.bytes),
                seconds_per_pass_random: random,
                seconds_all_passes_random: random * passes,
                seconds_fill_cache: fill,
                seconds_all_passes_cached: fill + cached_pass * passes,
                source: tier.source.clone(),
            }
        })
        .collect()
}

fn node_report(
    cfg: &PlanParams,
    catalog: &Catalog,
    ssd: &SsdReport,
    vram: &[VramRow],
) -> NodeReport {
    let Some(profile) = catalog.profile("cryosparc-worker") else {
        return NodeReport {
            profile: String::new(),
            gpus: cfg.gpus,
            items: Vec::new(),
            examples: Vec::new(),
        };
    };
    let mut items = node::requirements(profile, cfg.gpus);
    // What this dataset adds to the generic requirements.
    if let Some(most) = vram
        .iter()
        .filter(|r| r.job != "relion-refine")
        .map(|r| r.bytes_needed)
        .max()
    {
        items.push(NodeItem {
            id: "gpu_vram_for_box".into(),
            label: format!("VRAM for box {}, all CryoSPARC jobs", cfg.box_size),
            unit: "bytes".into(),
            applies_to: "each GPU".into(),
            minimum: Some(most as f64),
            recommended: None,
            source: "the VRAM model above (modelled)".into(),
        });
    }
    if let Some(rec) = ssd.recommended_bytes {
        items.push(NodeItem {
            id: "ssd_cache".into(),
            label: "SSD cache".into(),
            unit: "bytes".into(),
            applies_to: "per node".into(),
            minimum: None,
            recommended: Some(rec as f64),
            source: "the SSD cache section above".into(),
        });
    }
    items.push(NodeItem {
        id: "ram_preread".into(),
        label: "RAM to pre-read the stack (RELION --preread_images)".into(),
        unit: "bytes".into(),
        applies_to: "per node".into(),
        minimum: None,
        recommended: Some(ssd.needed_bytes as f64),
        source: "docs/sources.md §3: without pre-reading RELION re-reads particles every iteration"
            .into(),
    });
    let examples = profile
        .examples
        .iter()
        .map(|e| {
            format!(
                "{}: {} GPUs ({}), {} cores, {} RAM, {} SSD cache",
                e.label,
                e.gpus,
                e.gpu,
                e.cores,
                units::bytes_binary(e.ram_bytes),
                units::bytes_decimal(e.ssd_bytes)
            )
        })
        .collect();
    NodeReport {
        profile: profile.id.clone(),
        gpus: cfg.gpus,
        items,
        examples,
    }
}

fn notes(cfg: &PlanParams, ssd: &SsdReport) -> Vec<String> {
    let mut notes = vec![
        "VRAM figures are modelled (see datasets/vram.csv for each job's basis and derivation); measure with `cryocap bench gpu`.".to_string(),
        "relion-refine follows RELION's own 1.1e-8·(2N)³ GB per rank; the seed's 'every job type takes box 600 at 11 GB' is about CryoSPARC jobs.".to_string(),
        "Storage times come from vendor-class tier profiles (datasets/storage.csv), random reads with the tier's full parallelism; measure yours with `cryocap bench io`.".to_string(),
        "SSD quota and reserve are in CryoSPARC's MB, read here as MiB (2^20 bytes) so that the plan errs on the safe side; ext4 also keeps 5% for root unless tuned with `tune2fs -m 0`.".to_string(),
    ];
    if ssd.recommended_bytes.is_none() {
        notes.push(format!(
            "No single SSD class holds {}: consolidate a subset, use float16, or Fourier-crop.",
            units::bytes_decimal(ssd.needed_bytes)
        ));
    }
    if cfg.size_model == SizeModel::Guide {
        notes.push("Guide formula: one 1,152-byte header counted per particle; real files share one header per file (--size-model exact).".to_string());
    }
    notes
}

/// Answers every sizing question for `cfg`.
pub(crate) fn plan(cfg: &PlanParams, catalog: &Catalog) -> PlanReport {
    let stack = stack_report(cfg);
    let ssd = ssd_report(cfg, catalog, stack.bytes);
    let vram = vram_rows(cfg, catalog);
    let storage = storage_rows(cfg, catalog, &stack);
    let node = node_report(cfg, catalog, &ssd, &vram);
    let notes = notes(cfg, &ssd);
    PlanReport {
        input: PlanInput {
            particles: cfg.particles,
            box_size: cfg.box_size,
            dtype: cfg.dtype,
            size_model: match cfg.size_model {
                SizeModel::Guide => "guide".into(),
                SizeModel::Exact { .. } => "exact".into(),
            },
            particles_per_file: match cfg.size_model {
                SizeModel::Exact {
                    particles_per_file, ..
                } => Some(particles_per_file),
                SizeModel::Guide => None,
            },
            nsymbt: cfg.nsymbt(),
            gpus: cfg.gpus,
            classes: cfg.classes,
            passes: cfg.passes,
            dataset: cfg.dataset.clone(),
            pixel_size_a: cfg.pixel_size_a,
        },
        stack,
        ssd,
        vram_target: cfg.vram.as_ref().map(|v| VramTarget {
            label: v.label.clone(),
            bytes: v.bytes,
        }),
        vram,
        catalog_gpus: Some(catalog.gpus.len() as u32),
        cache_tier: cfg.cache_tier.clone(),
        storage,
        requirements: node,
        job_times: Vec::new(),
        notes,
    }
}
