//! Furniture-like compound objects built from primitives, in an object frame with
//! its origin on the floor at the centre of the footprint, `+y` up.

use super::sampler::Sampler;
use crate::spec::{Material, Part, Primitive, Transform};

/// A disc on the floor that other things must keep clear of.
pub struct Footprint {
    pub center: [f32; 2],
    pub radius: f32,
    pub height: f32,
}

impl Footprint {
    /// Whether a disc of radius `r` at `c` does not overlap this footprint.
    pub fn clear_of(&self, c: [f32; 2], r: f32) -> bool {
        let (dx, dz) = (c[0] - self.center[0], c[1] - self.center[1]);
        (dx * dx + dz * dz).sqrt() > self.radius + r
    }
}

/// A flat top that clutter can stand on, in the object frame.
pub struct Top {
    pub half: [f32; 2],
    pub height: f32,
}

/// A finished piece: its parts and what placement needs to know.
pub struct Piece {
    pub category: &'static str,
    pub parts: Vec<Part>,
    pub radius: f32,
    pub height: f32,
    pub support: Option<Top>,
}

fn part(primitive: Primitive, at: [f32; 3], material: &Material) -> Part {
    Part {
        primitive,
        object_from_part: Transform::from_translation(at),
        material: material.clone(),
    }
}

fn boxed(size: [f32; 3], at: [f32; 3], material: &Material) -> Part {
    part(Primitive::Box { size }, at, material)
}

fn radius_of(w: f32, d: f32) -> f32 {
    0.5 * (w * w + d * d).sqrt()
}

/// A random piece of furniture.
pub fn random_piece(s: &mut Sampler) -> Piece {
    match s.index(6) {
        0 => table(s),
        1 => chair(s),
        2 => shelf(s),
        3 => cabinet(s),
        4 => sofa(s),
        _ => lamp(s),
    }
}

fn scale(s: &mut Sampler) -> f32 {
    s.furniture_scale()
}

/// Four legs at the corners of a `w × d` top, inset by `inset`.
fn legs(w: f32, d: f32, h: f32, inset: f32, thick: f32, round: bool, m: &Material) -> Vec<Part> {
    let (x, z) = (w / 2.0 - inset, d / 2.0 - inset);
    [[x, z], [-x, z], [x, -z], [-x, -z]]
        .iter()
        .map(|c| {
            let prim = if round {
                Primitive::Cylinder {
                    radius: thick / 2.0,
                    height: h,
                }
            } else {
                Primitive::Box {
                    size: [thick, h, thick],
                }
            };
            part(prim, [c[0], h / 2.0, c[1]], m)
        })
        .collect()
}

/// A dining or side table.
pub fn table(s: &mut Sampler) -> Piece {
    let k = scale(s);
    let (w, d, h) = (
        s.between(0.7, 1.6) * k,
        s.between(0.5, 0.9) * k,
        s.between(0.65, 0.8),
    );
    sized_table(s, w, d, h)
}

/// The large table of a tabletop scene.
pub fn big_table(s: &mut Sampler) -> Piece {
    let (w, d, h) = (
        s.between(1.2, 2.0),
        s.between(0.8, 1.2),
        s.between(0.7, 0.8),
    );
    sized_table(s, w, d, h)
}

fn sized_table(s: &mut Sampler, w: f32, d: f32, h: f32) -> Piece {
    let top_m = s.material();
    let leg_m = if s.chance(0.5) {
        top_m.clone()
    } else {
        s.material()
    };
    let t = 0.04;
    let round = s.chance(0.5);
    let mut parts = vec![boxed([w, t, d], [0.0, h - t / 2.0, 0.0], &top_m)];
    parts.extend(legs(w, d, h - t, 0.06, 0.05, round, &leg_m));
    Piece {
        category: "table",
        parts,
        radius: radius_of(w, d),
        height: h,
        support: Some(Top {
            half: [w / 2.0, d / 2.0],
            height: h,
        }),
    }
}

/// A chair: seat, four legs and a back.
pub fn chair(s: &mut Sampler) -> Piece {
    let k = scale(s);
    let (w, seat_h) = (0.45 * k, s.between(0.42, 0.48));
    let m = s.material();
    let t = 0.04;
    let mut parts = vec![boxed([w, t, w], [0.0, seat_h - t / 2.0, 0.0], &m)];
    parts.extend(legs(w, w, seat_h - t, 0.03, 0.035, s.chance(0.4), &m));
    let back_h = s.between(0.35, 0.5);
    parts.push(boxed(
        [w, back_h, t],
        [0.0, seat_h + back_h / 2.0, -w / 2.0 + t / 2.0],
        &m,
    ));
    Piece {
        category: "chair",
        parts,
        radius: radius_of(w, w),
        height: seat_h + back_h,
        support: None,
    }
}

