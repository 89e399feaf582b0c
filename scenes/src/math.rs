//! Small 3D helpers on plain arrays (no linear-algebra dependency).
//!
//! Matrices are row-major `[[f64; 4]; 4]`; quaternions are `[x, y, z, w]`.

/// A 3-vector.
pub type Vec3 = [f32; 3];
/// A row-major 4×4 matrix.
pub type Mat4 = [[f64; 4]; 4];

/// `a - b`.
pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Cross product `a × b`.
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Unit vector along `a`; `a` unchanged when it has zero length.
pub fn normalize(a: Vec3) -> Vec3 {
    let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    if n > 0.0 {
        [a[0] / n, a[1] / n, a[2] / n]
    } else {
        a
    }
}

/// Quaternion `[x, y, z, w]` of a rotation by `angle` radians about the world `+y` axis.
pub fn quat_from_yaw(angle: f32) -> [f32; 4] {
    let h = angle * 0.5;
    [0.0, h.sin(), 0.0, h.cos()]
}

/// Quaternion `[x, y, z, w]` of a rotation by `angle` radians about `axis` (need not be unit).
pub fn quat_from_axis_angle(axis: Vec3, angle: f32) -> [f32; 4] {
    let a = normalize(axis);
    let (s, c) = (angle * 0.5).sin_cos();
    [a[0] * s, a[1] * s, a[2] * s, c]
}

/// Hamilton product `a · b` (apply `b`, then `a`).
pub fn quat_mul(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    let [ax, ay, az, aw] = a;
    let [bx, by, bz, bw] = b;
    [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]
}

/// Rotates `v` by the unit quaternion `q`.
pub fn quat_rotate(q: [f32; 4], v: Vec3) -> Vec3 {
    let u = [q[0], q[1], q[2]];
    let w = q[3];
    let t = cross(u, v);
    let t = [2.0 * t[0], 2.0 * t[1], 2.0 * t[2]];
    let c = cross(u, t);
    [
        v[0] + w * t[0] + c[0],
        v[1] + w * t[1] + c[1],
        v[2] + w * t[2] + c[2],
    ]
}

/// `world_from_camera` of a camera at `eye` looking at `target`, world `+y` up,
/// in the OpenCV camera convention (x right, y down, z forward), row-major.
///
/// Columns 0..3 are the camera's x, y, z axes in world coordinates; column 3 is `eye`.
pub fn look_at_world_from_camera(eye: Vec3, target: Vec3) -> Mat4 {
    let forward = normalize(sub(target, eye));
    let mut right = cross(forward, [0.0, 1.0, 0.0]);
    if right.iter().all(|c| c.abs() < 1e-6) {
        // Looking straight up or down: any horizontal right axis will do.
        right = [1.0, 0.0, 0.0];
    }
    let right = normalize(right);
    let down = cross(forward, right);
    let mut m = [[0.0f64; 4]; 4];
    for r in 0..3 {
        m[r][0] = f64::from(right[r]);
        m[r][1] = f64::from(down[r]);
        m[r][2] = f64::from(forward[r]);
        m[r][3] = f64::from(eye[r]);
    }
    m[3][3] = 1.0;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_at_axes_are_orthonormal_and_follow_opencv() {
        let m = look_at_world_from_camera([0.0, 1.5, 0.0], [0.0, 1.5, -3.0]);
        // Looking along world -z: camera z (forward) = world -z, camera y (down) = world -y.
        assert!((m[2][2] + 1.0).abs() < 1e-6);
        assert!((m[1][1] + 1.0).abs() < 1e-6);
        assert!((m[0][0] - 1.0).abs() < 1e-6);
        assert!((m[1][3] - 1.5).abs() < 1e-6);
    }

    #[test]
    fn quaternion_rotation_matches_yaw() {
        let q = quat_from_yaw(std::f32::consts::FRAC_PI_2);
        let v = quat_rotate(q, [1.0, 0.0, 0.0]);
        // +90° about +y takes +x to -z.
        assert!((v[2] + 1.0).abs() < 1e-6 && v[0].abs() < 1e-6);
        let q2 = quat_mul(q, q);
        let v2 = quat_rotate(q2, [1.0, 0.0, 0.0]);
        assert!((v2[0] + 1.0).abs() < 1e-6);
    }
}
