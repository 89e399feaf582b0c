//! Deterministic scene generators: `(config, seed) -> SceneSpec`.

mod furniture;
mod sampler;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, GeneratorKind};
use crate::math;
use crate::spec::*;
use furniture::Footprint;
use sampler::Sampler;

/// Seed of scene `scene_index` of a run with base seed `base_seed` (SplitMix64 of both).
///
/// Scenes of one run are independent of each other, so any scene (and any shard)
/// can be generated alone, on any machine, in any order.
pub fn scene_seed(base_seed: u64, scene_index: u64) -> u64 {
    let mut z = base_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(
        scene_index
            .wrapping_add(1)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds the scene of `seed` with `views` camera views. Pure: same inputs, same spec.
pub fn generate(config: &Config, seed: u64, views: u32) -> SceneSpec {
    let mut s = Sampler::new(ChaCha8Rng::seed_from_u64(seed), config);
    let tabletop = match config.generator {
        GeneratorKind::Room => false,
        GeneratorKind::Tabletop => true,
        GeneratorKind::Mixed => s.chance(config.tabletop_probability),
    };
    let mut b = Builder::new(&mut s, config);
    b.room();
    if tabletop {
        b.tabletop_scene(views);
    } else {
        b.room_scene(views);
    }
    b.lights();
    SceneSpec {
        seed,
        generator: if tabletop { "tabletop" } else { "room" }.to_string(),
        room: b.room.clone(),
        objects: b.objects,
        lights: b.light_list,
        ambient_brightness: b.ambient,
        views: b.views,
    }
}

/// A surface clutter can stand on: its centre, half extents (x, z) and height.
struct Support {
    center: [f32; 2],
    half: [f32; 2],
    yaw: f32,
    top: f32,
}

struct Builder<'a, 'r> {
    s: &'a mut Sampler<'r>,
    config: &'a Config,
    room: Room,
    objects: Vec<Object>,
    footprints: Vec<Footprint>,
    supports: Vec<Support>,
    light_list: Vec<Light>,
    ambient: f32,
    views: Vec<View>,
}

const WALL_THICKNESS: f32 = 0.1;

impl<'a, 'r> Builder<'a, 'r> {
    fn new(s: &'a mut Sampler<'r>, config: &'a Config) -> Self {
        Builder {
            s,
            config,
            room: Room {
                width: 0.0,
                depth: 0.0,
                height: 0.0,
            },
            objects: Vec::new(),
            footprints: Vec::new(),
            supports: Vec::new(),
            light_list: Vec::new(),
            ambient: 0.0,
            views: Vec::new(),
        }
    }

    fn push(&mut self, category: &str, shape: &str, pose: Transform, parts: Vec<Part>) {
        let instance_id = u16::try_from(self.objects.len() + 1).unwrap_or(u16::MAX);
        self.objects.push(Object {
            instance_id,
            category: category.to_string(),
            shape: shape.to_string(),
            world_from_object: pose,
            parts,
        });
    }

    /// Floor, ceiling and four walls: thick boxes overlapping at the corners so no crack shows.
    fn room(&mut self) {
        let rc = &self.config.room;
        let (w, d, h) = (
            self.s.uniform(rc.width),
            self.s.uniform(rc.depth),
            self.s.uniform(rc.height),
        );
        self.room = Room {
            width: w,
            depth: d,
            height: h,
        };
        let t = WALL_THICKNESS;
        let floor_mat = self.s.material_textured();
        let wall_mat = self.s.material_plain_or_textured(0.3);
        let ceiling_mat = self.s.pale_material();
        let slab = |size: [f32; 3], at: [f32; 3], m: &Material| Part {
            primitive: Primitive::Box { size },
            object_from_part: Transform::from_translation(at),
            material: m.clone(),
        };
        let origin = Transform::from_translation([0.0; 3]);
        self.push(
            "floor",
            "box",
            origin,
            vec![slab(
                [w + 2.0 * t, t, d + 2.0 * t],
                [0.0, -t / 2.0, 0.0],
                &floor_mat,
            )],
        );
        self.push(
            "ceiling",
            "box",
            origin,
            vec![slab(
                [w + 2.0 * t, t, d + 2.0 * t],
                [0.0, h + t / 2.0, 0.0],
                &ceiling_mat,
            )],
        );
        let walls = [
            (
                [w + 2.0 * t, h + 2.0 * t, t],
                [0.0, h / 2.0, -d / 2.0 - t / 2.0],
            ),
            (
                [w + 2.0 * t, h + 2.0 * t, t],
                [0.0, h / 2.0, d / 2.0 + t / 2.0],
            ),
            (
                [t, h + 2.0 * t, d + 2.0 * t],
                [-w / 2.0 - t / 2.0, h / 2.0, 0.0],
            ),
            (
                [t, h + 2.0 * t, d + 2.0 * t],
                [w / 2.0 + t / 2.0, h / 2.0, 0.0],
            ),
        ];
        for (size, at) in walls {
            let m = if self.s.chance(0.25) {
                self.s.material_plain_or_textured(0.3)
            } else {
                wall_mat.clone()
            };
            self.push("wall", "box", origin, vec![slab(size, at, &m)]);
        }
    }

    /// Tries to place a footprint of radius `r` at a random free spot; returns its centre.
    fn free_spot(&mut self, r: f32, margin: f32) -> Option<[f32; 2]> {
        let hx = self.room.width / 2.0 - r - margin;
        let hz = self.room.depth / 2.0 - r - margin;
        if hx <= 0.0 || hz <= 0.0 {
            return None;
        }
        for _ in 0..40 {
            let c = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
            if self.footprints.iter().all(|f| f.clear_of(c, r)) {
                return Some(c);
            }
        }
        None
    }

    fn place_furniture(&mut self, piece: furniture::Piece, at: Option<[f32; 2]>, yaw: f32) -> bool {
        let center = match at {
            Some(c) => c,
            None => match self.free_spot(piece.radius, 0.05) {
                Some(c) => c,
                None => return false,
            },
        };
        let pose = Transform::from_translation([center[0], 0.0, center[1]]).with_yaw(yaw);
        self.footprints.push(Footprint {
            center,
            radius: piece.radius,
            height: piece.height,
        });
        if let Some(top) = piece.support {
            self.supports.push(Support {
                center,
                half: top.half,
                yaw,
                top: top.height,
            });
        }
        self.push(piece.category, piece.category, pose, piece.parts);
        true
    }

    fn furniture(&mut self) {
        let n = self.s.count(self.config.objects.furniture);
        for _ in 0..n {
            let piece = furniture::random_piece(self.s);
            let yaw = self.s.yaw();
            self.place_furniture(piece, None, yaw);
        }
    }

    /// A loose primitive, upright or lying, on the floor or on a support surface.
    fn clutter_item(&mut self, on_support: Option<usize>) {
        let size = self.s.uniform(self.config.objects.clutter_size);
        let primitive = self.s.primitive(size);
        let lying = matches!(
            primitive,
            Primitive::Cylinder { .. } | Primitive::Capsule { .. }
        ) && self.s.chance(0.35);
        let he = primitive.half_extents();
        let (rotation, half_height, radius) = if lying {
            (
                math::quat_from_axis_angle([1.0, 0.0, 0.0], std::f32::consts::FRAC_PI_2),
                he[2],
                he[1].max(he[0]),
            )
        } else {
            ([0.0, 0.0, 0.0, 1.0], he[1], he[0].max(he[2]))
        };
        let (center, base) = match on_support {
            Some(i) => {
                let sp = &self.supports[i];
                let (hx, hz) = (sp.half[0] - radius, sp.half[1] - radius);
                if hx <= 0.0 || hz <= 0.0 {
                    return;
                }
                let local = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
                let p = math::quat_rotate(math::quat_from_yaw(sp.yaw), [local[0], 0.0, local[1]]);
                ([sp.center[0] + p[0], sp.center[1] + p[2]], sp.top)
            }
            None => match self.free_spot(radius, 0.02) {
                Some(c) => (c, 0.0),
                None => return,
            },
        };
        if on_support.is_none() {
            self.footprints.push(Footprint {
                center,
                radius,
                height: 2.0 * half_height,
            });
        }
        let yaw = self.s.yaw();
        let pose = Transform {
            translation: [center[0], base + half_height, center[1]],
            rotation: math::quat_mul(math::quat_from_yaw(yaw), rotation),
            scale: [1.0; 3],
        };
        let material = self.s.material();
        let kind = primitive.kind();
        self.push(
            "clutter",
            kind,
            pose,
            vec![Part {
                primitive,
                object_from_part: Transform::from_translation([0.0; 3]),
                material,
            }],
        );
    }

    fn clutter(&mut self, count: u32, support_bias: f32) {
        for _ in 0..count {
            let support = if !self.supports.is_empty() && self.s.chance(support_bias) {
                Some(self.s.index(self.supports.len()))
            } else {
                None
            };
            self.clutter_item(support);
        }
    }

    fn room_scene(&mut self, views: u32) {
        self.furniture();
        let n = self.s.count(self.config.objects.clutter);
        self.clutter(n, 0.6);
        let cam = self.config.camera.clone();
        // Things worth looking at: furniture and clutter (not the room's own surfaces).
        let points: Vec<[f32; 3]> = self
            .objects
            .iter()
            .filter(|o| !matches!(o.category.as_str(), "floor" | "wall" | "ceiling"))
            .map(|o| o.world_from_object.translation)
            .collect();
        for _ in 0..views {
            let eye = self.free_eye(cam.height);
            let yaw = if !points.is_empty() && self.s.chance(0.8) {
                // Face an object, with some jitter so it is not always centred.
                let p = points[self.s.index(points.len())];
                let (dx, dz) = (p[0] - eye[0], p[2] - eye[2]);
                (-dx).atan2(-dz) + self.s.between(-0.35, 0.35)
            } else {
                self.s.yaw()
            };
            let pitch = self.s.uniform(cam.pitch_deg).to_radians();
            let dir = [
                -yaw.sin() * pitch.cos(),
                -pitch.sin(),
                -yaw.cos() * pitch.cos(),
            ];
            let target = [eye[0] + dir[0], eye[1] + dir[1], eye[2] + dir[2]];
            self.push_view(eye, target);
        }
    }

    /// A camera position inside the room, clear of furniture it would sit inside.
    fn free_eye(&mut self, height: crate::config::Range) -> [f32; 3] {
        let margin = 0.3;
        let hx = (self.room.width / 2.0 - margin).max(0.05);
        let hz = (self.room.depth / 2.0 - margin).max(0.05);
        let max_y = self.room.height - 0.15;
        let mut eye = [0.0, self.s.uniform(height).min(max_y), 0.0];
        for _ in 0..60 {
            let y = self.s.uniform(height).min(max_y);
            let c = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
            eye = [c[0], y, c[1]];
            let blocked = self
                .footprints
                .iter()
                .any(|f| f.height + 0.15 > y && !f.clear_of(c, 0.25));
            if !blocked {
                break;
            }
        }
        eye
    }

    fn push_view(&mut self, eye: [f32; 3], target: [f32; 3]) {
        let r = &self.room;
        let far = (r.width * r.width + r.depth * r.depth + r.height * r.height).sqrt() + 1.0;
        let vfov_deg = self.s.uniform(self.config.camera.vfov_deg);
        self.views.push(View {
            eye,
            target,
            vfov_deg,
            near: self.config.camera.near,
            far,
        });
    }

    fn tabletop_scene(&mut self, views: u32) {
        let table = furniture::big_table(self.s);
        let top = table.support.as_ref().map_or(0.75, |s| s.height);
        let yaw = self.s.between(-0.3, 0.3);
        self.place_furniture(table, Some([0.0, 0.0]), yaw);
        for _ in 0..self.s.count(crate::config::CountRange(0, 3)) {
            let chair = furniture::chair(self.s);
            let y = self.s.yaw();
            self.place_furniture(chair, None, y);
        }
        let n = self.s.count(self.config.objects.tabletop_clutter);
        // Clutter goes on the big table (support 0) first, a little on the floor.
        for _ in 0..n {
            let on_table = self.s.chance(0.85);
            self.clutter_item(on_table.then_some(0));
        }
        let cam = self.config.camera.clone();
        let limit = [
            self.room.width / 2.0 - 0.2,
            self.room.height - 0.15,
            self.room.depth / 2.0 - 0.2,
        ];
        for _ in 0..views {
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
            self.push_view(eye, target);
        }
    }

    fn lights(&mut self) {
        let lc = self.config.lights.clone();
        let n = self.s.count(lc.count);
        let (hx, hz) = (self.room.width / 2.0 - 0.4, self.room.depth / 2.0 - 0.4);
        let range = 2.0 * (self.room.width + self.room.depth + self.room.height);
        for _ in 0..n {
            let y = self.room.height - self.s.between(0.2, 0.6);
            let position = [self.s.between(-hx, hx), y, self.s.between(-hz, hz)];
            let kind = if self.s.chance(lc.spot_probability) {
                let target = [self.s.between(-hx, hx), 0.0, self.s.between(-hz, hz)];
                LightKind::Spot {
                    position,
                    target,
                    outer_angle_deg: self.s.between(30.0, 60.0),
                    range,
                }
            } else {
                LightKind::Point { position, range }
            };
            let color = self.s.temperature_color(lc.temperature_k);
            let intensity = self.s.uniform(lc.intensity_lm);
            self.light_list.push(Light {
                kind,
                color,
                intensity,
                shadows: lc.shadows,
            });
        }
        if self.s.chance(lc.directional_probability) {
            let yaw = self.s.yaw();
            let elevation = self.s.between(25.0f32, 70.0).to_radians();
            let direction = [
                yaw.sin() * elevation.cos(),
                -elevation.sin(),
                yaw.cos() * elevation.cos(),
            ];
            let color = self
                .s
                .temperature_color(crate::config::Range(5000.0, 6500.0));
            self.light_list.push(Light {
                kind: LightKind::Directional { direction },
                color,
                intensity: self.s.uniform(lc.directional_lux),
                shadows: lc.shadows,
            });
        }
        self.ambient = self.s.uniform(lc.ambient);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_different_seed_different_scene() {
        let c = Config::default();
        let a = generate(&c, 7, 3).to_json();
        let b = generate(&c, 7, 3).to_json();
        assert_eq!(a, b);
        assert_ne!(a, generate(&c, 8, 3).to_json());
    }

    #[test]
    fn scenes_are_well_formed() {
        let c = Config::default();
        for seed in 0..200 {
            let s = generate(&c, scene_seed(3, seed), 4);
            assert_eq!(s.views.len(), 4);
            assert!(s.objects.len() >= 6, "room surfaces always exist");
            let mut ids: Vec<u16> = s.objects.iter().map(|o| o.instance_id).collect();
            ids.dedup();
            assert_eq!(ids.len(), s.objects.len(), "instance ids unique");
            assert!(ids.iter().all(|&i| i > 0));
            for v in &s.views {
                assert!(v.eye[0].abs() < s.room.width / 2.0, "eye inside the room");
                assert!(v.eye[2].abs() < s.room.depth / 2.0);
                assert!(v.eye[1] > 0.0 && v.eye[1] < s.room.height);
                assert!(v.far > v.near);
            }
            assert!(!s.lights.is_empty());
        }
    }

    #[test]
    fn both_generators_are_used_by_mixed() {
        let c = Config::default();
        let kinds: std::collections::BTreeSet<String> = (0..50)
            .map(|i| generate(&c, scene_seed(0, i), 1).generator)
            .collect();
        assert!(kinds.contains("room") && kinds.contains("tabletop"));
    }

    #[test]
    fn scene_seeds_differ() {
        let seeds: std::collections::BTreeSet<u64> = (0..1000).map(|i| scene_seed(0, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(scene_seed(0, 0), scene_seed(1, 0));
    }
}
