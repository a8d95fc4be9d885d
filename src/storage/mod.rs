//! Particle stacks on disk: the MRC2014 format, writing stacks, access
//! patterns, the read harness (direct I/O, threads, latency histograms), the
//! probe that maps a path to its device, and fio job files.

pub mod bench_io;
pub mod direct_io;
pub mod fio;
pub mod mrc;
pub mod patterns;
pub mod probe;
pub(crate) mod raw_device;
pub(crate) mod read_bench;
pub mod space;
pub mod stack_writer;
