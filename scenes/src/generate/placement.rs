//! Placing furniture and clutter: standing on the floor or on support
//! surfaces, inside the room, with no two bounding boxes overlapping.

use super::furniture::{self, Footprint};
use super::{Builder, GAP, Support};
use crate::math;
use crate::spec::{Part, Primitive, Transform};

impl Builder<'_, '_> {
    /// Whether `f` stays inside the room and clear of every footprint but `except`.
    pub(super) fn fits(&self, f: &Footprint, except: Option<usize>) -> bool {
        let in_room = f.center[0].abs() + f.reach([1.0, 0.0]) <= self.room.width / 2.0
            && f.center[1].abs() + f.reach([0.0, 1.0]) <= self.room.depth / 2.0;
        in_room
            && self
                .footprints
                .iter()
                .enumerate()
                .all(|(i, other)| Some(i) == except || !f.overlaps(other, GAP))
    }

    /// Stands `piece` on the floor at `center` with heading `yaw` if it fits there.
    pub(super) fn place_furniture(
        &mut self,
        piece: furniture::Piece,
        center: [f32; 2],
        yaw: f32,
    ) -> bool {
        let footprint = Footprint {
            center,
            half: piece.half,
            yaw,
            y: [0.0, piece.height],
            on: None,
        };
        if !self.fits(&footprint, None) {
            return false;
        }
        let pose = Transform::from_translation([center[0], 0.0, center[1]]).with_yaw(yaw);
        let index = self.footprints.len();
        self.footprints.push(footprint);
        for top in &piece.supports {
            let p = pose.apply([top.center[0], 0.0, top.center[1]]);
            self.supports.push(Support {
                center: [p[0], p[2]],
                half: top.half,
                yaw,
                top: top.height,
                clearance: top.clearance,
                footprint: index,
            });
        }
        let shape = match piece.parts.first().map(|p| &p.primitive) {
            Some(Primitive::Asset { .. }) => "asset",
            _ => &piece.category,
        };
        self.push(&piece.category, shape, pose, piece.parts);
        true
    }

    /// Free-standing pieces anywhere in the room.
    pub(super) fn furniture(&mut self) {
        let n = self.s.count(self.config.objects.furniture);
        for _ in 0..n {
            let piece = self
                .furniture_asset()
                .unwrap_or_else(|| furniture::random_piece(self.s));
            for _ in 0..30 {
                let (hx, hz) = (self.room.width / 2.0, self.room.depth / 2.0);
                let c = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
                let yaw = self.s.yaw();
                if self.place_furniture(piece.clone(), c, yaw) {
                    break;
                }
            }
        }
    }

    /// Pieces with their backs (object `-z`) to a wall, facing into the room.
    pub(super) fn wall_furniture(&mut self) {
        let n = self.s.count(self.config.objects.wall_furniture);
        for _ in 0..n {
            let piece = self
                .furniture_asset()
                .unwrap_or_else(|| furniture::wall_piece(self.s));
            let [hx, hz] = piece.half;
            let (w, d) = (self.room.width / 2.0, self.room.depth / 2.0);
            for _ in 0..30 {
                let wall = self.s.index(4);
                let run = if wall < 2 { w } else { d } - hx;
                if run <= 0.0 {
                    continue;
                }
                let along = self.s.between(-run, run);
                let (center, yaw) = match wall {
                    0 => ([along, -d + hz + GAP], 0.0),
                    1 => ([along, d - hz - GAP], std::f32::consts::PI),
                    2 => ([-w + hz + GAP, along], std::f32::consts::FRAC_PI_2),
                    _ => ([w - hz - GAP, along], -std::f32::consts::FRAC_PI_2),
                };
                if self.place_furniture(piece.clone(), center, yaw) {
                    break;
                }
            }
        }
    }

