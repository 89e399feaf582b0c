//! Random draws used by the generators: ranges, colours, materials, primitives.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, CountRange, Range};
use crate::spec::{Material, Pattern, Primitive, Texture};
use crate::textures::{CROP_STEPS, PhotoTexture};

/// Pattern frequencies a texture may use (few, so a renderer can cache them).
pub const FREQUENCIES: [u32; 4] = [2, 4, 8, 16];

/// A seeded random source plus the ranges it draws from.
pub struct Sampler<'c> {
    rng: ChaCha8Rng,
    config: &'c Config,
}

impl<'c> Sampler<'c> {
    pub fn new(rng: ChaCha8Rng, config: &'c Config) -> Self {
        Sampler { rng, config }
    }

    /// Uniform in `[lo, hi]` (returns `lo` when the range is empty).
    pub fn between(&mut self, lo: f32, hi: f32) -> f32 {
        if hi > lo {
            lo + (hi - lo) * self.rng.random::<f32>()
        } else {
            lo
        }
    }

    pub fn uniform(&mut self, r: Range) -> f32 {
        self.between(r.0, r.1)
    }

    pub fn count(&mut self, r: CountRange) -> u32 {
        if r.1 > r.0 {
            self.rng.random_range(r.0..=r.1)
        } else {
            r.0
        }
    }

    pub fn chance(&mut self, p: f32) -> bool {
        self.rng.random::<f32>() < p
    }

    /// Uniform index in `0..n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// A uniform scale for a furniture piece, from the configured range.
    pub fn furniture_scale(&mut self) -> f32 {
        self.uniform(self.config.objects.furniture_scale)
    }

    /// A random heading in radians.
    pub fn yaw(&mut self) -> f32 {
        self.between(0.0, std::f32::consts::TAU)
    }

    /// Linear RGB from a random hue and the configured saturation and value.
    pub fn color(&mut self) -> [f32; 3] {
        let m = &self.config.materials;
        let (sat, val) = (m.saturation, m.value);
        let h = self.between(0.0, 1.0);
        let s = self.uniform(sat);
        let v = self.uniform(val);
        hsv_to_linear(h, s, v)
    }

    fn texture(&mut self, textured: bool) -> Texture {
        if !textured {
            return Texture::plain();
        }
        let pattern = [Pattern::Stripes, Pattern::Checker, Pattern::Noise][self.index(3)];
        let frequency = FREQUENCIES[self.index(FREQUENCIES.len())];
        // Contrast in steps of 0.1, so the renderer's texture cache stays small.
        let contrast = (self.uniform(self.config.materials.contrast) * 10.0).round() / 10.0;
        Texture {
            pattern,
            frequency,
            contrast,
            photo: None,
        }
    }

    /// A random crop of a random image of the library, randomly tiled.
    fn photo(&mut self) -> Option<PhotoTexture> {
        let library = &self.config.texture_library.entries;
        if library.is_empty() {
            return None;
        }
        let entry = library[self.index(library.len())].clone();
        let steps = CROP_STEPS as usize;
        // At least a quarter of each side, anywhere in the image.
        let span = |s: &mut Self| {
            let len = 2 + s.index(steps - 1);
            let start = s.index(steps - len + 1);
            (start as u32, (start + len) as u32)
        };
        let (x0, x1) = span(self);
        let (y0, y1) = span(self);
        let m = &self.config.materials;
        Some(PhotoTexture {
            path: entry.path,
            sha256: entry.sha256,
            crop: [x0, y0, x1, y1],
            scale: self.uniform(m.photo_scale),
            rotation_deg: self.between(0.0, 360.0),
            offset: [self.between(0.0, 1.0), self.between(0.0, 1.0)],
        })
    }

