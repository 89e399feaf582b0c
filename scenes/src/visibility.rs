//! What a view will show, estimated from the geometry before anything is rendered.
//!
//! A coarse grid of camera rays is cast against every part of the scene (boxes,
//! spheres and cylinders exactly; cones, capsules and tori by their bounding
//! boxes), and the first surface each ray meets is counted. Generators use it
//! to aim cameras at content; it is pure maths on a [`SceneSpec`], so a view
//! chosen with it is still a pure function of the config and seed.

use crate::math::{self, Vec3};
use crate::spec::{Object, Primitive, View, is_room_surface};

/// Share of a frame an object must cover to count as visible (0.5 %).
pub const VISIBLE_SHARE: f32 = 0.005;

/// How much of a view objects (anything but floor, walls and ceiling) cover.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewCoverage {
    /// Rays cast (grid side squared).
    pub rays: u32,
    /// Rays whose first hit is an object, per instance id, sorted by id.
    pub per_object: Vec<(u16, u32)>,
}

impl ViewCoverage {
    /// Share of the frame covered by objects, in `[0, 1]`.
    pub fn object_share(&self) -> f32 {
        let hits: u32 = self.per_object.iter().map(|&(_, n)| n).sum();
        hits as f32 / self.rays.max(1) as f32
    }

    /// Objects covering at least `min_share` of the frame.
    pub fn visible_objects(&self, min_share: f32) -> usize {
        let floor = min_share * self.rays as f32;
        self.per_object
            .iter()
            .filter(|&&(_, n)| n as f32 >= floor)
            .count()
    }
}

/// The shape a ray is tested against, in the part's unscaled local frame.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Axis-aligned box with these half extents.
    Box(Vec3),
    /// Sphere of this radius.
    Sphere(f32),
    /// Cylinder along y: radius, half height.
    Cylinder(f32, f32),
}

/// One part placed in the world, ready for ray tests.
#[derive(Clone, Debug)]
struct Solid {
    /// Instance id, or 0 for a room surface.
    id: u16,
    /// `part_from_world` rotation (the inverse of the part's world rotation).
    inverse_rotation: [f32; 4],
    translation: Vec3,
    scale: Vec3,
    shape: Shape,
    /// Radius of a sphere about `translation` that holds the part.
    bound: f32,
}

/// Every part of a scene in the world frame, for casting many views' rays.
#[derive(Clone, Debug)]
pub struct SceneGeometry {
    solids: Vec<Solid>,
}

