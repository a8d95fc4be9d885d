//! The particle reader: a particle list from a RELION STAR file ([`list`]),
//! the MRC stacks it names, opened and checked ([`stacks`]), and parallel
//! readers filling a ring of image buffers from them ([`feed`]). Both
//! reconstructions read through it: `recon` on the CPU, `gpu` on a GPU.

pub mod feed;
pub mod list;
pub mod stacks;
