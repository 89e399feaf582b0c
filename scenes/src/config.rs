//! Domain-randomisation ranges and render-quality settings, read from TOML.
//!
//! Every field has a built-in default ([`Config::default`]); a file only needs
//! the keys it changes. Unknown keys are rejected so that a typo is never
//! silently ignored. [`Config::validate`] names the offending field.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::assets::{AssetLibrary, AssetsConfig};
use crate::textures::TextureLibrary;

/// An inclusive `[min, max]` range of a real value, written `[min, max]` in TOML.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range(pub f32, pub f32);

/// An inclusive `[min, max]` range of a count, written `[min, max]` in TOML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRange(pub u32, pub u32);

/// Errors reading or checking a scene configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read scene config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown key or a wrongly typed value.
    #[error("invalid scene config {path}: {message}")]
    Parse {
        /// The file (or `<string>`).
        path: String,
        /// The parser's message, naming the key and line.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("scene config field `{field}` {message}")]
    Invalid {
        /// Dotted field path, e.g. `camera.vfov_deg`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Which scene generator(s) to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorKind {
    /// An indoor room with furniture and clutter.
    Room,
    /// A table in a room, covered with clutter, seen from close by.
    Tabletop,
    /// Each scene picks one of the above at random (by its seed).
    Mixed,
}

/// The whole generation config: scene randomisation plus render quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Scene generator.
    pub generator: GeneratorKind,
    /// Probability that a `mixed` scene is a tabletop.
    pub tabletop_probability: f32,
    /// Room size ranges.
    pub room: RoomConfig,
    /// Object counts and sizes.
    pub objects: ObjectConfig,
    /// Material randomisation.
    pub materials: MaterialConfig,
    /// Light randomisation.
    pub lights: LightConfig,
    /// Camera randomisation.
    pub camera: CameraConfig,
    /// Render quality.
    pub render: RenderQuality,
    /// Mesh asset libraries and how their assets are placed.
    pub assets: AssetsConfig,
    /// The images of `materials.texture_folders`, scanned by whoever loads
    /// the config (not written to TOML; its paths and hashes are part of
    /// [`Config::hash_hex`]).
    #[serde(skip)]
    pub texture_library: TextureLibrary,
    /// The meshes of `assets.folders`, scanned by whoever loads the config
    /// (not written to TOML; its paths and hashes are part of
    /// [`Config::hash_hex`]).
    #[serde(skip)]
    pub asset_library: AssetLibrary,
}

/// Room size ranges, metres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoomConfig {
    /// Extent along x.
    pub width: Range,
    /// Extent along z.
    pub depth: Range,
    /// Floor to ceiling.
    pub height: Range,
}

/// Object counts and sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectConfig {
    /// Free-standing furniture pieces (tables, chairs, shelves, cabinets,
    /// sofas, lamps) in a room scene.
    pub furniture: CountRange,
    /// Pieces standing with their backs to a wall (shelves, cabinets, sofas,
    /// tables) in a room scene.
    pub wall_furniture: CountRange,
    /// Loose primitives on the floor or on a random support surface.
    pub clutter: CountRange,
    /// Primitives put on every support surface (table tops, each shelf board,
    /// cabinet tops, sofa seats), as many as fit.
    pub clutter_per_support: CountRange,
    /// Clutter items on the table of a tabletop scene.
    pub tabletop_clutter: CountRange,
    /// Size of a clutter item (its largest half-extent), metres.
    pub clutter_size: Range,
    /// Uniform scale applied to furniture.
    pub furniture_scale: Range,
}

/// Material randomisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaterialConfig {
    /// HSV saturation of base colours.
    pub saturation: Range,
    /// HSV value of base colours.
    pub value: Range,
    /// Perceptual roughness.
    pub roughness: Range,
    /// Metalness (keep low: no environment map is rendered).
    pub metallic: Range,
    /// Probability that a part carries a stripes / checker / noise pattern.
    pub textured_probability: f32,
    /// Pattern contrast.
    pub contrast: Range,
    /// Folders of PNG / JPEG photographs used as albedo textures (searched
    /// recursively); none by default.
    pub texture_folders: Vec<String>,
    /// Probability that a surface carries a photo from `texture_folders`
    /// instead of a colour and procedural pattern.
    pub photo_probability: f32,
    /// Repeats of a photo crop per texture-coordinate unit (a face of a
    /// primitive spans one unit).
    pub photo_scale: Range,
}

