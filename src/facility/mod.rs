//! `cryocap facility`: a month (or any span) of a whole facility, from
//! microscope session to final refinement, as a discrete-event simulation.
//! Sessions arrive at each microscope ([`sessions`]); their movies are
//! pre-processed live on pre-processing nodes and written to shared storage;
//! each session's dataset runs its lab's chain of GPU jobs through one
//! scheduler queue (FIFO or fair share) on worker nodes, filling the node's
//! SSD cache ([`ssd`]) and reading over links shared max-min fairly
//! ([`share`]), computing for the job-time model's time ([`jobs`]).
//! Replicates and what-ifs run in parallel threads; a seed gives one run.

pub mod calendar;
pub mod config;
mod engine;
mod gauge;
pub mod jobs;
pub mod model;
mod sessions;
mod share;
mod ssd;
mod summary;
#[cfg(test)]
mod tests;
pub mod whatif;
mod work;

use crate::jobtime::Model;
use crate::results::facility::{Cost, FacilityReport, Variant};
use crate::sizing::recommend::PriceBook;
use jobs::JobTable;
use model::Facility;

/// How long, how often and how to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub days: f64,
    pub seed: u64,
    pub replicates: u32,
    /// Draw each job's time from the model's interval (else its centre).
    pub interval: bool,
    pub threads: usize,
}

/// One run of `f` over `days` with `seed`.
pub(crate) fn run_once(f: &Facility, table: &JobTable, days: f64, seed: u64) -> summary::Run {
    let e = engine::Engine::new(f, table, days * 86_400.0, seed).run();
    summary::of(e)
}

/// Every (variant, replicate) run, spread over `threads` threads; results
/// in variant order, then seed order.
fn run_all(variants: &[(Facility, JobTable)], p: &Params) -> Vec<Vec<summary::Run>> {
    let tasks: Vec<(usize, u64)> = (0..variants.len())
        .flat_map(|v| (0..u64::from(p.replicates)).map(move |r| (v, r)))
        .collect();
    let threads = p.threads.clamp(1, tasks.len().max(1));
    let mut done: Vec<Option<summary::Run>> = vec![None; tasks.len()];
    std::thread::scope(|s| {
        let chunks: Vec<_> = done
            .chunks_mut(tasks.len().div_ceil(threads))
            .zip(tasks.chunks(tasks.len().div_ceil(threads)))
            .map(|(out, work)| {
                s.spawn(move || {
                    for (slot, &(v, r)) in out.iter_mut().zip(work) {
                        let (f, t) = &variants[v];
                        *slot = Some(run_once(f, t, p.days, p.seed.wrapping_add(r)));
                    }
                })
            })
            .collect();
        for c in chunks {
            let _ = c.join();
        }
    });
    let mut out = vec![Vec::new(); variants.len()];
    for ((v, _), run) in tasks.into_iter().zip(done) {
        if let Some(r) = run {
            out[v].push(r);
        }
    }
    out
}

/// What a study needs besides the facility.
pub struct Study<'a> {
    pub config: String,
    pub what_ifs: &'a [String],
    pub model: &'a Model,
    pub model_basis: String,
    pub prices: Option<&'a PriceBook>,
}

/// The facility as configured and each what-if, `p.replicates` runs each.
pub fn study(base: &Facility, s: &Study<'_>, p: &Params) -> Result<FacilityReport, String> {
    if let Some(g) = base
        .prep
        .iter()
        .find(|g| g.bytes_per_s.is_none() && g.movies_per_hour <= 0.0)
    {
        return Err(format!(
            "preprocessing {}: its bench_movies result was not read (config::read reads it)",
            g.name
        ));
    }
    let mut named = vec![("as configured".to_string(), base.clone())];
    for w in s.what_ifs {
        named.push((w.clone(), whatif::apply_all(base, w)?));
    }
    let variants = named
        .iter()
        .map(|(_, f)| {
            jobs::table(f, s.model, p.interval)
                .map(|t| (f.clone(), t))
                .map_err(|e| format!("job times: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let runs = run_all(&variants, p);
    let labs: Vec<String> = base.labs.iter().map(|l| l.name.clone()).collect();
    let out: Vec<Variant> = named
        .iter()
        .zip(&runs)
        .map(|((name, f), r)| {
            let mut v = summary::variant(
                name,
                r,
                &labs,
                f.storage.capacity_bytes,
                f.storage.used_bytes,
            );
            v.cost = s.prices.map(|b| cost(base, f, b));
            v
        })
        .collect();
    Ok(FacilityReport {
        config: s.config.clone(),
        days: p.days,
        seed: p.seed,
        replicates: p.replicates,
        job_time_basis: s.model_basis.clone(),
        job_time_draw: if p.interval { "interval" } else { "fixed" }.into(),
        notes: notes(base),
        variants: out,
    })
}

/// Results of one facility, span, seed and replicates (each task of a job
/// array, say) as one: their variants side by side, the facility as
/// configured once. `names` name the results in errors.
pub fn merge(parts: Vec<FacilityReport>, names: &[String]) -> Result<FacilityReport, String> {
    let mut parts = parts.into_iter().zip(names);
    let Some((mut out, first)) = parts.next() else {
        return Err("--merge: give the facility results to merge".into());
    };
    for (p, name) in parts {
        let same = p.config == out.config
            && p.days == out.days
            && p.seed == out.seed
            && p.replicates == out.replicates
            && p.job_time_basis == out.job_time_basis
            && p.job_time_draw == out.job_time_draw;
        if !same {
            return Err(format!(
                "--merge: {name} simulated another facility, span, seed or replicate count than {first}; only runs of one study merge"
            ));
        }
        for v in p.variants {
            match out.variants.iter().find(|o| o.name == v.name) {
                Some(o) if *o == v => {}
                Some(_) => {
                    return Err(format!(
                        "--merge: variant '{}' of {name} differs from the one in {first}; it cannot be shown once",
                        v.name
                    ));
                }
                None => out.variants.push(v),
            }
        }
    }
    Ok(out)
}

fn cost(base: &Facility, f: &Facility, book: &PriceBook) -> Cost {
    let (amount, what, unpriced) = whatif::added_cost(base, f, book);
    Cost {
        amount,
        currency: book.currency.clone(),
        what: if what.is_empty() {
            "nothing priced added".to_string()
        } else {
            what
        },
        unpriced,
    }
}

fn notes(f: &Facility) -> Vec<String> {
    let mut n = vec![
        "Modelled: job times come from the job-time model (see job_time_basis); links are shared max-min fairly; the SSD cache is LRU with locks and a reserve; movies are pre-processed live at the given movies_per_hour.".to_string(),
        "Sessions start within the horizon and their jobs run to the end; utilisation is over the horizon only.".to_string(),
        "Writes (movies, stacks) are counted against storage capacity, not against the read link.".to_string(),
    ];
    for p in &f.prep {
        let rate = match p.bytes_per_s {
            Some(r) => format!("{} of movies a node", crate::units::rate_decimal(r)),
            None => format!("{} movies an hour a node", p.movies_per_hour),
        };
        n.push(format!(
            "pre-processing {}: {rate} ({})",
            p.name, p.rate_basis
        ));
    }
    n
}
