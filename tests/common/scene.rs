//! Scenes of known geometry for the renderer tests: a closed room, slabs,
//! plain materials, and rendering specs one renderer at a time.

use engine::Sample;
use engine::render::{RenderJob, RenderSettings, render};
use scenes::{
    Config, Light, LightKind, Material, Object, Part, Primitive, Room, SceneSpec, Texture,
    Transform, View,
};

use super::RENDER;

pub fn plain(rgb: [f32; 3]) -> Material {
    Material {
        base_color: rgb,
        roughness: 0.8,
        metallic: 0.0,
        texture: Texture::plain(),
    }
}

pub fn slab(id: u16, category: &str, size: [f32; 3], at: [f32; 3]) -> Object {
    Object {
        instance_id: id,
        category: category.into(),
        shape: "box".into(),
        world_from_object: Transform::from_translation(at),
        parts: vec![Part {
            primitive: Primitive::Box { size },
            object_from_part: Transform::from_translation([0.0; 3]),
            material: plain([0.5, 0.5, 0.5]),
        }],
    }
}

/// A 6 × 3 × 6 m closed room: floor id 1, ceiling 2, walls 3 (z = -3, facing +z), 4, 5, 6.
pub fn room(views: Vec<View>, extra: Vec<Object>) -> SceneSpec {
    let (w, h, d, t) = (6.0f32, 3.0f32, 6.0f32, 0.2f32);
    let mut objects = vec![
        slab(
            1,
            "floor",
            [w + 2.0 * t, t, d + 2.0 * t],
            [0.0, -t / 2.0, 0.0],
        ),
        slab(
            2,
            "ceiling",
            [w + 2.0 * t, t, d + 2.0 * t],
            [0.0, h + t / 2.0, 0.0],
        ),
        slab(
            3,
            "wall",
            [w + 2.0 * t, h + 2.0 * t, t],
            [0.0, h / 2.0, -d / 2.0 - t / 2.0],
        ),
        slab(
            4,
            "wall",
            [w + 2.0 * t, h + 2.0 * t, t],
            [0.0, h / 2.0, d / 2.0 + t / 2.0],
        ),
        slab(
            5,
            "wall",
            [t, h + 2.0 * t, d + 2.0 * t],
            [-w / 2.0 - t / 2.0, h / 2.0, 0.0],
        ),
        slab(
            6,
            "wall",
            [t, h + 2.0 * t, d + 2.0 * t],
            [w / 2.0 + t / 2.0, h / 2.0, 0.0],
        ),
    ];
    objects.extend(extra);
    SceneSpec {
        seed: 0,
        generator: "test".into(),
        room: Room {
            width: w,
            depth: d,
            height: h,
        },
        objects,
        lights: vec![Light {
            kind: LightKind::Point {
                position: [0.0, 2.7, 0.0],
                range: 30.0,
            },
            color: [1.0; 3],
            intensity: 400_000.0,
            shadows: true,
        }],
        ambient_brightness: 200.0,
        ambient_color: [1.0; 3],
        views,
    }
}

pub fn render_specs(specs: Vec<SceneSpec>, size: u32) -> Vec<Sample> {
    render_with(specs, RenderSettings::new(size, &Config::default()))
}

pub fn render_with(specs: Vec<SceneSpec>, settings: RenderSettings) -> Vec<Sample> {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    render(RenderJob::specs(specs, settings))
        .expect("renderer starts")
        .map(|s| s.expect("frame renders"))
        .collect()
}

pub fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let dot: f64 = (0..3).map(|i| a[i] * b[i]).sum();
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    (dot / (na * nb)).clamp(-1.0, 1.0).acos().to_degrees()
}

/// Eye 1.5 m up at the room's centre, looking at wall 3 (3 m away) along -z.
pub fn wall_view() -> View {
    View {
        eye: [0.0, 1.5, 0.0],
        target: [0.0, 1.5, -1.0],
        vfov_deg: 70.0,
        near: 0.05,
        far: 20.0,
    }
}
