//! The scene description: pure data, serialisable, renderer-agnostic.

use serde::{Deserialize, Serialize};

use crate::math::{self, Mat4, Vec3};
pub use crate::textures::PhotoTexture;

/// One procedural scene: everything a renderer needs to draw it from every view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneSpec {
    /// Seed this scene was generated from.
    pub seed: u64,
    /// Name of the generator that built it (`room`, `tabletop`).
    pub generator: String,
    /// Interior size of the room; its floor, walls and ceiling are objects too.
    pub room: Room,
    /// Every object, room surfaces included, each with a unique instance id.
    pub objects: Vec<Object>,
    /// Light sources.
    pub lights: Vec<Light>,
    /// Ambient (environment) light level, in cd/m² as Bevy's `AmbientLight` takes it.
    pub ambient_brightness: f32,
    /// Linear RGB colour of the ambient light (white in scenes from before it existed).
    #[serde(default = "white")]
    pub ambient_color: Vec3,
    /// Camera views to render of this scene.
    pub views: Vec<View>,
}

fn white() -> Vec3 {
    [1.0; 3]
}

/// Categories of the room's own surfaces; every other category is an object.
pub const ROOM_SURFACES: [&str; 3] = ["floor", "wall", "ceiling"];

/// Whether `category` names one of the room's own surfaces (floor, wall, ceiling)
/// rather than an object standing in it.
pub fn is_room_surface(category: &str) -> bool {
    ROOM_SURFACES.contains(&category)
}

/// The room's interior extent, in metres, centred on the origin with its floor at `y = 0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// Extent along x.
    pub width: f32,
    /// Extent along z.
    pub depth: f32,
    /// Extent along y (floor to ceiling).
    pub height: f32,
}

/// One instance: a rigid object made of one or more primitive parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Instance id written to the instance map (1-based; 0 means no surface).
    pub instance_id: u16,
    /// Semantic category (`floor`, `wall`, `table`, `chair`, `clutter`, …).
    pub category: String,
    /// Short description of its geometry (`box`, `table`, `torus`, …).
    pub shape: String,
    /// Pose of the object in the world.
    pub world_from_object: Transform,
    /// The primitives it is built from, posed in the object's frame.
    pub parts: Vec<Part>,
}

/// A primitive placed in its object's frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The primitive's shape and size.
    pub primitive: Primitive,
    /// Pose of the primitive in the object's frame.
    pub object_from_part: Transform,
    /// Surface appearance.
    pub material: Material,
}

/// Primitive shapes, sized in metres, centred on their local origin, axis along `+y`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Primitive {
    /// Axis-aligned box with full side lengths.
    Box {
        /// Full extent along x, y, z.
        size: Vec3,
    },
    /// Sphere.
    Sphere {
        /// Radius.
        radius: f32,
    },
    /// Capped cylinder along y.
    Cylinder {
        /// Radius.
        radius: f32,
        /// Full height.
        height: f32,
    },
    /// Cone along y, apex up.
    Cone {
        /// Base radius.
        radius: f32,
        /// Full height.
        height: f32,
    },
    /// Capsule along y.
    Capsule {
        /// Radius of the hemispheres and the cylinder.
        radius: f32,
        /// Length of the cylindrical middle section.
        length: f32,
    },
    /// Torus in the xz plane.
    Torus {
        /// Distance from the centre to the tube's centre line.
        major_radius: f32,
        /// Tube radius.
        minor_radius: f32,
    },
    /// A mesh of the run's asset library, its bounding box centred on the
    /// part's origin and scaled to `size`. Its own materials and textures are
    /// drawn, their base colours multiplied by the part's `material.base_color`
    /// (the part's other material fields are not used).
    Asset {
        /// Path of the file (an [`AssetEntry::path`](crate::assets::AssetEntry)).
        path: String,
        /// Its content hash, so a sample names exactly the mesh it shows.
        sha256: String,
        /// Full extents of its bounding box as placed, metres.
        size: Vec3,
    },
}

impl Primitive {
    /// Half extents of the primitive's axis-aligned bounding box in its own frame.
    pub fn half_extents(&self) -> Vec3 {
        match *self {
            Primitive::Box { size } => [size[0] / 2.0, size[1] / 2.0, size[2] / 2.0],
            Primitive::Sphere { radius } => [radius; 3],
            Primitive::Cylinder { radius, height } | Primitive::Cone { radius, height } => {
                [radius, height / 2.0, radius]
            }
            Primitive::Capsule { radius, length } => [radius, length / 2.0 + radius, radius],
            Primitive::Torus {
                major_radius,
                minor_radius,
            } => {
                let r = major_radius + minor_radius;
                [r, minor_radius, r]
            }
            Primitive::Asset { size, .. } => [size[0] / 2.0, size[1] / 2.0, size[2] / 2.0],
        }
    }

    /// Name of the primitive kind (`box`, `sphere`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Primitive::Box { .. } => "box",
            Primitive::Sphere { .. } => "sphere",
            Primitive::Cylinder { .. } => "cylinder",
            Primitive::Cone { .. } => "cone",
            Primitive::Capsule { .. } => "capsule",
            Primitive::Torus { .. } => "torus",
            Primitive::Asset { .. } => "asset",
        }
    }
}