    /// A loose primitive, upright or lying, on the floor or on support `on`
    /// (an asset of the library instead, at `assets.clutter_probability`).
    /// Returns whether it found room.
    pub(super) fn clutter_item(&mut self, on: Option<usize>) -> bool {
        // Drawn only with a library, so scenes without one stay as they were.
        if !self.clutter_assets.is_empty() && self.s.chance(self.config.assets.clutter_probability)
        {
            return self.clutter_asset(on);
        }
        let mut size = self.s.uniform(self.config.objects.clutter_size);
        if let Some(i) = on {
            match self.support_fit(i) {
                Some(fit) if fit >= self.config.objects.clutter_size.0 * 0.5 => {
                    size = size.min(fit)
                }
                _ => return false,
            }
        }
        let primitive = self.s.primitive(size);
        let lying = matches!(
            primitive,
            Primitive::Cylinder { .. } | Primitive::Capsule { .. }
        ) && self.s.chance(0.35);
        let he = primitive.half_extents();
        // Lying on its side (a quarter turn about x), the y extent runs along z.
        let (rotation, half_height, half) = if lying {
            (
                math::quat_from_axis_angle([1.0, 0.0, 0.0], std::f32::consts::FRAC_PI_2),
                he[2],
                [he[0], he[1]],
            )
        } else {
            ([0.0, 0.0, 0.0, 1.0], he[1], [he[0], he[2]])
        };
        let yaw = self.s.yaw();
        let Some((center, base)) = self.find_spot(on, half, half_height, yaw) else {
            return false;
        };
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
        true
    }

    /// Largest half extent an item may have on support `i` (its surface and
    /// the height above it), if any.
    pub(super) fn support_fit(&self, i: usize) -> Option<f32> {
        let sp = self.supports.get(i)?;
        Some(sp.half[0].min(sp.half[1]).min(sp.clearance / 2.0) * 0.9)
    }

    /// A free spot for an item with floor-plan half extents `half` (in its
    /// frame turned by `yaw`) and half height `half_height`, on the floor or
    /// on support `on`: its centre and the height it stands at. The spot's
    /// footprint is kept, so later items stay clear of it.
    pub(super) fn find_spot(
        &mut self,
        on: Option<usize>,
        half: [f32; 2],
        half_height: f32,
        yaw: f32,
    ) -> Option<([f32; 2], f32)> {
        let reach = (half[0] * half[0] + half[1] * half[1]).sqrt();
        for _ in 0..8 {
            let (center, base) = match on {
                Some(i) => {
                    let sp = &self.supports[i];
                    let (hx, hz) = (sp.half[0] - reach, sp.half[1] - reach);
                    if hx < 0.0 || hz < 0.0 || 2.0 * half_height > sp.clearance {
                        return None;
                    }
                    let local = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
                    let p =
                        math::quat_rotate(math::quat_from_yaw(sp.yaw), [local[0], 0.0, local[1]]);
                    ([sp.center[0] + p[0], sp.center[1] + p[2]], sp.top)
                }
                None => {
                    let (hx, hz) = (self.room.width / 2.0, self.room.depth / 2.0);
                    ([self.s.between(-hx, hx), self.s.between(-hz, hz)], 0.0)
                }
            };
            let footprint = Footprint {
                center,
                half,
                yaw,
                y: [base, base + 2.0 * half_height],
                on,
            };
            let holder = on.map(|i| self.supports[i].footprint);
            if self.fits(&footprint, holder) {
                self.footprints.push(footprint);
                return Some((center, base));
            }
        }
        None
    }

    /// `count` loose items, each on a random support with probability `support_bias`.
    pub(super) fn clutter(&mut self, count: u32, support_bias: f32) {
        for _ in 0..count {
            let support = if !self.supports.is_empty() && self.s.chance(support_bias) {
                Some(self.s.index(self.supports.len()))
            } else {
                None
            };
            self.clutter_item(support);
        }
    }

    /// Items on every support surface, as many of the configured count as fit.
    pub(super) fn fill_supports(&mut self) {
        for i in 0..self.supports.len() {
            let n = self.s.count(self.config.objects.clutter_per_support);
            for _ in 0..n {
                self.clutter_item(Some(i));
            }
        }
    }
}
