//! Camera views: candidates aimed at content, scored by the share of the frame
//! objects cover (estimated by ray casting before rendering).

use super::Builder;
use crate::spec::View;
use crate::visibility::{SceneGeometry, VISIBLE_SHARE};

impl Builder<'_, '_> {
    /// Things worth looking at: support surfaces (with what stands on them),
    /// furniture and clutter; with, where it has one, the side they face.
    pub(super) fn focus_points(&self) -> Vec<Focus> {
        let mut points: Vec<Focus> = self
            .supports
            .iter()
            .map(|sp| Focus {
                point: [sp.center[0], sp.top + 0.1, sp.center[1]],
                facing: Some(sp.yaw),
            })
            .collect();
        for (i, f) in self.footprints.iter().enumerate() {
            let facing = self
                .supports
                .iter()
                .all(|s| s.footprint != i)
                .then_some(f.yaw);
            points.push(Focus {
                point: [f.center[0], (f.y[0] + f.y[1]) / 2.0, f.center[1]],
                facing: if f.on.is_some() { None } else { facing },
            });
        }
        points
    }

    /// An eye height within the room.
    pub(super) fn eye_height(&mut self) -> f32 {
        let max_y = self.room.height - 0.15;
        self.s.uniform(self.config.camera.height).min(max_y)
    }

    /// One candidate room view: aimed at a focus point from a random side (in
    /// front of it where it faces one way), or looking in a random direction.
    pub(super) fn room_view(&mut self, focus: &[Focus]) -> View {
        let cam = self.config.camera.clone();
        if !focus.is_empty() && self.s.chance(cam.aim_probability) {
            let f = &focus[self.s.index(focus.len())];
            let azimuth = match f.facing {
                // Object +z (its front) points along (sin yaw, cos yaw).
                Some(yaw) => yaw + self.s.between(-1.2, 1.2),
                None => self.s.yaw(),
            };
            let dist = self.s.uniform(cam.aim_distance);
            let height = self.eye_height();
            let target = [
                f.point[0] + self.s.between(-0.15, 0.15),
                f.point[1] + self.s.between(-0.1, 0.1),
                f.point[2] + self.s.between(-0.15, 0.15),
            ];
            let (dx, dz) = (azimuth.sin(), azimuth.cos());
            let mut eye = [target[0] + dx * dist, height, target[2] + dz * dist];
            // Pull the camera in until it is inside the room.
            let margin = 0.15;
            for _ in 0..20 {
                if eye[0].abs() < self.room.width / 2.0 - margin
                    && eye[2].abs() < self.room.depth / 2.0 - margin
                {
                    break;
                }
                eye = [
                    target[0] + (eye[0] - target[0]) * 0.85,
                    height,
                    target[2] + (eye[2] - target[2]) * 0.85,
                ];
            }
            // A target by the wall can leave the eye there too: keep it inside.
            let (mx, mz) = (
                self.room.width / 2.0 - margin,
                self.room.depth / 2.0 - margin,
            );
            eye[0] = eye[0].clamp(-mx, mx);
            eye[2] = eye[2].clamp(-mz, mz);
            return self.view(eye, target);
        }
        let eye = self.free_eye(cam.height);
        let yaw = self.s.yaw();
        let pitch = self.s.uniform(cam.pitch_deg).to_radians();
        let dir = [
            -yaw.sin() * pitch.cos(),
            -pitch.sin(),
            -yaw.cos() * pitch.cos(),
        ];
        let target = [eye[0] + dir[0], eye[1] + dir[1], eye[2] + dir[2]];
        self.view(eye, target)
    }