    fn material_with(&mut self, textured: bool) -> Material {
        let base_color = self.color();
        let m = &self.config.materials;
        let (rough, metal) = (m.roughness, m.metallic);
        let (roughness, metallic) = (self.uniform(rough), self.uniform(metal));
        // With a texture library, any surface may carry a photo instead.
        let p = self.config.materials.photo_probability;
        if !self.config.texture_library.is_empty() && self.chance(p) {
            let grey = self.between(0.75, 1.0);
            return Material {
                base_color: [grey; 3],
                roughness,
                metallic,
                texture: Texture {
                    photo: self.photo(),
                    ..Texture::plain()
                },
            };
        }
        Material {
            base_color,
            roughness,
            metallic,
            texture: self.texture(textured),
        }
    }

    /// A material textured with the configured probability.
    pub fn material(&mut self) -> Material {
        let p = self.config.materials.textured_probability;
        let textured = self.chance(p);
        self.material_with(textured)
    }

    /// A material that always carries a pattern (floors).
    pub fn material_textured(&mut self) -> Material {
        self.material_with(true)
    }

    /// A material textured with probability `p`.
    pub fn material_plain_or_textured(&mut self, p: f32) -> Material {
        let textured = self.chance(p);
        self.material_with(textured)
    }

    /// A light, unsaturated, rough material (ceilings).
    pub fn pale_material(&mut self) -> Material {
        let v = self.between(0.6, 0.95);
        let tint = self.between(-0.03, 0.03);
        Material {
            base_color: [v + tint, v, v - tint],
            roughness: 0.9,
            metallic: 0.0,
            texture: self.texture(false),
        }
    }

    /// A primitive whose largest half-extent is about `size`.
    pub fn primitive(&mut self, size: f32) -> Primitive {
        let aspect = self.between(0.4, 1.0);
        match self.index(6) {
            0 => Primitive::Box {
                size: [
                    2.0 * size,
                    2.0 * size * self.between(0.3, 1.0),
                    2.0 * size * aspect,
                ],
            },
            1 => Primitive::Sphere { radius: size },
            2 => Primitive::Cylinder {
                radius: size * aspect,
                height: 2.0 * size,
            },
            3 => Primitive::Cone {
                radius: size * aspect,
                height: 2.0 * size,
            },
            4 => Primitive::Capsule {
                radius: size * aspect * 0.5,
                length: size,
            },
            _ => Primitive::Torus {
                major_radius: size * 0.7,
                minor_radius: size * 0.3 * aspect,
            },
        }
    }

    /// Linear RGB of a black body at a temperature drawn from `range` (kelvin), max channel 1.
    pub fn temperature_color(&mut self, range: Range) -> [f32; 3] {
        kelvin_to_linear(self.uniform(range))
    }

    /// The same colour scaled to unit luminance (Rec. 709), so warm and cold
    /// light of one level are equally bright.
    pub fn temperature_color_unit_luminance(&mut self, range: Range) -> [f32; 3] {
        let c = self.temperature_color(range);
        let luma = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]).max(1e-3);
        c.map(|v| v / luma)
    }
}

/// HSV (all in `[0, 1]`, read as sRGB) to linear RGB.
pub fn hsv_to_linear(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = (h.fract() * 6.0).min(5.999);
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let rgb = match i as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    };
    rgb.map(srgb_to_linear)
}

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Approximate black-body colour (Tanner Helland's fit), linear RGB, max channel 1.
pub fn kelvin_to_linear(kelvin: f32) -> [f32; 3] {
    let t = kelvin / 100.0;
    let r = if t <= 66.0 {
        255.0
    } else {
        329.698_73 * (t - 60.0).powf(-0.133_204_76)
    };
    let g = if t <= 66.0 {
        99.470_8 * t.ln() - 161.119_57
    } else {
        288.122_16 * (t - 60.0).powf(-0.075_514_85)
    };
    let b = if t >= 66.0 {
        255.0
    } else if t <= 19.0 {
        0.0
    } else {
        138.517_73 * (t - 10.0).ln() - 305.044_8
    };
    let srgb = [r, g, b].map(|c: f32| (c / 255.0).clamp(0.0, 1.0));
    let lin = srgb.map(srgb_to_linear);
    let max = lin.iter().cloned().fold(1e-6, f32::max);
    lin.map(|c| c / max)
}
