//! Mesh asset libraries as data: which glTF / OBJ files exist, their
//! categories, native bounding boxes and content hashes, and the settings
//! that place them in scenes. Reading the files is the `engine` crate's work
//! (`engine::assets::scan`); the generators only pick entries, so a scene
//! stays a pure function of the config, the seed and the library.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::{ConfigError, Range, check_probability, check_range, invalid};
use crate::math::Vec3;

/// One usable mesh file of a library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssetEntry {
    /// Path of the file, as found under its folder.
    pub path: String,
    /// Hex SHA-256 of the file's bytes followed by those of every external
    /// file it names (a `.gltf`'s buffers and images, an OBJ's materials and
    /// their textures), in the order it names them.
    pub sha256: String,
    /// Category, from the file's folder under the library root (or its name).
    pub category: String,
    /// Corner of its axis-aligned bounding box with the smallest coordinates,
    /// in the file's own units and frame (`+y` up, as glTF has it).
    pub min: Vec3,
    /// Corner with the largest coordinates.
    pub max: Vec3,
    /// Triangles it draws.
    pub triangles: u32,
}

impl AssetEntry {
    /// Full extents of its bounding box, in its own units.
    pub fn extent(&self) -> Vec3 {
        [
            self.max[0] - self.min[0],
            self.max[1] - self.min[1],
            self.max[2] - self.min[2],
        ]
    }

    /// Its largest extent (positive for any usable entry).
    pub fn largest_extent(&self) -> f32 {
        self.extent().into_iter().fold(0.0, f32::max)
    }
}

/// The mesh files of a run's asset folders, in a fixed (sorted) order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetLibrary {
    /// Usable assets, sorted by path.
    pub entries: Vec<AssetEntry>,
}

impl AssetLibrary {
    /// Whether the library holds no asset.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Text that identifies the library's content (every path and hash), for config hashes.
    pub fn fingerprint(&self) -> String {
        self.entries
            .iter()
            .map(|e| format!("{}={}", e.path, e.sha256))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The category of a file at `relative` (its path under the library root,
/// `/`-separated): its first folder's name, or for a file at the root its
/// name without extension and trailing numbering (`mug_03.glb` → `mug`);
/// lower case.
pub fn category_of(relative: &str) -> String {
    let mut parts = relative.split(['/', '\\']).filter(|s| !s.is_empty());
    let first = parts.next().unwrap_or("");
    let name = if parts.next().is_some() {
        first
    } else {
        let stem = first.rsplit_once('.').map_or(first, |(s, _)| s);
        stem.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '_' | '-' | ' ' | '.'))
    };
    let name = name.trim().to_lowercase();
    if name.is_empty() {
        "object".to_string()
    } else {
        name
    }
}

/// How mesh assets enter scenes (`[assets]` in the scene config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssetsConfig {
    /// Folders of glTF 2.0 (`.glb`, `.gltf`) and Wavefront OBJ files, searched
    /// recursively; a file's category is its first folder's name under the
    /// root (or its own name). None by default.
    pub folders: Vec<String>,
    /// Probability that a clutter item is an asset rather than a primitive.
    pub clutter_probability: f32,
    /// Probability that a free-standing or wall piece of furniture is an
    /// asset of a furniture category rather than a built one.
    pub furniture_probability: f32,
    /// Size of an asset (the largest side of its bounding box), metres, by category.
    pub sizes: BTreeMap<String, Range>,
    /// Size of an asset whose category `sizes` does not name, metres.
    pub default_size: Range,
    /// Categories at least this large (their smallest size, metres) stand on
    /// the floor as furniture; smaller ones are clutter.
    pub furniture_size: f32,
    /// Furniture categories whose bounding-box top is a surface clutter stands on.
    pub support_categories: Vec<String>,
    /// Probability that an asset's own colours are multiplied by a random tint.
    pub tint_probability: f32,
}

impl Default for AssetsConfig {
    fn default() -> Self {
        let sizes = [
            ("mug", 0.08, 0.12),
            ("cup", 0.07, 0.12),
            ("bottle", 0.18, 0.34),
            ("can", 0.1, 0.16),
            ("bowl", 0.12, 0.26),
            ("vase", 0.15, 0.4),
            ("book", 0.15, 0.3),
            ("box", 0.1, 0.45),
            ("plant", 0.2, 0.6),
            ("lamp", 0.3, 0.6),
            ("shoe", 0.22, 0.32),
            ("laptop", 0.3, 0.4),
            ("keyboard", 0.35, 0.45),
            ("stool", 0.5, 0.75),
            ("side_table", 0.5, 0.7),
            ("chair", 0.8, 1.05),
            ("table", 0.8, 1.8),
            ("desk", 1.0, 1.6),
            ("cabinet", 0.6, 1.4),
            ("bookshelf", 1.2, 2.0),
            ("sofa", 1.6, 2.3),
            ("bed", 1.9, 2.2),
        ];
        AssetsConfig {
            folders: Vec::new(),
            clutter_probability: 0.6,
            furniture_probability: 0.5,
            sizes: sizes
                .into_iter()
                .map(|(c, lo, hi)| (c.to_string(), Range(lo, hi)))
                .collect(),
            default_size: Range(0.1, 0.35),
            furniture_size: 0.5,
            support_categories: ["table", "desk", "cabinet", "side_table", "stool"]
                .into_iter()
                .map(String::from)
                .collect(),
            tint_probability: 0.3,
        }
    }
}

impl AssetsConfig {
    /// The size range of `category`.
    pub fn size_of(&self, category: &str) -> Range {
        self.sizes
            .get(category)
            .copied()
            .unwrap_or(self.default_size)
    }

    /// Whether assets of `category` stand on the floor as furniture.
    pub fn is_furniture(&self, category: &str) -> bool {
        self.size_of(category).0 >= self.furniture_size
    }

    /// Whether clutter can stand on top of a furniture asset of `category`.
    pub fn is_support(&self, category: &str) -> bool {
        self.support_categories.iter().any(|c| c == category)
    }

    /// Checks every value, naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_probability("assets.clutter_probability", self.clutter_probability)?;
        check_probability("assets.furniture_probability", self.furniture_probability)?;
        check_probability("assets.tint_probability", self.tint_probability)?;
        check_range("assets.default_size", self.default_size, 0.005, 20.0)?;
        for (category, range) in &self.sizes {
            check_range(&format!("assets.sizes.{category}"), *range, 0.005, 20.0)?;
        }
        if !(self.furniture_size.is_finite() && self.furniture_size > 0.0) {
            return Err(invalid(
                "assets.furniture_size",
                format!(
                    "must be a positive size in metres, got {}",
                    self.furniture_size
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_come_from_folders_or_names() {
        assert_eq!(category_of("mug/blue.glb"), "mug");
        assert_eq!(category_of("Chair/a/b.gltf"), "chair");
        assert_eq!(category_of("mug_03.glb"), "mug");
        assert_eq!(category_of("side_table-2.obj"), "side_table");
        assert_eq!(category_of("42.glb"), "object");
    }

    #[test]
    fn roles_follow_the_size_ranges() {
        let c = AssetsConfig::default();
        assert!(c.is_furniture("chair") && c.is_furniture("stool"));
        assert!(!c.is_furniture("mug") && !c.is_furniture("unheard-of"));
        assert!(c.is_support("table") && !c.is_support("chair"));
        assert_eq!(c.size_of("unheard-of"), c.default_size);
        c.validate().unwrap();
        let mut bad = c.clone();
        bad.sizes.insert("mug".into(), Range(0.2, 0.1));
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("assets.sizes.mug"), "{e}");
    }
}
