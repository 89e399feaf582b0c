//! The warm-up scene: every primitive, every light type, shadows on, so that
//! every pipeline the renderer will need is compiled before the first frame.

use scenes::{
    Config, Light, LightKind, Material, Object, Part, Pattern, Primitive, SceneSpec, Texture,
    Transform,
};

/// A closed room holding one of each primitive and a point, spot and directional light.
pub fn warmup_scene() -> SceneSpec {
    let mut config = Config::default();
    config.generator = scenes::config::GeneratorKind::Room;
    let mut spec = scenes::generate(&config, 0x5EED, 1);
    let material = Material {
        base_color: [0.6, 0.5, 0.4],
        roughness: 0.5,
        metallic: 0.1,
        texture: Texture {
            pattern: Pattern::Checker,
            frequency: 4,
            contrast: 0.5,
            photo: None,
        },
    };
    let primitives = [
        Primitive::Box {
            size: [0.3, 0.3, 0.3],
        },
        Primitive::Sphere { radius: 0.2 },
        Primitive::Cylinder {
            radius: 0.15,
            height: 0.4,
        },
        Primitive::Cone {
            radius: 0.15,
            height: 0.4,
        },
        Primitive::Capsule {
            radius: 0.1,
            length: 0.2,
        },
        Primitive::Torus {
            major_radius: 0.2,
            minor_radius: 0.05,
        },
    ];
    let view = spec.views[0].clone();
    let dir = [
        view.target[0] - view.eye[0],
        view.target[1] - view.eye[1],
        view.target[2] - view.eye[2],
    ];
    let first_id = spec.objects.len() as u16 + 1;
    for (i, primitive) in primitives.into_iter().enumerate() {
        let instance_id = first_id + i as u16;
        let t = 1.2 + 0.1 * i as f32;
        let at = [
            view.eye[0] + dir[0] * t + 0.2 * (i as f32 - 2.5),
            view.eye[1] + dir[1] * t,
            view.eye[2] + dir[2] * t,
        ];
        spec.objects.push(Object {
            instance_id,
            category: "warmup".to_string(),
            shape: primitive.kind().to_string(),
            world_from_object: Transform::from_translation(at),
            parts: vec![Part {
                primitive,
                object_from_part: Transform::from_translation([0.0; 3]),
                material: material.clone(),
            }],
        });
    }
    let top = spec.room.height - 0.3;
    spec.lights = vec![
        Light {
            kind: LightKind::Point {
                position: [0.5, top, 0.5],
                range: 20.0,
            },
            color: [1.0; 3],
            intensity: 100_000.0,
            shadows: true,
        },
        Light {
            kind: LightKind::Spot {
                position: [-0.5, top, -0.5],
                target: [0.0, 0.0, 0.0],
                outer_angle_deg: 45.0,
                range: 20.0,
            },
            color: [1.0; 3],
            intensity: 100_000.0,
            shadows: true,
        },
        Light {
            kind: LightKind::Directional {
                direction: [0.3, -0.8, 0.2],
            },
            color: [1.0; 3],
            intensity: 1000.0,
            shadows: true,
        },
    ];
    spec
}