    /// Draws candidate views with `candidate` until one shows enough objects
    /// (estimated by ray casting), or keeps the best of `view_attempts`.
    pub(super) fn best_view(&mut self, mut candidate: impl FnMut(&mut Self) -> View) -> View {
        let cam = &self.config.camera;
        let (attempts, min_share, min_visible) = (
            cam.view_attempts.max(1),
            cam.min_object_share,
            cam.min_visible_objects as usize,
        );
        let geometry = SceneGeometry::new(&self.objects);
        let mut best: Option<(f32, View)> = None;
        for _ in 0..attempts {
            let view = candidate(self);
            if attempts == 1 {
                return view;
            }
            let score = if self.eye_blocked(view.eye) {
                -1.0
            } else {
                let c = geometry.coverage(&view, 1.0, COVERAGE_GRID);
                let (share, visible) = (c.object_share(), c.visible_objects(VISIBLE_SHARE));
                if share >= min_share && visible >= min_visible {
                    return view;
                }
                share.min(min_share) / min_share.max(1e-3)
                    + (visible.min(min_visible) as f32) / (min_visible.max(1) as f32)
            };
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, view));
            }
        }
        match best {
            Some((_, view)) => view,
            None => candidate(self),
        }
    }

    /// Whether a camera at `eye` would sit inside (or touch) a placed object.
    pub(super) fn eye_blocked(&self, eye: [f32; 3]) -> bool {
        self.footprints
            .iter()
            .any(|f| f.contains([eye[0], eye[2]], eye[1], 0.12))
    }

    /// A camera position inside the room, clear of furniture it would sit inside.
    pub(super) fn free_eye(&mut self, height: crate::config::Range) -> [f32; 3] {
        let margin = 0.3;
        let hx = (self.room.width / 2.0 - margin).max(0.05);
        let hz = (self.room.depth / 2.0 - margin).max(0.05);
        let max_y = self.room.height - 0.15;
        let mut eye = [0.0, self.s.uniform(height).min(max_y), 0.0];
        for _ in 0..60 {
            let y = self.s.uniform(height).min(max_y);
            eye = [self.s.between(-hx, hx), y, self.s.between(-hz, hz)];
            if !self.eye_blocked(eye) {
                break;
            }
        }
        eye
    }

    pub(super) fn view(&mut self, eye: [f32; 3], target: [f32; 3]) -> View {
        let r = &self.room;
        let far = (r.width * r.width + r.depth * r.depth + r.height * r.height).sqrt() + 1.0;
        let vfov_deg = self.s.uniform(self.config.camera.vfov_deg);
        View {
            eye,
            target,
            vfov_deg,
            near: self.config.camera.near,
            far,
        }
    }

    /// One candidate view of the table from a random side, above it.
    pub(super) fn tabletop_view(&mut self, top: f32) -> View {
        let cam = self.config.camera.clone();
        let limit = [
            self.room.width / 2.0 - 0.2,
            self.room.height - 0.15,
            self.room.depth / 2.0 - 0.2,
        ];
        let target = [
            self.s.between(-0.15, 0.15),
            top,
            self.s.between(-0.15, 0.15),
        ];
        let azimuth = self.s.yaw();
        let pitch = self.s.uniform(cam.tabletop_pitch_deg).to_radians();
        let mut dist = self.s.uniform(cam.tabletop_distance);
        let dir = [
            azimuth.sin() * pitch.cos(),
            pitch.sin(),
            azimuth.cos() * pitch.cos(),
        ];
        // Pull the camera in until it is inside the room.
        let mut eye = target;
        for _ in 0..20 {
            eye = [
                target[0] + dir[0] * dist,
                target[1] + dir[1] * dist,
                target[2] + dir[2] * dist,
            ];
            if eye[0].abs() < limit[0] && eye[1] < limit[1] && eye[2].abs() < limit[2] {
                break;
            }
            dist *= 0.85;
        }
        self.view(eye, target)
    }
}

/// A point a camera may aim at, and the heading of the side it faces, if any.
pub(super) struct Focus {
    pub(super) point: [f32; 3],
    pub(super) facing: Option<f32>,
}

/// Side of the ray grid that scores candidate views (576 rays: an object of
/// 0.5 % of the frame is about 3 of them).
const COVERAGE_GRID: u32 = 24;
