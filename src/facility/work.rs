//! What the engine's events do: sessions start pre-processing, datasets
//! enter the GPU queue, the scheduler places jobs on nodes, and jobs end.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::engine::{Dataset, Engine, Owner, Running, Waiting};
use super::model::Policy;
use super::sessions::weighted;
use super::ssd::Lookup;

impl Engine<'_> {
    pub(super) fn session_start(&mut self, i: usize) {
        let lab = self.sessions[i].lab;
        self.prep_queue.push(Waiting {
            item: i,
            lab,
            since: self.now,
        });
        self.tally.prep_queue.add(self.now, 1.0);
    }

    pub(super) fn session_end(&mut self, i: usize) {
        let bytes = self.sessions[i].bytes;
        self.grow_storage(bytes);
    }

    fn grow_storage(&mut self, bytes: f64) {
        self.tally.storage.add(self.now, bytes);
        let cap = self.f.storage.capacity_bytes as f64;
        if self.tally.storage_full_at.is_none() && self.tally.storage.value() > cap {
            self.tally.storage_full_at = Some(self.now);
        }
    }

    /// Starts what the queues and free nodes allow.
    pub(super) fn dispatch(&mut self) {
        while !self.prep_queue.is_empty() {
            let Some(node) = self.prep_nodes.iter().position(|n| !n.1) else {
                break;
            };
            let w = self.prep_queue.remove(0);
            self.start_prep(w, node);
        }
        while let Some((qi, node)) = self.next_gpu_job() {
            let w = self.gpu_queue.remove(qi);
            self.start_gpu(w, node);
        }
    }

    fn start_prep(&mut self, w: Waiting, node: usize) {
        self.tally.prep_queue.add(self.now, -1.0);
        self.tally.prep_waits.push((w.since, self.now));
        self.tally.prep_busy.add(self.now, 1.0);
        self.prep_nodes[node].1 = true;
        let s = &self.sessions[w.item];
        let group = &self.f.prep[self.prep_nodes[node].0];
        let (movies, end, bytes) = (s.movies as f64, s.end, s.bytes);
        // Seconds a movie takes on this node.
        let per_movie = match group.bytes_per_s {
            Some(r) if movies > 0.0 => bytes / movies / r,
            _ => 3600.0 / group.movies_per_hour,
        };
        // Live: it cannot finish before the last movie is written and done.
        let last = if movies > 0.0 { per_movie } else { 0.0 };
        let done = (self.now + movies * per_movie).max(end + last);
        let owner = Owner::Prep(self.prep_runs.len());
        let link = self.workers.len() + node;
        self.prep_runs.push(Running {
            item: w.item,
            node,
            gpus: 0,
            parts: 1 + u8::from(bytes > 0.0),
            then: None,
            cached: false,
        });
        self.at(done, super::engine::Event::Timer(owner));
        if bytes > 0.0 {
            self.start_flow(owner, link, bytes);
        }
    }

    fn finish_prep(&mut self, run: usize) {
        let (session, node) = (self.prep_runs[run].item, self.prep_runs[run].node);
        self.prep_nodes[node].1 = false;
        self.tally.prep_busy.add(self.now, -1.0);
        let s = &self.sessions[session];
        let (lab, end) = (s.lab, s.end);
        let seed = self.seed ^ (session as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(seed);
        let weights: Vec<f64> = self.f.labs[lab]
            .classes
            .iter()
            .map(|c| c.per_month)
            .collect();
        let class = weighted(&weights, &mut rng);
        let stack = self.table[lab][class].stack_bytes;
        self.grow_storage(stack);
        self.datasets.push(Dataset {
            lab,
            class,
            session_end: end,
            step: 0,
            first_map: None,
            done: None,
            rng,
        });
        self.queue_step(self.datasets.len() - 1);
    }

    fn queue_step(&mut self, d: usize) {
        let lab = self.datasets[d].lab;
        self.gpu_queue.push(Waiting {
            item: d,
            lab,
            since: self.now,
        });
        self.tally.gpu_queue.add(self.now, 1.0);
    }

    /// GPUs a job takes on a node of `gpus`.
    fn need(&self, gpus: u32) -> u32 {
        self.f.scheduler.gpus_per_job.min(gpus).max(1)
    }

    /// The queued job to start next and its node, by the policy.
    fn next_gpu_job(&self) -> Option<(usize, usize)> {
        let limit = self.f.scheduler.max_gpus_per_lab;
        let allowed = |w: &Waiting| limit.is_none_or(|l| self.holding[w.lab] < l);
        let pick = match self.f.scheduler.policy {
            Policy::Fifo => self.gpu_queue.iter().position(allowed),
            Policy::FairShare => self
                .gpu_queue
                .iter()
                .enumerate()
                .filter(|(_, w)| allowed(w))
                .min_by(|a, b| {
                    let key = |w: &Waiting| self.charged[w.lab] / self.f.labs[w.lab].share;
                    key(a.1).total_cmp(&key(b.1)).then(a.0.cmp(&b.0))
                })
                .map(|(i, _)| i),
        }?;
        let d = self.gpu_queue[pick].item;
        let fits = |n: &&super::engine::Worker| n.free >= self.need(n.gpus);
        let cached = self.workers.iter().position(|n| fits(&n) && n.ssd.holds(d));
        let node = cached.or_else(|| self.workers.iter().position(|n| fits(&n)))?;
        Some((pick, node))
    }

    fn start_gpu(&mut self, w: Waiting, node: usize) {
        self.tally.gpu_queue.add(self.now, -1.0);
        self.tally.gpu_waits.push((w.lab, w.since, self.now));
        let group = self.workers[node].group;
        let gpus = self.need(self.workers[node].gpus);
        self.workers[node].free -= gpus;
        self.holding[w.lab] += gpus;
        self.tally.gpu_busy[group].add(self.now, f64::from(gpus));
        let ds = &mut self.datasets[w.item];
        let (class, step) = (&self.table[ds.lab][ds.class], ds.step);
        let jt = &class.steps[group][step];
        let compute = jt.draw.sample(jt.seconds, &mut ds.rng);
        self.charged[w.lab] += jt.seconds * f64::from(gpus);
        let (stack, passes, overlap) = (class.stack_bytes, f64::from(jt.passes), jt.overlaps_io);
        let lookup = self.workers[node].ssd.acquire(w.item, stack, self.now);
        self.start_parts(
            w.item,
            node,
            gpus,
            lookup,
            (compute, stack, passes, overlap),
        );
    }

    /// Starts a GPU job's reading and computing as its cache lookup allows.
    fn start_parts(
        &mut self,
        item: usize,
        node: usize,
        gpus: u32,
        lookup: Lookup,
        (compute, stack, passes, overlap): (f64, f64, f64, bool),
    ) {
        let group = self.workers[node].group;
        let ssd_rate = self.f.workers[group].ssd_read_bytes_per_s;
        let local = |c: f64| {
            let read = stack * passes / ssd_rate;
            if overlap { c.max(read) } else { c + read }
        };
        let (flow, timer_now, then) = match lookup {
            Lookup::Hit => (0.0, Some(local(compute)), None),
            Lookup::Fill => (stack, None, Some(local(compute))),
            Lookup::Bypass if overlap => (stack * passes, Some(compute), None),
            Lookup::Bypass => (stack * passes, None, Some(compute)),
        };
        let flow = if flow > 0.0 { flow } else { 0.0 };
        let (timer_now, then) = if flow == 0.0 {
            (timer_now.or(then), None)
        } else {
            (timer_now, then)
        };
        let owner = Owner::Gpu(self.gpu_runs.len());
        self.gpu_runs.push(Running {
            item,
            node,
            gpus,
            parts: u8::from(flow > 0.0) + u8::from(timer_now.is_some()),
            then,
            cached: lookup != Lookup::Bypass,
        });
        if let Some(s) = timer_now {
            self.at(self.now + s, super::engine::Event::Timer(owner));
        }
        if flow > 0.0 {
            self.start_flow(owner, node, flow);
        }
        self.track_ssd(group);
    }

    fn track_ssd(&mut self, group: usize) {
        let used: f64 = self
            .workers
            .iter()
            .filter(|w| w.group == group)
            .map(|w| w.ssd.used())
            .sum();
        self.tally.ssd_used[group].set(self.now, used);
    }

    /// A flow or a timer of `owner` ended.
    pub(super) fn part_done(&mut self, owner: Owner) {
        let run = match owner {
            Owner::Prep(i) | Owner::Gpu(i) => i,
        };
        let r = match owner {
            Owner::Prep(i) => &mut self.prep_runs[i],
            Owner::Gpu(i) => &mut self.gpu_runs[i],
        };
        r.parts -= 1;
        if let Some(s) = r.then.take() {
            r.parts += 1;
            self.at(self.now + s, super::engine::Event::Timer(owner));
            return;
        }
        if r.parts > 0 {
            return;
        }
        match owner {
            Owner::Prep(_) => self.finish_prep(run),
            Owner::Gpu(_) => self.finish_gpu(run),
        }
    }

    fn finish_gpu(&mut self, run: usize) {
        let r = self.gpu_runs[run].clone();
        let group = self.workers[r.node].group;
        self.workers[r.node].free += r.gpus;
        if r.cached {
            self.workers[r.node].ssd.release(r.item, self.now);
        }
        self.tally.gpu_busy[group].add(self.now, -f64::from(r.gpus));
        let ds = &mut self.datasets[r.item];
        self.holding[ds.lab] -= r.gpus;
        let steps = &self.table[ds.lab][ds.class].steps[group];
        if steps[ds.step].three_d && ds.first_map.is_none() {
            ds.first_map = Some(self.now);
        }
        ds.step += 1;
        if ds.step < steps.len() {
            self.queue_step(r.item);
        } else {
            ds.done = Some(self.now);
        }
    }
}
