//! Every image of the MRC stacks in a directory as a particle list (random,
//! seeded orientations and shifts), for benchmarks that read real files
//! without a STAR file: `bench gpu --from-files`.

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::euler::EulerAngles;
use crate::particles::feed::{self, FeedError, FeedOptions, FeedStats, HostSlot};
use crate::particles::list::{Origin, Particle};
use crate::particles::stacks::{NonFinite, StackOptions, Stacks, StacksError};
use crate::storage::mrc::Mode;

/// The stacks of a directory and one particle per image.
#[derive(Debug)]
pub struct DirStacks {
    /// Stands in for a STAR file in messages: the directory itself.
    pub dir: PathBuf,
    pub particles: Vec<Particle>,
    pub stacks: Stacks,
}

impl DirStacks {
    /// Opens `files` (stacks of one directory, as `bench io` lists them):
    /// every image becomes a particle with a random orientation and a shift
    /// of up to ±3 pixels, from `seed`.
    pub fn open(dir: &Path, files: &[PathBuf], seed: u64) -> Result<DirStacks, StacksError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut particles = Vec::new();
        for f in files {
            let mrc = crate::storage::mrc::MrcFile::open(f)?;
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for index in 0..u64::from(mrc.header.nz) {
                particles.push(Particle {
                    stack: name.clone(),
                    index,
                    numbered: true,
                    angles: EulerAngles::random(&mut rng),
                    origin: Origin::Pixels([
                        rng.random_range(-3.0..3.0),
                        rng.random_range(-3.0..3.0),
                    ]),
                    pixel_size: None,
                    image_size: None,
                    line: 0,
                });
            }
        }
        let opts = StackOptions {
            data_dir: Some(dir.to_path_buf()),
            angpix: None,
        };
        let stacks = Stacks::open(dir, &particles, &opts)?;
        Ok(DirStacks {
            dir: dir.to_path_buf(),
            particles,
            stacks,
        })
    }

    /// Whether every stack is float16 (MRC mode 12): then particles travel
    /// as float16 bits.
    pub fn all_float16(&self) -> bool {
        self.stacks
            .files
            .iter()
            .all(|f| f.header.mode == Mode::Float16)
    }

    /// Bytes of one image as stored (the first stack's mode).
    pub fn image_bytes(&self) -> u64 {
        self.stacks
            .files
            .first()
            .map_or(0, |f| f.header.image_bytes())
    }

    /// Reads every image once through the feed into `ring` host buffers of
    /// `chunk` images, doing nothing with them: the rate the readers alone
    /// reach on this node.
    pub fn read_pass(
        &self,
        readers: usize,
        chunk: usize,
        ring: usize,
        direct: bool,
    ) -> Result<FeedStats, FeedError<std::convert::Infallible>> {
        let n = self.stacks.box_size;
        let slot = match self.all_float16() {
            true => HostSlot::F16(vec![0; chunk * n * n]),
            false => HostSlot::F32(vec![0.0; chunk * n * n]),
        };
        let order: Vec<usize> = (0..self.particles.len()).collect();
        let opts = FeedOptions {
            readers,
            chunk,
            direct,
            policy: NonFinite::Skip,
        };
        feed::run(
            &self.dir,
            &self.particles,
            &self.stacks,
            &order,
            vec![slot; ring.max(1)],
            &opts,
            |f| Ok::<_, std::convert::Infallible>(f.slot),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mrc::{MrcHeader, encode_pixels};

    fn stack(dir: &Path, name: &str, count: u32, mode: Mode) -> PathBuf {
        let h = MrcHeader::image_stack(32, 32, count, mode, 1.0);
        let mut bytes = h.to_bytes().to_vec();
        encode_pixels(&vec![0.5; 32 * 32 * count as usize], mode, &mut bytes);
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn every_image_of_every_stack_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            stack(dir.path(), "a.mrcs", 30, Mode::Float16),
            stack(dir.path(), "b.mrcs", 12, Mode::Float16),
        ];
        let d = DirStacks::open(dir.path(), &files, 1).unwrap();
        assert_eq!(d.particles.len(), 42);
        assert!(d.all_float16());
        assert_eq!(d.image_bytes(), 32 * 32 * 2);
        for direct in [false, true] {
            let s = d.read_pass(2, 5, 3, direct).unwrap();
            assert!(s.bytes >= 42 * 32 * 32 * 2, "{s:?}");
            assert_eq!(s.readers, 2);
        }
    }

    #[test]
    fn stacks_of_two_boxes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = stack(dir.path(), "a.mrcs", 3, Mode::Float32);
        let h = MrcHeader::image_stack(16, 16, 1, Mode::Float32, 1.0);
        let mut bytes = h.to_bytes().to_vec();
        encode_pixels(&[0.0; 256], Mode::Float32, &mut bytes);
        let b = dir.path().join("b.mrcs");
        std::fs::write(&b, bytes).unwrap();
        let e = DirStacks::open(dir.path(), &[a, b], 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("box 16 differs from box 32"), "{e}");
    }
}