/// A bookshelf: two sides, a back and several boards.
pub fn shelf(s: &mut Sampler) -> Piece {
    let k = scale(s);
    let (w, d, h) = (
        s.between(0.6, 1.2) * k,
        s.between(0.25, 0.4),
        s.between(0.9, 2.0),
    );
    let m = s.material();
    let t = 0.025;
    let mut parts = vec![
        boxed([t, h, d], [-w / 2.0 + t / 2.0, h / 2.0, 0.0], &m),
        boxed([t, h, d], [w / 2.0 - t / 2.0, h / 2.0, 0.0], &m),
        boxed([w, h, t], [0.0, h / 2.0, -d / 2.0 + t / 2.0], &m),
    ];
    let boards = 2 + s.index(4);
    for i in 0..=boards {
        let y = t / 2.0 + (h - t) * i as f32 / boards as f32;
        parts.push(boxed([w - 2.0 * t, t, d], [0.0, y, 0.0], &m));
    }
    Piece {
        category: "shelf",
        parts,
        radius: radius_of(w, d),
        height: h,
        support: Some(Top {
            half: [w / 2.0, d / 2.0],
            height: h,
        }),
    }
}

/// A closed cabinet with a handle.
pub fn cabinet(s: &mut Sampler) -> Piece {
    let k = scale(s);
    let (w, d, h) = (
        s.between(0.5, 1.2) * k,
        s.between(0.4, 0.6),
        s.between(0.5, 1.1),
    );
    let body = s.material();
    let handle = s.material();
    let parts = vec![
        boxed([w, h, d], [0.0, h / 2.0, 0.0], &body),
        part(
            Primitive::Capsule {
                radius: 0.012,
                length: (h * 0.3).min(0.2),
            },
            [w * 0.3, h * 0.6, d / 2.0 + 0.015],
            &handle,
        ),
    ];
    Piece {
        category: "cabinet",
        parts,
        radius: radius_of(w, d),
        height: h,
        support: Some(Top {
            half: [w / 2.0, d / 2.0],
            height: h,
        }),
    }
}

/// A sofa: base, back and two arms.
pub fn sofa(s: &mut Sampler) -> Piece {
    let k = scale(s);
    let (w, d) = (s.between(1.4, 2.2) * k, s.between(0.8, 1.0));
    let m = s.material();
    let (seat_h, arm_w, back_t) = (0.42, 0.18, 0.2);
    let parts = vec![
        boxed([w, seat_h, d], [0.0, seat_h / 2.0, 0.0], &m),
        boxed(
            [w, 0.45, back_t],
            [0.0, seat_h + 0.225, -d / 2.0 + back_t / 2.0],
            &m,
        ),
        boxed(
            [arm_w, 0.22, d],
            [-w / 2.0 + arm_w / 2.0, seat_h + 0.11, 0.0],
            &m,
        ),
        boxed(
            [arm_w, 0.22, d],
            [w / 2.0 - arm_w / 2.0, seat_h + 0.11, 0.0],
            &m,
        ),
    ];
    Piece {
        category: "sofa",
        parts,
        radius: radius_of(w, d),
        height: seat_h + 0.45,
        support: None,
    }
}

/// A floor lamp: base disc, pole and conical shade.
pub fn lamp(s: &mut Sampler) -> Piece {
    let h = s.between(1.2, 1.7);
    let m = s.material();
    let shade = s.material();
    let parts = vec![
        part(
            Primitive::Cylinder {
                radius: 0.15,
                height: 0.03,
            },
            [0.0, 0.015, 0.0],
            &m,
        ),
        part(
            Primitive::Cylinder {
                radius: 0.015,
                height: h,
            },
            [0.0, h / 2.0, 0.0],
            &m,
        ),
        part(
            Primitive::Cone {
                radius: 0.22,
                height: 0.3,
            },
            [0.0, h, 0.0],
            &shade,
        ),
    ];
    Piece {
        category: "lamp",
        parts,
        radius: 0.25,
        height: h + 0.15,
        support: None,
    }
}