fn dot(a: Vec3, b: Vec3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn conjugate(q: [f32; 4]) -> [f32; 4] {
    [-q[0], -q[1], -q[2], q[3]]
}

impl SceneGeometry {
    /// Collects the parts of `objects`. Object scales are taken as uniform
    /// (the generators use none), so part poses compose exactly.
    pub fn new(objects: &[Object]) -> Self {
        let mut solids = Vec::new();
        for o in objects {
            let id = if is_room_surface(&o.category) {
                0
            } else {
                o.instance_id
            };
            for p in &o.parts {
                let w = &o.world_from_object;
                let rotation = math::quat_mul(w.rotation, p.object_from_part.rotation);
                let scale = [0, 1, 2].map(|k| w.scale[k] * p.object_from_part.scale[k]);
                let translation = w.apply(p.object_from_part.translation);
                let shape = match p.primitive {
                    Primitive::Box { size } => Shape::Box(size.map(|v| v / 2.0)),
                    Primitive::Sphere { radius } => Shape::Sphere(radius),
                    Primitive::Cylinder { radius, height } => Shape::Cylinder(radius, height / 2.0),
                    ref other => Shape::Box(other.half_extents()),
                };
                let he = p.primitive.half_extents();
                let scaled = [0, 1, 2].map(|k| he[k] * scale[k].abs());
                solids.push(Solid {
                    id,
                    inverse_rotation: conjugate(rotation),
                    translation,
                    scale,
                    shape,
                    bound: dot(scaled, scaled).sqrt(),
                });
            }
        }
        SceneGeometry { solids }
    }

    /// The nearest surface along the ray `origin + t · dir` (`dir` unit) beyond
    /// `near`: its instance id (0 for a room surface) and distance.
    pub fn first_hit(&self, origin: Vec3, dir: Vec3, near: f32) -> Option<(u16, f32)> {
        first_hit_among(self.solids.iter(), origin, dir, near)
    }

    /// Casts a `grid × grid` set of rays through `view` (image aspect
    /// `width / height`) and counts what each first meets.
    pub fn coverage(&self, view: &View, aspect: f32, grid: u32) -> ViewCoverage {
        let forward = math::normalize(math::sub(view.target, view.eye));
        let mut right = math::cross(forward, [0.0, 1.0, 0.0]);
        if dot(right, right) < 1e-12 {
            right = [1.0, 0.0, 0.0];
        }
        let right = math::normalize(right);
        let down = math::cross(forward, right);
        let tan_y = (view.vfov_deg.to_radians() / 2.0).tan();
        let tan_x = tan_y * aspect;
        // Only parts whose bounding spheres reach into the view's pyramid.
        let (sec_x, sec_y) = ((1.0 + tan_x * tan_x).sqrt(), (1.0 + tan_y * tan_y).sqrt());
        let in_view: Vec<&Solid> = self
            .solids
            .iter()
            .filter(|s| {
                let v = math::sub(s.translation, view.eye);
                let z = dot(v, forward);
                z + s.bound >= view.near
                    && dot(v, right).abs() <= z * tan_x + s.bound * sec_x
                    && dot(v, down).abs() <= z * tan_y + s.bound * sec_y
            })
            .collect();
        let mut counts: std::collections::BTreeMap<u16, u32> = Default::default();
        let g = grid.max(1);
        for j in 0..g {
            let y = ((j as f32 + 0.5) / g as f32 * 2.0 - 1.0) * tan_y;
            for i in 0..g {
                let x = ((i as f32 + 0.5) / g as f32 * 2.0 - 1.0) * tan_x;
                let d = [0, 1, 2].map(|k| forward[k] + x * right[k] + y * down[k]);
                let len = dot(d, d).sqrt();
                let dir = d.map(|v| v / len);
                // The near plane is planar depth; along this ray it lies `len` times further.
                let hit = first_hit_among(in_view.iter().copied(), view.eye, dir, view.near * len);
                if let Some((id, _)) = hit
                    && id != 0
                {
                    *counts.entry(id).or_default() += 1;
                }
            }
        }
        ViewCoverage {
            rays: g * g,
            per_object: counts.into_iter().collect(),
        }
    }
}

/// The nearest of `solids` along a unit ray, beyond `near`.
fn first_hit_among<'s>(
    solids: impl Iterator<Item = &'s Solid>,
    origin: Vec3,
    dir: Vec3,
    near: f32,
) -> Option<(u16, f32)> {
    let mut best: Option<(u16, f32)> = None;
    for s in solids {
        let to_centre = math::sub(s.translation, origin);
        let along = dot(to_centre, dir);
        let closest2 = dot(to_centre, to_centre) - along * along;
        if closest2 > s.bound * s.bound || along + s.bound < near {
            continue;
        }
        if best.is_some_and(|(_, t)| along - s.bound > t) {
            continue;
        }
        if let Some(t) = s.hit(origin, dir, near)
            && best.is_none_or(|(_, b)| t < b)
        {
            best = Some((s.id, t));
        }
    }
    best
}

impl Solid {
    /// Distance along the unit ray to where it enters this part, if beyond `near`.
    fn hit(&self, origin: Vec3, dir: Vec3, near: f32) -> Option<f32> {
        let o = math::quat_rotate(self.inverse_rotation, math::sub(origin, self.translation));
        let d = math::quat_rotate(self.inverse_rotation, dir);
        // Into the unscaled local frame; the ray parameter keeps its meaning.
        let o = [0, 1, 2].map(|k| o[k] / self.scale[k]);
        let d = [0, 1, 2].map(|k| d[k] / self.scale[k]);
        let (enter, exit) = match self.shape {
            Shape::Box(h) => slab_interval(o, d, h, [true, true, true])?,
            Shape::Sphere(r) => quadratic_interval(dot(d, d), dot(o, d), dot(o, o) - r * r)?,
            Shape::Cylinder(r, hh) => {
                let (a, b) = quadratic_interval(
                    d[0] * d[0] + d[2] * d[2],
                    o[0] * d[0] + o[2] * d[2],
                    o[0] * o[0] + o[2] * o[2] - r * r,
                )?;
                let (c, e) = slab_interval(o, d, [0.0, hh, 0.0], [false, true, false])?;
                (a.max(c), b.min(e))
            }
        };
        (enter <= exit && enter >= near).then_some(enter)
    }
}

