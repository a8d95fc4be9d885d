//! Particle metadata files (RELION STAR, cryoSPARC `.cs`) and the job
//! directories RELION and CryoSPARC write ([`jobdir`]).

pub mod cs;
pub mod jobdir;
pub mod star;
