//! RELION's Euler convention: ZYZ, angles rlnAngleRot, rlnAngleTilt,
//! rlnAnglePsi in degrees. The matrix is RELION's `Euler_angles2matrix`:
//! `A = Rz(psi)·Ry(tilt)·Rz(rot)` with the *passive* elementary rotations
//! `Rz(a) = [[cos a, sin a, 0], [-sin a, cos a, 0], [0, 0, 1]]` and
//! `Ry(b) = [[cos b, 0, -sin b], [0, 1, 0], [sin b, 0, cos b]]`. `A` maps
//! volume coordinates to image coordinates; its third row is the projection
//! direction `(sin tilt·cos rot, sin tilt·sin rot, cos tilt)`.

use rand::{Rng, RngExt};

/// A 3×3 rotation matrix, rows first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation(pub [[f64; 3]; 3]);

/// The angles as a particle list gives them; defined with the particles
/// (`crate::particles`), which recon reads, and given their maths here.
pub use crate::particles::list::EulerAngles;

impl EulerAngles {
    /// Angles uniformly distributed over all orientations (rot and psi
    /// uniform, cos(tilt) uniform).
    pub fn random(rng: &mut impl Rng) -> EulerAngles {
        EulerAngles {
            rot: rng.random_range(-180.0..180.0),
            tilt: rng.random_range(-1.0f64..1.0).acos().to_degrees(),
            psi: rng.random_range(-180.0..180.0),
        }
    }

    pub fn matrix(self) -> Rotation {
        Rotation::from_relion_degrees(self.rot, self.tilt, self.psi)
    }
}

impl Rotation {
    pub const IDENTITY: Rotation = Rotation([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    pub fn from_relion_degrees(rot: f64, tilt: f64, psi: f64) -> Rotation {
        let (sa, ca) = rot.to_radians().sin_cos();
        let (sb, cb) = tilt.to_radians().sin_cos();
        let (sg, cg) = psi.to_radians().sin_cos();
        let (cc, cs, sc, ss) = (cb * ca, cb * sa, sb * ca, sb * sa);
        Rotation([
            [cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb],
            [-sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb],
            [sc, ss, cb],
        ])
    }

    /// `A·v`.
    pub fn apply(&self, v: [f64; 3]) -> [f64; 3] {
        let m = &self.0;
        [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
    }

    /// `Aᵀ·v`, the inverse rotation.
    pub fn apply_transpose(&self, v: [f64; 3]) -> [f64; 3] {
        let m = &self.0;
        [0, 1, 2].map(|j| m[0][j] * v[0] + m[1][j] * v[1] + m[2][j] * v[2])
    }

    pub fn mul(&self, other: &Rotation) -> Rotation {
        let (a, b) = (&self.0, &other.0);
        Rotation([0, 1, 2].map(|i| [0, 1, 2].map(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum())))
    }

    pub fn transpose(&self) -> Rotation {
        let m = &self.0;
        Rotation([0, 1, 2].map(|i| [0, 1, 2].map(|j| m[j][i])))
    }

    /// The matrix as f32, rows first (what the GPU kernels take).
    pub fn to_f32(&self) -> [f32; 9] {
        let m = &self.0;
        [0, 1, 2, 3, 4, 5, 6, 7, 8].map(|i| m[i / 3][i % 3] as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn close(a: &Rotation, b: &Rotation, tol: f64) -> bool {
        (0..3).all(|i| (0..3).all(|j| (a.0[i][j] - b.0[i][j]).abs() < tol))
    }

    fn rz(a: f64) -> Rotation {
        Rotation::from_relion_degrees(a, 0.0, 0.0)
    }

    fn ry(b: f64) -> Rotation {
        Rotation::from_relion_degrees(0.0, b, 0.0)
    }

    #[test]
    fn zero_angles_are_the_identity() {
        assert!(close(
            &Rotation::from_relion_degrees(0.0, 0.0, 0.0),
            &Rotation::IDENTITY,
            1e-15
        ));
    }

    #[test]
    fn elementary_rotations_are_passive() {
        // rot 90 about z: the volume's x axis appears as the image's -y axis
        let a = rz(90.0);
        let v = a.apply([1.0, 0.0, 0.0]);
        assert!((v[0]).abs() < 1e-12 && (v[1] + 1.0).abs() < 1e-12, "{v:?}");
        // tilt 90 about y: looking along +x (third row is the view direction)
        let b = ry(90.0);
        let dir = b.0[2];
        assert!((dir[0] - 1.0).abs() < 1e-12 && dir[1].abs() < 1e-12 && dir[2].abs() < 1e-12);
        let want = Rotation([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]);
        assert!(close(&b, &want, 1e-12));
    }

    #[test]
    fn matrix_is_psi_tilt_rot_product() {
        let (r, t, p) = (37.0, -112.0, 251.0);
        let a = Rotation::from_relion_degrees(r, t, p);
        let product = rz(p).mul(&ry(t)).mul(&rz(r));
        assert!(close(&a, &product, 1e-12));
    }

    #[test]
    fn known_rotation_matches_independent_computation() {
        // (rot, tilt, psi) = (30, 60, -45): the transpose of the active
        // intrinsic ZYZ rotation Rz(30)·Ry(60)·Rz(-45), computed with numpy.
        let a = Rotation::from_relion_degrees(30.0, 60.0, -45.0);
        let want = Rotation([
            [0.659739608441, -0.435595740399, -0.612372435696],
            [-0.047367172745, 0.789149130992, -0.612372435696],
            [0.75, 0.433012701892, 0.5],
        ]);
        assert!(close(&a, &want, 1e-11), "{a:?}");
    }

    #[test]
    fn view_direction_is_spherical_rot_tilt() {
        let a = Rotation::from_relion_degrees(50.0, 20.0, 123.0);
        let (t, r) = (20f64.to_radians(), 50f64.to_radians());
        let want = [t.sin() * r.cos(), t.sin() * r.sin(), t.cos()];
        for (got, want) in a.0[2].iter().zip(want) {
            assert!((got - want).abs() < 1e-12);
        }
    }

    #[test]
    fn random_matrices_are_proper_rotations() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let a = EulerAngles::random(&mut rng).matrix();
            assert!(close(&a.mul(&a.transpose()), &Rotation::IDENTITY, 1e-12));
            let m = a.0;
            let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
            assert!((det - 1.0).abs() < 1e-12);
            let v = [0.3, -1.2, 2.0];
            let back = a.apply_transpose(a.apply(v));
            assert!((0..3).all(|i| (back[i] - v[i]).abs() < 1e-12));
        }
    }
}