/// A rigid transform with scale: `p_parent = translation + rotation · (scale ⊙ p_local)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// Translation in metres.
    pub translation: Vec3,
    /// Unit quaternion `[x, y, z, w]`.
    pub rotation: [f32; 4],
    /// Per-axis scale.
    pub scale: Vec3,
}

impl Transform {
    /// A translation only.
    pub fn from_translation(translation: Vec3) -> Self {
        Transform {
            translation,
            rotation: [0.0, 0.0, 0.0, 1.0],
            scale: [1.0; 3],
        }
    }

    /// This transform followed by a rotation of `angle` radians about `+y`.
    pub fn with_yaw(mut self, angle: f32) -> Self {
        self.rotation = math::quat_mul(math::quat_from_yaw(angle), self.rotation);
        self
    }

    /// Maps a point from the local frame to the parent frame.
    pub fn apply(&self, p: Vec3) -> Vec3 {
        let s = [
            p[0] * self.scale[0],
            p[1] * self.scale[1],
            p[2] * self.scale[2],
        ];
        let r = math::quat_rotate(self.rotation, s);
        [
            r[0] + self.translation[0],
            r[1] + self.translation[1],
            r[2] + self.translation[2],
        ]
    }
}

/// Surface appearance of a part (metallic-roughness PBR).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// Base colour, linear RGB in `[0, 1]`.
    pub base_color: Vec3,
    /// Perceptual roughness in `[0, 1]`.
    pub roughness: f32,
    /// Metalness in `[0, 1]`.
    pub metallic: f32,
    /// Procedural pattern multiplied onto the base colour.
    pub texture: Texture,
}

/// A procedural grey pattern in `[1 - contrast, 1]` that modulates the base colour.
///
/// Patterns are drawn from a few discrete frequencies so a renderer can cache them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Texture {
    /// Which pattern.
    pub pattern: Pattern,
    /// Pattern cycles per texture-coordinate unit.
    pub frequency: u32,
    /// Depth of the modulation in `[0, 1]` (0 = plain).
    pub contrast: f32,
    /// A photograph used as albedo instead of the pattern (from the run's
    /// texture library), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoTexture>,
}

impl Texture {
    /// A uniform texture (no pattern, no photo).
    pub fn plain() -> Self {
        Texture {
            pattern: Pattern::Plain,
            frequency: 1,
            contrast: 0.0,
            photo: None,
        }
    }

    /// Where the texture comes from, as the sample JSON records it:
    /// `photo:PATH#SHA256`, `pattern:KIND/FREQUENCY/CONTRAST` or `plain`.
    pub fn source(&self) -> String {
        match &self.photo {
            Some(p) => format!("photo:{}#{}", p.path, p.sha256),
            None if self.pattern == Pattern::Plain || self.contrast <= 0.0 => "plain".to_string(),
            None => format!(
                "pattern:{}/{}/{:.1}",
                self.pattern.name(),
                self.frequency,
                self.contrast
            ),
        }
    }
}

/// Procedural pattern kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Uniform colour.
    Plain,
    /// Parallel stripes.
    Stripes,
    /// Checkerboard.
    Checker,
    /// Smooth value noise.
    Noise,
}

impl Pattern {
    /// The pattern's name as serialised (`plain`, `stripes`, `checker`, `noise`).
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Plain => "plain",
            Pattern::Stripes => "stripes",
            Pattern::Checker => "checker",
            Pattern::Noise => "noise",
        }
    }
}

/// A light source, with colour as linear RGB and intensity in Bevy's units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Light {
    /// Kind and placement.
    pub kind: LightKind,
    /// Linear RGB colour (e.g. from a colour temperature).
    pub color: Vec3,
    /// Luminous power in lumens (point, spot) or illuminance in lux (directional).
    pub intensity: f32,
    /// Whether it casts shadows.
    pub shadows: bool,
}

/// Light kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LightKind {
    /// Omnidirectional light at a position.
    Point {
        /// World position.
        position: Vec3,
        /// Range beyond which it has no effect.
        range: f32,
    },
    /// Cone-shaped light.
    Spot {
        /// World position.
        position: Vec3,
        /// World point it aims at.
        target: Vec3,
        /// Half-angle of the outer cone, degrees.
        outer_angle_deg: f32,
        /// Range beyond which it has no effect.
        range: f32,
    },
    /// Parallel light (sun through a window).
    Directional {
        /// Unit direction the light travels in, world frame.
        direction: Vec3,
    },
}

/// A pinhole camera view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Camera centre in the world.
    pub eye: Vec3,
    /// World point on the optical axis; the image's up is world `+y`.
    pub target: Vec3,
    /// Vertical field of view, degrees.
    pub vfov_deg: f32,
    /// Near clipping distance, metres.
    pub near: f32,
    /// Far clipping distance, metres.
    pub far: f32,
}

impl View {
    /// Camera pose, OpenCV convention (x right, y down, z forward), row-major.
    pub fn world_from_camera(&self) -> Mat4 {
        math::look_at_world_from_camera(self.eye, self.target)
    }
}

impl SceneSpec {
    /// Canonical JSON text of the spec (stable field order, no whitespace).
    pub fn to_json(&self) -> String {
        // Serialising plain data with finite floats cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