/// Light randomisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LightConfig {
    /// Number of point or spot lights.
    pub count: CountRange,
    /// Luminous power of a point or spot light, lumens.
    pub intensity_lm: Range,
    /// Colour temperature, kelvin.
    pub temperature_k: Range,
    /// Probability that a light is a spot rather than a point light.
    pub spot_probability: f32,
    /// Probability that the scene also has a directional (sun) light.
    pub directional_probability: f32,
    /// Illuminance of the directional light, lux.
    pub directional_lux: Range,
    /// Ambient light level.
    pub ambient: Range,
    /// Colour temperature of the ambient light, kelvin (daylight sky to warm bounce light).
    pub ambient_temperature_k: Range,
    /// Whether lights cast shadows.
    pub shadows: bool,
}

/// Camera randomisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// Eye height above the floor in room scenes, metres.
    pub height: Range,
    /// Pitch below the horizon in room scenes, degrees (positive looks down).
    pub pitch_deg: Range,
    /// Pitch below the horizon in tabletop scenes, degrees.
    pub tabletop_pitch_deg: Range,
    /// Distance to the table centre in tabletop scenes, metres.
    pub tabletop_distance: Range,
    /// Vertical field of view, degrees.
    pub vfov_deg: Range,
    /// Near clipping distance, metres.
    pub near: f32,
    /// Probability that a room view is aimed at a piece of content (a support
    /// surface, furniture or clutter) rather than in a random direction.
    pub aim_probability: f32,
    /// Distance from the eye to the content an aimed room view looks at, metres.
    pub aim_distance: Range,
    /// A view is drawn again (up to `view_attempts` times, keeping the best)
    /// while objects cover less than this share of it, as estimated by
    /// casting rays against the scene's geometry before rendering.
    pub min_object_share: f32,
    /// The same for the number of objects that each cover at least 0.5 % of it.
    pub min_visible_objects: u32,
    /// Candidate views drawn per view at most (1 takes the first as it is).
    pub view_attempts: u32,
}

/// Revision of the scene generators, part of [`Config::hash_hex`]: raised
/// whenever the same config and seed would give a different scene.
///
/// 2: furniture along the walls, clutter on every support surface, aimed and
/// coverage-checked views, tinted ambient light.
pub const GENERATOR_REVISION: u32 = 2;

/// Most frames one render pass may hold (`render.views_per_pass`).
pub const MAX_VIEWS_PER_PASS: u32 = 64;

/// How RGB images are shaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShadingProfile {
    /// Physically based shading with the lights' shadow maps and ACES tone mapping.
    #[default]
    Full,
    /// The same lights, shadow maps, materials and tone mapping with Lambert
    /// shading (no specular term), shadow maps read with one hardware 2×2
    /// comparison, and no dithering: the cheapest image the labels still match.
    /// Set `lights.shadows = false` for no shadow maps at all.
    Fast,
}

impl ShadingProfile {
    /// Every profile, in documentation order.
    pub const ALL: [ShadingProfile; 2] = [ShadingProfile::Full, ShadingProfile::Fast];

    /// The profile's name as written in configs and sample metadata.
    pub fn name(self) -> &'static str {
        match self {
            ShadingProfile::Full => "full",
            ShadingProfile::Fast => "fast",
        }
    }
}

impl std::str::FromStr for ShadingProfile {
    type Err = String;

    /// Parses a profile's name (`full` or `fast`), as command lines give it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown shading profile `{s}` (expected `full` or `fast`)"))
    }
}

/// Render-quality knobs (the renderer reads them; they do not change the scene).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RenderQuality {
    /// Side of each shadow map, texels (point lights use a cube of this size).
    pub shadow_map_size: u32,
    /// Relative depth jump between 4-neighbours that marks a contour pixel.
    pub contour_depth_threshold: f32,
    /// Shading of the RGB images (`full` or `fast`); the labels are the same.
    pub profile: ShadingProfile,
    /// Frames of one scene rendered together, each by its own camera, so
    /// shadow maps and per-update costs are shared. Changes speed only, never
    /// pixels, so it is not part of the config hash.
    pub views_per_pass: u32,
}

/// Default of `render.views_per_pass`.
pub const DEFAULT_VIEWS_PER_PASS: u32 = 4;

