//! Particle metadata files: RELION STAR files (and, later, cryoSPARC `.cs`).

pub mod cs;
pub mod star;
