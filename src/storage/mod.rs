//! Particle stacks on disk: the MRC2014 format and, later, access patterns,
//! the read harness and the storage probe.

pub mod mrc;