impl Default for Config {
    fn default() -> Self {
        Config {
            generator: GeneratorKind::Mixed,
            tabletop_probability: 0.3,
            room: RoomConfig::default(),
            objects: ObjectConfig::default(),
            materials: MaterialConfig::default(),
            lights: LightConfig::default(),
            camera: CameraConfig::default(),
            render: RenderQuality::default(),
            assets: AssetsConfig::default(),
            texture_library: TextureLibrary::default(),
            asset_library: AssetLibrary::default(),
        }
    }
}

impl Default for RoomConfig {
    fn default() -> Self {
        RoomConfig {
            width: Range(3.5, 8.0),
            depth: Range(3.5, 8.0),
            height: Range(2.4, 3.2),
        }
    }
}

impl Default for ObjectConfig {
    fn default() -> Self {
        ObjectConfig {
            furniture: CountRange(1, 3),
            wall_furniture: CountRange(3, 8),
            clutter: CountRange(10, 24),
            clutter_per_support: CountRange(2, 6),
            tabletop_clutter: CountRange(10, 24),
            clutter_size: Range(0.05, 0.25),
            furniture_scale: Range(0.8, 1.2),
        }
    }
}

impl Default for MaterialConfig {
    fn default() -> Self {
        MaterialConfig {
            saturation: Range(0.0, 0.85),
            value: Range(0.15, 0.95),
            roughness: Range(0.25, 1.0),
            metallic: Range(0.0, 0.3),
            textured_probability: 0.5,
            contrast: Range(0.2, 0.6),
            texture_folders: Vec::new(),
            photo_probability: 0.5,
            photo_scale: Range(0.5, 3.0),
        }
    }
}

impl Default for LightConfig {
    fn default() -> Self {
        LightConfig {
            count: CountRange(1, 3),
            intensity_lm: Range(200_000.0, 1_000_000.0),
            temperature_k: Range(2700.0, 7500.0),
            spot_probability: 0.3,
            directional_probability: 0.3,
            directional_lux: Range(2_000.0, 10_000.0),
            ambient: Range(300.0, 900.0),
            ambient_temperature_k: Range(3500.0, 9000.0),
            shadows: true,
        }
    }
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            height: Range(0.9, 1.9),
            pitch_deg: Range(0.0, 35.0),
            tabletop_pitch_deg: Range(25.0, 65.0),
            tabletop_distance: Range(0.9, 1.8),
            vfov_deg: Range(45.0, 75.0),
            near: 0.05,
            aim_probability: 0.9,
            aim_distance: Range(1.0, 3.0),
            min_object_share: 0.5,
            min_visible_objects: 10,
            view_attempts: 12,
        }
    }
}

impl Default for RenderQuality {
    fn default() -> Self {
        RenderQuality {
            shadow_map_size: 512,
            contour_depth_threshold: 0.1,
            profile: ShadingProfile::Full,
            views_per_pass: DEFAULT_VIEWS_PER_PASS,
        }
    }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

pub(crate) fn check_range(field: &str, r: Range, lo: f32, hi: f32) -> Result<(), ConfigError> {
    if !(r.0.is_finite() && r.1.is_finite()) {
        return Err(invalid(
            field,
            format!("must be finite, got [{}, {}]", r.0, r.1),
        ));
    }
    if r.0 > r.1 {
        return Err(invalid(field, format!("has min {} > max {}", r.0, r.1)));
    }
    if r.0 < lo || r.1 > hi {
        return Err(invalid(
            field,
            format!("must lie within [{lo}, {hi}], got [{}, {}]", r.0, r.1),
        ));
    }
    Ok(())
}

fn check_count(field: &str, r: CountRange, hi: u32) -> Result<(), ConfigError> {
    if r.0 > r.1 {
        return Err(invalid(field, format!("has min {} > max {}", r.0, r.1)));
    }
    if r.1 > hi {
        return Err(invalid(field, format!("must be at most {hi}, got {}", r.1)));
    }
    Ok(())
}

pub(crate) fn check_probability(field: &str, p: f32) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a probability in [0, 1], got {p}"),
        ))
    }
}

