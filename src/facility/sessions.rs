//! The sessions of a run: each microscope's sessions over the horizon,
//! evenly spaced or a Poisson process, each booked by one of its labs
//! (weighted by share). Drawn before the run from the seed alone, so every
//! what-if of one seed sees the same sessions.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::model::{Arrivals, Facility};

const WEEK: f64 = 7.0 * 86_400.0;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Session {
    pub microscope: usize,
    pub lab: usize,
    pub start: f64,
    pub end: f64,
    pub movies: u64,
    pub bytes: f64,
}

/// An index drawn with probability proportional to `weights`.
pub(super) fn weighted(weights: &[f64], rng: &mut StdRng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// Every session starting before `horizon` seconds, in start order.
pub(super) fn sessions(f: &Facility, horizon: f64, seed: u64) -> Vec<Session> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5E55_1045);
    let mut out = Vec::new();
    let scopes = f.microscopes.len().max(1) as f64;
    for (m, scope) in f.microscopes.iter().enumerate() {
        let labs: Vec<usize> = if scope.labs.is_empty() {
            (0..f.labs.len()).collect()
        } else {
            scope.labs.clone()
        };
        let shares: Vec<f64> = labs.iter().map(|&l| f.labs[l].share).collect();
        for (start, hours) in starts(&scope.arrivals, scope, m as f64 / scopes, horizon, &mut rng) {
            let lab = labs[weighted(&shares, &mut rng)];
            out.push(Session {
                microscope: m,
                lab,
                start,
                end: start + hours * 3600.0,
                movies: scope.movies_per_session,
                bytes: scope.movies_per_session as f64 * scope.movie_bytes,
            });
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// Session starts before `horizon` and their hours; `phase` (0..1) staggers
/// evenly spaced microscopes.
fn starts(
    arrivals: &Arrivals,
    scope: &super::model::Microscope,
    phase: f64,
    horizon: f64,
    rng: &mut StdRng,
) -> Vec<(f64, f64)> {
    let gap = WEEK / scope.sessions_per_week;
    let hours = scope.session_hours;
    let mut out = Vec::new();
    match arrivals {
        Arrivals::Regular => {
            let mut t = gap * phase;
            while t < horizon {
                out.push((t, hours));
                t += gap;
            }
        }
        Arrivals::Poisson => {
            // One microscope runs one session at a time: a session asked
            // for while one runs starts when it ends.
            let mut t = -gap * (1.0 - rng.random::<f64>()).ln();
            let mut free_at = 0.0f64;
            while t < horizon {
                let start = t.max(free_at);
                if start < horizon {
                    out.push((start, hours));
                }
                free_at = start + hours * 3600.0;
                t += -gap * (1.0 - rng.random::<f64>()).ln();
            }
        }
        Arrivals::Calendar(slots) => {
            let mut week = 0.0;
            while week < horizon {
                for &(start, h) in slots {
                    if week + start < horizon {
                        out.push((week + start, h));
                    }
                }
                week += WEEK;
            }
        }
    }
    out
}
