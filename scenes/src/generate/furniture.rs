//! Furniture-like compound objects built from primitives, in an object frame with
//! its origin on the floor at the centre of the footprint, `+y` up.

use super::sampler::Sampler;
use crate::spec::{Material, Part, Primitive, Transform};

/// An oriented rectangle of the floor plan and the heights it fills: what
/// placement keeps objects apart with (a bounding-box test).
#[derive(Clone, Debug)]
pub struct Footprint {
    /// Centre on the floor plan (world x, z).
    pub center: [f32; 2],
    /// Half extents along the rectangle's own x and z axes.
    pub half: [f32; 2],
    /// Rotation about `+y`, radians (as `Transform::with_yaw`).
    pub yaw: f32,
    /// Lowest and highest world y it fills.
    pub y: [f32; 2],
    /// The support this sits on (its furniture's own footprint is not in the way).
    pub on: Option<usize>,
}

impl Footprint {
    /// The rectangle's x and z axes on the floor plan.
    fn axes(&self) -> [[f32; 2]; 2] {
        let (s, c) = self.yaw.sin_cos();
        [[c, -s], [s, c]]
    }

    /// Its half width along the floor-plan direction `n` (unit).
    pub fn reach(&self, n: [f32; 2]) -> f32 {
        let [ax, az] = self.axes();
        self.half[0] * (ax[0] * n[0] + ax[1] * n[1]).abs()
            + self.half[1] * (az[0] * n[0] + az[1] * n[1]).abs()
    }

    /// Whether the two boxes come closer than `margin` (separating-axis test on
    /// the floor plan, and overlapping height spans).
    pub fn overlaps(&self, other: &Footprint, margin: f32) -> bool {
        if self.y[1] <= other.y[0] || other.y[1] <= self.y[0] {
            return false;
        }
        let d = [
            other.center[0] - self.center[0],
            other.center[1] - self.center[1],
        ];
        let [a0, a1] = self.axes();
        let [b0, b1] = other.axes();
        [a0, a1, b0, b1]
            .into_iter()
            .all(|n| (d[0] * n[0] + d[1] * n[1]).abs() < self.reach(n) + other.reach(n) + margin)
    }

    /// Whether the world point `(x, z)` at height `y` lies within `margin` of the box.
    pub fn contains(&self, p: [f32; 2], y: f32, margin: f32) -> bool {
        let probe = Footprint {
            center: p,
            half: [0.0, 0.0],
            yaw: 0.0,
            y: [y, y + 1e-3],
            on: None,
        };
        self.overlaps(&probe, margin)
    }
}

/// A flat surface that clutter can stand on, in the object frame.
#[derive(Clone, Debug)]
pub struct Top {
    /// Centre of the surface on the object's floor plan (x, z).
    pub center: [f32; 2],
    /// Half extents (x, z).
    pub half: [f32; 2],
    /// Height of the surface above the floor.
    pub height: f32,
    /// Free height above it (to the next board, or open).
    pub clearance: f32,
}

/// Free height above an open top.
pub const OPEN: f32 = 10.0;

/// A finished piece: its parts and what placement needs to know.
#[derive(Clone, Debug)]
pub struct Piece {
    pub category: String,
    pub parts: Vec<Part>,
    /// Half extents of its floor plan (object x, z), centred on the origin.
    pub half: [f32; 2],
    pub height: f32,
    /// Surfaces clutter can stand on.
    pub supports: Vec<Top>,
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

fn top(w: f32, d: f32, height: f32) -> Top {
    Top {
        center: [0.0, 0.0],
        half: [w / 2.0, d / 2.0],
        height,
        clearance: OPEN,
    }
}

/// A random piece to stand with its back (object `-z`) against a wall.
pub fn wall_piece(s: &mut Sampler) -> Piece {
    match s.index(10) {
        0..=3 => shelf(s),
        4..=6 => cabinet(s),
        7 => sofa(s),
        _ => table(s),
    }
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
        category: "table".into(),
        parts,
        half: [w / 2.0, d / 2.0],
        height: h,
        supports: vec![top(w, d, h)],
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
        category: "chair".into(),
        parts,
        half: [w / 2.0, w / 2.0],
        height: seat_h + back_h,
        supports: Vec::new(),
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
    let gap = (h - t) / boards as f32;
    let mut supports = Vec::new();
    for i in 0..=boards {
        let y = t / 2.0 + gap * i as f32;
        parts.push(boxed([w - 2.0 * t, t, d], [0.0, y, 0.0], &m));
        // Each board holds things: those below the top up to the next board.
        let inner = [w / 2.0 - t, (d - t) / 2.0];
        supports.push(Top {
            center: [0.0, t / 2.0],
            half: inner,
            height: y + t / 2.0,
            clearance: if i == boards { OPEN } else { gap - t },
        });
    }
    Piece {
        category: "shelf".into(),
        parts,
        half: [w / 2.0, d / 2.0],
        height: h,
        supports,
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
        category: "cabinet".into(),
        parts,
        half: [w / 2.0, d / 2.0 + 0.03],
        height: h,
        supports: vec![top(w, d, h)],
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
        category: "sofa".into(),
        parts,
        half: [w / 2.0, d / 2.0],
        height: seat_h + 0.45,
        // Cushions and the like on the seat, between the arms and before the back.
        supports: vec![Top {
            center: [0.0, back_t / 2.0],
            half: [w / 2.0 - arm_w, (d - back_t) / 2.0],
            height: seat_h,
            clearance: OPEN,
        }],
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
        category: "lamp".into(),
        parts,
        half: [0.22, 0.22],
        height: h + 0.15,
        supports: Vec::new(),
    }
}
