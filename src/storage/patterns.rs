//! The orders in which a benchmark reads particles, as refinement and
//! classification do: in file order, in one random permutation, reshuffled
//! every epoch, or a random subset (as after 2D class selection).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pattern {
    /// Every particle in file order.
    Sequential,
    /// One random permutation: every particle once per pass, same order each pass.
    Random,
    /// N passes, each a fresh permutation.
    Epochs(u32),
    /// A fixed random fraction of the particles, reshuffled each pass.
    Subset(f64),
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let t = text.trim();
        match t {
            "sequential" | "seq" => return Ok(Pattern::Sequential),
            "random" | "rand" => return Ok(Pattern::Random),
            _ => {}
        }
        if let Some(n) = t.strip_prefix("epochs:") {
            return match n.parse::<u32>() {
                Ok(n) if (1..=10_000).contains(&n) => Ok(Pattern::Epochs(n)),
                _ => Err(format!(
                    "'{t}': epochs:N needs a whole number of passes from 1 to 10000"
                )),
            };
        }
        if let Some(f) = t.strip_prefix("subset:") {
            return match f.parse::<f64>() {
                Ok(f) if f > 0.0 && f <= 1.0 => Ok(Pattern::Subset(f)),
                _ => Err(format!(
                    "'{t}': subset:F needs a fraction above 0 and at most 1, e.g. subset:0.3"
                )),
            };
        }
        Err(format!(
            "'{t}' is not a pattern; use sequential, random, epochs:N or subset:F"
        ))
    }

    pub fn label(&self) -> String {
        match self {
            Pattern::Sequential => "sequential".to_string(),
            Pattern::Random => "random".to_string(),
            Pattern::Epochs(n) => format!("epochs:{n}"),
            Pattern::Subset(f) => format!("subset:{f}"),
        }
    }

    /// Passes this pattern makes: its own count for `epochs:N`, else `passes`.
    pub fn passes(&self, passes: u32) -> u32 {
        match self {
            Pattern::Epochs(n) => *n,
            _ => passes,
        }
    }

    /// Whether reads go in file order (the fio equivalent is `rw=read`).
    pub fn is_sequential(&self) -> bool {
        matches!(self, Pattern::Sequential)
    }
}

/// Generates the particle order of each pass over `n` particles.
#[derive(Debug, Clone)]
pub struct Orders {
    pattern: Pattern,
    base: Vec<u32>,
    seed: u64,
}

impl Orders {
    /// `n` must fit in u32 (config checks it).
    pub fn new(pattern: Pattern, n: u32, seed: u64) -> Orders {
        let mut base: Vec<u32> = (0..n).collect();
        let mut rng = StdRng::seed_from_u64(seed);
        match pattern {
            Pattern::Sequential | Pattern::Epochs(_) => {}
            Pattern::Random => base.shuffle(&mut rng),
            Pattern::Subset(f) => {
                let keep = ((f64::from(n) * f).round() as usize).clamp(1, n.max(1) as usize);
                base.shuffle(&mut rng);
                base.truncate(keep);
                base.sort_unstable();
            }
        }
        Orders {
            pattern,
            base,
            seed,
        }
    }

    /// Particles read per pass.
    pub fn per_pass(&self) -> usize {
        self.base.len()
    }

    /// The order of pass `pass` (0-based), written into `out`.
    pub fn fill(&self, pass: u32, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.base);
        if matches!(self.pattern, Pattern::Epochs(_) | Pattern::Subset(_)) {
            let mut rng = StdRng::seed_from_u64(self.seed ^ ((u64::from(pass) + 1) << 32));
            out.shuffle(&mut rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    #[test]
    fn parses_the_four_patterns() {
        assert_eq!(Pattern::parse("sequential"), Ok(Pattern::Sequential));
        assert_eq!(Pattern::parse("epochs:3"), Ok(Pattern::Epochs(3)));
        assert_eq!(Pattern::parse("subset:0.25"), Ok(Pattern::Subset(0.25)));
        assert!(Pattern::parse("subset:0").is_err());
        assert!(Pattern::parse("epochs:x").is_err());
        assert!(Pattern::parse("zigzag").unwrap_err().contains("sequential"));
    }

    #[test]
    fn random_reads_every_particle_once_in_a_new_order() {
        let o = Orders::new(Pattern::Random, 1000, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        o.fill(0, &mut a);
        o.fill(1, &mut b);
        assert_eq!(sorted(a.clone()), (0..1000).collect::<Vec<_>>());
        assert_ne!(a, (0..1000).collect::<Vec<_>>());
        assert_eq!(a, b, "random repeats its permutation");
    }

    #[test]
    fn epochs_reshuffle_each_pass() {
        let o = Orders::new(Pattern::Epochs(2), 1000, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        o.fill(0, &mut a);
        o.fill(1, &mut b);
        assert_ne!(a, b);
        assert_eq!(sorted(a), sorted(b));
        assert_eq!(Pattern::Epochs(4).passes(1), 4);
    }

    #[test]
    fn subset_keeps_the_same_fraction_each_pass() {
        let o = Orders::new(Pattern::Subset(0.3), 1000, 5);
        assert_eq!(o.per_pass(), 300);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        o.fill(0, &mut a);
        o.fill(1, &mut b);
        assert_eq!(sorted(a.clone()), sorted(b.clone()));
        assert_ne!(a, b);
        let mut d = sorted(a);
        d.dedup();
        assert_eq!(d.len(), 300);
    }
}