/// Parameter interval where `o + t·d` lies within `±h` on the axes marked.
fn slab_interval(o: Vec3, d: Vec3, h: Vec3, axes: [bool; 3]) -> Option<(f32, f32)> {
    let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
    for k in 0..3 {
        if !axes[k] {
            continue;
        }
        if d[k].abs() < 1e-12 {
            if o[k].abs() > h[k] {
                return None;
            }
            continue;
        }
        let (a, b) = ((-h[k] - o[k]) / d[k], (h[k] - o[k]) / d[k]);
        lo = lo.max(a.min(b));
        hi = hi.min(a.max(b));
    }
    (lo <= hi).then_some((lo, hi))
}

/// Roots of `a t² + 2 b t + c` as an interval (where the quadratic is ≤ 0).
fn quadratic_interval(a: f32, b: f32, c: f32) -> Option<(f32, f32)> {
    if a < 1e-12 {
        // Parallel to the axis: inside everywhere or nowhere.
        return (c <= 0.0).then_some((f32::NEG_INFINITY, f32::INFINITY));
    }
    let disc = b * b - a * c;
    if disc < 0.0 {
        return None;
    }
    let s = disc.sqrt();
    Some(((-b - s) / a, (-b + s) / a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Material, Part, Texture, Transform};

    fn object(id: u16, category: &str, primitive: Primitive, at: Vec3) -> Object {
        Object {
            instance_id: id,
            category: category.to_string(),
            shape: primitive.kind().to_string(),
            world_from_object: Transform::from_translation(at),
            parts: vec![Part {
                primitive,
                object_from_part: Transform::from_translation([0.0; 3]),
                material: Material {
                    base_color: [0.5; 3],
                    roughness: 0.5,
                    metallic: 0.0,
                    texture: Texture::plain(),
                },
            }],
        }
    }

    fn view(eye: Vec3, target: Vec3, vfov_deg: f32) -> View {
        View {
            eye,
            target,
            vfov_deg,
            near: 0.05,
            far: 100.0,
        }
    }

    #[test]
    fn a_box_filling_the_view_covers_it_and_one_behind_the_camera_does_not() {
        let wall = object(
            1,
            "wall",
            Primitive::Box {
                size: [40.0, 40.0, 0.1],
            },
            [0.0, 0.0, -10.0],
        );
        let big = object(
            2,
            "cabinet",
            Primitive::Box {
                size: [10.0, 10.0, 1.0],
            },
            [0.0, 0.0, -3.0],
        );
        let g = SceneGeometry::new(&[wall.clone(), big]);
        let front = g.coverage(&view([0.0; 3], [0.0, 0.0, -1.0], 60.0), 1.0, 16);
        assert_eq!(front.object_share(), 1.0);
        assert_eq!(front.visible_objects(0.005), 1);
        let back = g.coverage(&view([0.0; 3], [0.0, 0.0, 1.0], 60.0), 1.0, 16);
        assert_eq!(back.object_share(), 0.0);
        // The wall is a room surface: never counted as an object.
        let only_wall = SceneGeometry::new(&[wall]);
        let c = only_wall.coverage(&view([0.0; 3], [0.0, 0.0, -1.0], 60.0), 1.0, 16);
        assert_eq!(c.object_share(), 0.0);
    }

    #[test]
    fn culling_to_the_view_changes_no_ray() {
        let c = crate::Config::default();
        for seed in 0..8 {
            let spec = crate::generate(&c, crate::scene_seed(4, seed), 4);
            let g = SceneGeometry::new(&spec.objects);
            for v in &spec.views {
                let grid = 12;
                let fast = g.coverage(v, 1.0, grid);
                // The same rays, each against every part.
                let forward = math::normalize(math::sub(v.target, v.eye));
                let right = math::normalize(math::cross(forward, [0.0, 1.0, 0.0]));
                let down = math::cross(forward, right);
                let t = (v.vfov_deg.to_radians() / 2.0).tan();
                let mut counts = std::collections::BTreeMap::<u16, u32>::new();
                for j in 0..grid {
                    for i in 0..grid {
                        let x = ((i as f32 + 0.5) / grid as f32 * 2.0 - 1.0) * t;
                        let y = ((j as f32 + 0.5) / grid as f32 * 2.0 - 1.0) * t;
                        let d = [0, 1, 2].map(|k| forward[k] + x * right[k] + y * down[k]);
                        let len = dot(d, d).sqrt();
                        let hit = g.first_hit(v.eye, d.map(|e| e / len), v.near * len);
                        if let Some((id, _)) = hit.filter(|h| h.0 != 0) {
                            *counts.entry(id).or_default() += 1;
                        }
                    }
                }
                assert_eq!(fast.per_object, counts.into_iter().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn the_share_of_a_sphere_matches_its_projected_disc() {
        // A sphere of radius r at distance D subtends a half-angle asin(r/D); with
        // a 90° field of view the image half-width is 1 (tan 45°).
        let (r, dist) = (1.0f32, 4.0f32);
        let g = SceneGeometry::new(&[object(
            7,
            "clutter",
            Primitive::Sphere { radius: r },
            [0.0, 0.0, -dist],
        )]);
        let c = g.coverage(&view([0.0; 3], [0.0, 0.0, -1.0], 90.0), 1.0, 128);
        let half = (r / dist).asin().tan();
        let expected = std::f32::consts::PI * half * half / 4.0;
        assert!(
            (c.object_share() - expected).abs() < 0.01,
            "{} vs {expected}",
            c.object_share()
        );
    }

    #[test]
    fn nearer_objects_hide_farther_ones_and_rotation_is_honoured() {
        let near_box = object(
            3,
            "clutter",
            Primitive::Box {
                size: [1.0, 1.0, 1.0],
            },
            [0.0, 0.0, -2.0],
        );
        let far_box = object(
            4,
            "clutter",
            Primitive::Box {
                size: [1.0, 1.0, 1.0],
            },
            [0.0, 0.0, -5.0],
        );
        let g = SceneGeometry::new(&[far_box, near_box]);
        assert_eq!(
            g.first_hit([0.0; 3], [0.0, 0.0, -1.0], 0.05).map(|h| h.0),
            Some(3)
        );
        let t = g.first_hit([0.0; 3], [0.0, 0.0, -1.0], 0.05).map(|h| h.1);
        assert!(t.is_some_and(|t| (t - 1.5).abs() < 1e-4), "{t:?}");
        // A bar along z, turned 90° about y, lies along x (x in [1, 5], |z| <= 0.1).
        let mut bar = object(
            5,
            "clutter",
            Primitive::Box {
                size: [0.2, 0.2, 4.0],
            },
            [3.0, 0.0, 0.0],
        );
        bar.world_from_object = bar.world_from_object.with_yaw(std::f32::consts::FRAC_PI_2);
        let g = SceneGeometry::new(&[bar]);
        assert_eq!(
            g.first_hit([4.5, 0.0, 3.0], [0.0, 0.0, -1.0], 0.05)
                .map(|h| h.0),
            Some(5)
        );
        assert!(
            g.first_hit([0.0, 0.0, 1.5], [1.0, 0.0, 0.0], 0.05)
                .is_none()
        );
        // A cylinder's side is round: a ray through its bounding box's corner
        // region, 1.27 radii from the axis, misses it; a cone there is tested by
        // its box and is hit.
        let cylinder = Primitive::Cylinder {
            radius: 1.0,
            height: 2.0,
        };
        let cone = Primitive::Cone {
            radius: 1.0,
            height: 2.0,
        };
        let past_corner = [0.9 + 3.0 / 2f32.sqrt(), 0.0, -5.0 + 0.9 - 3.0 / 2f32.sqrt()];
        let tangent = math::normalize([-1.0, 0.0, 1.0]);
        let g = SceneGeometry::new(&[object(6, "clutter", cylinder, [0.0, 0.0, -5.0])]);
        assert!(g.first_hit(past_corner, tangent, 0.0).is_none());
        assert!(
            g.first_hit([0.95, 0.0, 0.0], [0.0, 0.0, -1.0], 0.0)
                .is_some()
        );
        assert!(
            g.first_hit([0.0, 1.05, 0.0], [0.0, 0.0, -1.0], 0.0)
                .is_none()
        );
        let g = SceneGeometry::new(&[object(8, "clutter", cone, [0.0, 0.0, -5.0])]);
        assert!(g.first_hit(past_corner, tangent, 0.0).is_some());
    }
}
