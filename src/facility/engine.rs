//! The discrete-event run: sessions arrive and are pre-processed live,
//! each session's dataset runs its chain of GPU jobs through the
//! scheduler's queue, jobs fill their node's SSD cache and read over links
//! shared max-min fairly (processor sharing), and compute for the time the
//! job-time model gives. Events are taken in time order (ties in the order
//! they were made), so a seed gives one run, byte for byte.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;

use super::gauge::Gauge;
use super::jobs::JobTable;
use super::model::Facility;
use super::sessions::Session;
use super::share::max_min_rates;
use super::ssd::SsdCache;

/// Which job a timer or a flow belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    Prep(usize),
    Gpu(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Event {
    SessionStart(usize),
    SessionEnd(usize),
    /// One part (compute) of a job is done.
    Timer(Owner),
    /// The soonest flow should be done, if nothing changed since (the
    /// generation of the rates it was computed from).
    Flows(u64),
}

#[derive(Debug, Clone, Copy)]
struct Scheduled {
    t: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    /// Reversed: the heap pops the earliest, then the first made.
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Flow {
    pub owner: Owner,
    pub link: usize,
    pub bytes: f64,
    pub left: f64,
    pub rate: f64,
}

#[derive(Debug, Clone)]
pub(super) struct Worker {
    pub group: usize,
    pub gpus: u32,
    pub free: u32,
    pub ssd: SsdCache,
}

/// A dataset: one session's particles, its chain run step by step.
#[derive(Debug)]
pub(super) struct Dataset {
    pub lab: usize,
    pub class: usize,
    pub session_end: f64,
    pub step: usize,
    pub first_map: Option<f64>,
    pub done: Option<f64>,
    pub rng: StdRng,
}

/// A job waiting in a queue since `since`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Waiting {
    pub item: usize,
    pub lab: usize,
    pub since: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Running {
    pub item: usize,
    pub node: usize,
    pub gpus: u32,
    /// Parts (a flow, a timer) still to finish.
    pub parts: u8,
    /// Seconds of compute that start once the flow is done.
    pub then: Option<f64>,
    pub cached: bool,
}

/// Levels over time and samples of a run.
#[derive(Debug, Clone)]
pub(super) struct Tally {
    pub gpu_busy: Vec<Gauge>,
    pub ssd_used: Vec<Gauge>,
    pub prep_busy: Gauge,
    pub link_rate: Gauge,
    pub storage: Gauge,
    pub gpu_queue: Gauge,
    pub prep_queue: Gauge,
    /// (lab, arrival, start) of every GPU job and pre-processing job.
    pub gpu_waits: Vec<(usize, f64, f64)>,
    pub prep_waits: Vec<(f64, f64)>,
    pub bytes_demanded: f64,
    pub bytes_read: f64,
    pub storage_full_at: Option<f64>,
}

/// The state of one run.
pub(super) struct Engine<'a> {
    pub f: &'a Facility,
    pub table: &'a JobTable,
    pub seed: u64,
    pub horizon: f64,
    pub now: f64,
    heap: BinaryHeap<Scheduled>,
    seq: u64,
    pub sessions: Vec<Session>,
    pub datasets: Vec<Dataset>,
    pub workers: Vec<Worker>,
    /// Per pre-processing node: its group and whether it is busy.
    pub prep_nodes: Vec<(usize, bool)>,
    pub link_caps: Vec<f64>,
    pub flows: Vec<Flow>,
    generation: u64,
    pub gpu_queue: Vec<Waiting>,
    pub prep_queue: Vec<Waiting>,
    pub gpu_runs: Vec<Running>,
    pub prep_runs: Vec<Running>,
    /// GPU-seconds charged to each lab (fair share) and GPUs it holds.
    pub charged: Vec<f64>,
    pub holding: Vec<u32>,
    pub tally: Tally,
}

impl<'a> Engine<'a> {
    pub(super) fn new(f: &'a Facility, table: &'a JobTable, horizon: f64, seed: u64) -> Engine<'a> {
        let mut workers = Vec::new();
        let mut link_caps = Vec::new();
        for (g, w) in f.workers.iter().enumerate() {
            for _ in 0..w.count {
                workers.push(Worker {
                    group: g,
                    gpus: w.gpus,
                    free: w.gpus,
                    ssd: SsdCache::new(w.ssd_bytes, w.ssd_reserve),
                });
                link_caps.push(w.link_bytes_per_s);
            }
        }
        let mut prep_nodes = Vec::new();
        for (g, p) in f.prep.iter().enumerate() {
            for _ in 0..p.count {
                prep_nodes.push((g, false));
                link_caps.push(p.link_bytes_per_s);
            }
        }
        let gauge = || Gauge::new(horizon);
        let mut storage = gauge();
        storage.set(0.0, f.storage.used_bytes as f64);
        Engine {
            f,
            table,
            seed,
            horizon,
            now: 0.0,
            heap: BinaryHeap::new(),
            seq: 0,
            sessions: super::sessions::sessions(f, horizon, seed),
            datasets: Vec::new(),
            workers,
            prep_nodes,
            link_caps,
            flows: Vec::new(),
            generation: 0,
            gpu_queue: Vec::new(),
            prep_queue: Vec::new(),
            gpu_runs: Vec::new(),
            prep_runs: Vec::new(),
            charged: vec![0.0; f.labs.len()],
            holding: vec![0; f.labs.len()],
            tally: Tally {
                gpu_busy: f.workers.iter().map(|_| gauge()).collect(),
                ssd_used: f.workers.iter().map(|_| gauge()).collect(),
                prep_busy: gauge(),
                link_rate: gauge(),
                storage,
                gpu_queue: gauge(),
                prep_queue: gauge(),
                gpu_waits: Vec::new(),
                prep_waits: Vec::new(),
                bytes_demanded: 0.0,
                bytes_read: 0.0,
                storage_full_at: None,
            },
        }
    }

    pub(super) fn at(&mut self, t: f64, event: Event) {
        self.seq += 1;
        self.heap.push(Scheduled {
            t,
            seq: self.seq,
            event,
        });
    }

    /// Runs every event: sessions within the horizon, their jobs to the end.
    pub(super) fn run(mut self) -> Engine<'a> {
        for i in 0..self.sessions.len() {
            let s = &self.sessions[i];
            let (start, end) = (s.start, s.end);
            self.at(start, Event::SessionStart(i));
            self.at(end, Event::SessionEnd(i));
        }
        while let Some(s) = self.heap.pop() {
            self.advance_flows(s.t);
            self.now = s.t;
            let before = self.flows.len();
            let mut changed = false;
            match s.event {
                Event::SessionStart(i) => self.session_start(i),
                Event::SessionEnd(i) => self.session_end(i),
                Event::Timer(owner) => self.part_done(owner),
                Event::Flows(g) if g == self.generation => {
                    self.finish_flows();
                    changed = true;
                }
                Event::Flows(_) => {}
            }
            self.dispatch();
            if changed || self.flows.len() != before {
                self.share_links();
            }
        }
        self
    }

    /// Moves every flow on to `t` at its rate.
    fn advance_flows(&mut self, t: f64) {
        let dt = t - self.now;
        if dt <= 0.0 {
            return;
        }
        for fl in &mut self.flows {
            let moved = (fl.rate * dt).min(fl.left);
            fl.left -= moved;
            self.tally.bytes_read += moved;
        }
    }

    /// Recomputes the rates and schedules the soonest flow's end.
    pub(super) fn share_links(&mut self) {
        self.generation += 1;
        let links: Vec<usize> = self.flows.iter().map(|f| f.link).collect();
        let rates = max_min_rates(&links, &self.link_caps, self.f.storage.link_bytes_per_s);
        let mut soonest = f64::INFINITY;
        for (fl, r) in self.flows.iter_mut().zip(rates) {
            fl.rate = r;
            if r > 0.0 {
                soonest = soonest.min(fl.left / r);
            }
        }
        let total: f64 = self.flows.iter().map(|f| f.rate).sum();
        self.tally.link_rate.set(self.now, total);
        if soonest.is_finite() {
            let g = self.generation;
            self.at(self.now + soonest, Event::Flows(g));
        }
    }

    /// Ends the flows that have (to rounding) nothing left.
    fn finish_flows(&mut self) {
        let mut i = 0;
        while i < self.flows.len() {
            let fl = &self.flows[i];
            // Done to rounding: a byte or a billionth left, or less than
            // the clock can still tell apart from now.
            let unresolvable = fl.rate > 0.0 && self.now + fl.left / fl.rate <= self.now;
            if unresolvable || fl.left <= (fl.bytes * 1e-9).max(1.0) {
                let fl = self.flows.swap_remove(i);
                self.tally.bytes_read += fl.left;
                self.part_done(fl.owner);
            } else {
                i += 1;
            }
        }
    }

    /// Starts a flow of `bytes` for `owner` over `link`.
    pub(super) fn start_flow(&mut self, owner: Owner, link: usize, bytes: f64) {
        self.tally.bytes_demanded += bytes;
        self.flows.push(Flow {
            owner,
            link,
            bytes,
            left: bytes,
            rate: 0.0,
        });
    }
}