impl Config {
    /// Parses TOML text; `origin` names the source in errors. The result is validated.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// The config as TOML text (the defaults, for `--print-default-config`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// A stable 64-bit FNV-1a hash of the config's canonical JSON, as 16 hex digits.
    pub fn hash_hex(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        // `views_per_pass` changes speed, never a pixel: it stays out of the hash,
        // so data sets written with different values still resume and merge. The
        // default profile is left out too, so configs from before these settings
        // existed keep their hashes.
        let views = format!(",\"views_per_pass\":{}", self.render.views_per_pass);
        let mut json = json
            .replacen(&views, "", 1)
            .replacen(",\"profile\":\"full\"", "", 1);
        // So are the default asset settings: without a library they draw nothing.
        if self.assets == AssetsConfig::default() {
            let assets = serde_json::to_string(&self.assets).unwrap_or_default();
            json = json.replacen(&format!(",\"assets\":{assets}"), "", 1);
        }
        // Scenes built by an older generator from the same config differ: the
        // revision keeps their data sets from being resumed or merged with new ones.
        let mut json = if GENERATOR_REVISION > 1 {
            format!("{json}#generator-revision-{GENERATOR_REVISION}")
        } else {
            json
        };
        if !self.texture_library.is_empty() {
            json = format!("{json}#textures:{}", self.texture_library.fingerprint());
        }
        if !self.asset_library.is_empty() {
            json = format!("{json}#assets:{}", self.asset_library.fingerprint());
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in json.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }

    /// Checks every value against its allowed range, naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_probability("tabletop_probability", self.tabletop_probability)?;
        self.assets.validate()?;
        check_range("room.width", self.room.width, 2.0, 100.0)?;
        check_range("room.depth", self.room.depth, 2.0, 100.0)?;
        check_range("room.height", self.room.height, 1.5, 20.0)?;
        check_count("objects.furniture", self.objects.furniture, 64)?;
        check_count("objects.wall_furniture", self.objects.wall_furniture, 64)?;
        check_count("objects.clutter", self.objects.clutter, 256)?;
        check_count(
            "objects.clutter_per_support",
            self.objects.clutter_per_support,
            64,
        )?;
        check_count(
            "objects.tabletop_clutter",
            self.objects.tabletop_clutter,
            256,
        )?;
        check_range(
            "objects.clutter_size",
            self.objects.clutter_size,
            0.005,
            1.0,
        )?;
        check_range(
            "objects.furniture_scale",
            self.objects.furniture_scale,
            0.1,
            3.0,
        )?;
        check_range("materials.saturation", self.materials.saturation, 0.0, 1.0)?;
        check_range("materials.value", self.materials.value, 0.0, 1.0)?;
        check_range("materials.roughness", self.materials.roughness, 0.0, 1.0)?;
        check_range("materials.metallic", self.materials.metallic, 0.0, 1.0)?;
        check_range("materials.contrast", self.materials.contrast, 0.0, 1.0)?;
        check_probability(
            "materials.textured_probability",
            self.materials.textured_probability,
        )?;
        check_probability(
            "materials.photo_probability",
            self.materials.photo_probability,
        )?;
        check_range(
            "materials.photo_scale",
            self.materials.photo_scale,
            0.0,
            1000.0,
        )?;
        if self.materials.photo_scale.0 <= 0.0 {
            return Err(invalid(
                "materials.photo_scale",
                format!(
                    "must be positive, got [{}, {}]",
                    self.materials.photo_scale.0, self.materials.photo_scale.1
                ),
            ));
        }
        check_count("lights.count", self.lights.count, 16)?;
        check_range("lights.intensity_lm", self.lights.intensity_lm, 0.0, 1.0e9)?;
        check_range(
            "lights.temperature_k",
            self.lights.temperature_k,
            1000.0,
            40000.0,
        )?;
        check_probability("lights.spot_probability", self.lights.spot_probability)?;
        check_probability(
            "lights.directional_probability",
            self.lights.directional_probability,
        )?;
        check_range(
            "lights.directional_lux",
            self.lights.directional_lux,
            0.0,
            1.0e6,
        )?;
        check_range("lights.ambient", self.lights.ambient, 0.0, 1.0e5)?;
        check_range(
            "lights.ambient_temperature_k",
            self.lights.ambient_temperature_k,
            1000.0,
            40000.0,
        )?;
        check_range("camera.height", self.camera.height, 0.05, 20.0)?;
        check_range("camera.pitch_deg", self.camera.pitch_deg, -89.0, 89.0)?;
        check_range(
            "camera.tabletop_pitch_deg",
            self.camera.tabletop_pitch_deg,
            -89.0,
            89.0,
        )?;
        check_range(
            "camera.tabletop_distance",
            self.camera.tabletop_distance,
            0.2,
            20.0,
        )?;
        let fov = self.camera.vfov_deg;
        if !(fov.0 > 0.0 && fov.1 < 180.0) {
            return Err(invalid(
                "camera.vfov_deg",
                format!(
                    "must lie strictly between 0 and 180 degrees, got [{}, {}]",
                    fov.0, fov.1
                ),
            ));
        }
        check_range("camera.vfov_deg", fov, 1.0, 170.0)?;
        if !(self.camera.near > 0.0 && self.camera.near <= 1.0) {
            return Err(invalid(
                "camera.near",
                format!("must be in (0, 1] metres, got {}", self.camera.near),
            ));
        }
        check_probability("camera.aim_probability", self.camera.aim_probability)?;
        check_range("camera.aim_distance", self.camera.aim_distance, 0.2, 50.0)?;
        check_probability("camera.min_object_share", self.camera.min_object_share)?;
        if self.camera.min_visible_objects > 200 {
            return Err(invalid(
                "camera.min_visible_objects",
                format!(
                    "must be at most 200 (no frame holds more objects of 0.5 % each), got {}",
                    self.camera.min_visible_objects
                ),
            ));
        }
        if !(1..=64).contains(&self.camera.view_attempts) {
            return Err(invalid(
                "camera.view_attempts",
                format!("must be in 1..=64, got {}", self.camera.view_attempts),
            ));
        }
        let s = self.render.shadow_map_size;
        if !(16..=8192).contains(&s) || !s.is_power_of_two() {
            return Err(invalid(
                "render.shadow_map_size",
                format!("must be a power of two in [16, 8192], got {s}"),
            ));
        }
        let v = self.render.views_per_pass;
        if !(1..=MAX_VIEWS_PER_PASS).contains(&v) {
            return Err(invalid(
                "render.views_per_pass",
                format!("must be in 1..={MAX_VIEWS_PER_PASS}, got {v}"),
            ));
        }
        let t = self.render.contour_depth_threshold;
        if !(t > 0.0 && t.is_finite()) {
            return Err(invalid(
                "render.contour_depth_threshold",
                format!("must be a positive number, got {t}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = Config::default().to_toml();
        let back = Config::from_toml_str(&text, "<default>").expect("defaults parse");
        assert_eq!(back, Config::default());
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_toml_str("[camera]\nfovv = 3\n", "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("fovv") && msg.contains("x.toml"), "{msg}");
    }

    #[test]
    fn out_of_range_values_are_named() {
        let err = Config::from_toml_str("[camera]\nvfov_deg = [60.0, 180.0]\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("camera.vfov_deg"), "{err}");
        let err = Config::from_toml_str("[room]\nwidth = [-3.0, 4.0]\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("room.width"), "{err}");
        let err = Config::from_toml_str("[objects]\nclutter = [5, 2]\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("objects.clutter"), "{err}");
    }

    #[test]
    fn default_hash_is_stable_across_new_settings() {
        // The default config's hash before `[assets]` existed: data sets
        // written then still resume and merge.
        assert_eq!(Config::default().hash_hex(), "9fd3c46ba5d9c498");
        let mut c = Config::default();
        c.assets.tint_probability = 0.5;
        assert_ne!(c.hash_hex(), "9fd3c46ba5d9c498");
    }

    #[test]
    fn hash_ignores_views_per_pass_but_not_the_profile() {
        let base = Config::default();
        let mut more_views = base.clone();
        more_views.render.views_per_pass = 1;
        assert_eq!(base.hash_hex(), more_views.hash_hex());
        let mut fast = base.clone();
        fast.render.profile = ShadingProfile::Fast;
        assert_ne!(base.hash_hex(), fast.hash_hex());
        // The hash is a stable function of the config and the generator revision.
        assert_eq!(base.hash_hex(), base.clone().hash_hex());
        assert_eq!(base.hash_hex().len(), 16);
        let err = Config::from_toml_str("[render]\nviews_per_pass = 0\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("render.views_per_pass"), "{err}");
        let c = Config::from_toml_str("[render]\nprofile = \"fast\"\n", "r.toml").expect("parses");
        assert_eq!(c.render.profile, ShadingProfile::Fast);
        for p in ShadingProfile::ALL {
            assert_eq!(p.name().parse::<ShadingProfile>(), Ok(p));
        }
        assert!("quick".parse::<ShadingProfile>().is_err());
    }

    #[test]
    fn partial_file_keeps_other_defaults() {
        let c = Config::from_toml_str("generator = \"room\"\n[lights]\nshadows = false\n", "p")
            .expect("parses");
        assert_eq!(c.generator, GeneratorKind::Room);
        assert!(!c.lights.shadows);
        assert_eq!(c.camera, CameraConfig::default());
    }
}
