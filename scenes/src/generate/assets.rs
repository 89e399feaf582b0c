//! Placing meshes of the asset library: as clutter on the floor or on
//! support surfaces, and as furniture on the floor, each scaled from its
//! bounding box to a size drawn for its category.

use super::Builder;
use super::furniture::{self, Piece, Top};
use crate::assets::AssetEntry;
use crate::config::Config;
use crate::math;
use crate::spec::{Material, Part, Primitive, Texture, Transform};

/// The library's entries grouped by category, clutter and furniture apart
/// (indices into `config.asset_library.entries`, categories sorted).
pub(super) fn by_role(config: &Config) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let mut groups: std::collections::BTreeMap<(bool, &str), Vec<usize>> = Default::default();
    for (i, e) in config.asset_library.entries.iter().enumerate() {
        let furniture = config.assets.is_furniture(&e.category);
        groups.entry((furniture, &e.category)).or_default().push(i);
    }
    let (mut clutter, mut furniture) = (Vec::new(), Vec::new());
    for ((is_furniture, _), members) in groups {
        if is_furniture {
            furniture.push(members);
        } else {
            clutter.push(members);
        }
    }
    (clutter, furniture)
}

impl Builder<'_, '_> {
    /// A category uniformly, then one of its entries.
    fn pick(&mut self, groups: &[Vec<usize>]) -> Option<AssetEntry> {
        if groups.is_empty() {
            return None;
        }
        let members = &groups[self.s.index(groups.len())];
        let i = members[self.s.index(members.len())];
        self.config.asset_library.entries.get(i).cloned()
    }

    /// The asset's part, scaled so its largest side measures `size` metres:
    /// the part, and its half extents once placed.
    fn asset_part(&mut self, entry: &AssetEntry, size: f32) -> (Part, [f32; 3]) {
        let scale = size / entry.largest_extent().max(1e-9);
        let half = entry.extent().map(|v| v * scale / 2.0);
        let base_color = if self.s.chance(self.config.assets.tint_probability) {
            self.s.material().base_color
        } else {
            [1.0; 3]
        };
        let part = Part {
            primitive: Primitive::Asset {
                path: entry.path.clone(),
                sha256: entry.sha256.clone(),
                size: half.map(|h| h * 2.0),
            },
            object_from_part: Transform::from_translation([0.0; 3]),
            material: Material {
                base_color,
                roughness: 0.5,
                metallic: 0.0,
                texture: Texture::plain(),
            },
        };
        (part, half)
    }

    /// A clutter asset on support `on` or the floor; whether it found room.
    pub(super) fn clutter_asset(&mut self, on: Option<usize>) -> bool {
        let groups = std::mem::take(&mut self.clutter_assets);
        let entry = self.pick(&groups);
        self.clutter_assets = groups;
        let Some(entry) = entry else {
            return false;
        };
        let range = self.config.assets.size_of(&entry.category);
        let mut size = self.s.uniform(range);
        if let Some(i) = on {
            // The fit is a half extent: the largest side may be twice it.
            match self.support_fit(i) {
                Some(fit) if 2.0 * fit >= range.0 * 0.5 => size = size.min(2.0 * fit),
                _ => return false,
            }
        }
        let (part, half) = self.asset_part(&entry, size);
        let yaw = self.s.yaw();
        let Some((center, base)) = self.find_spot(on, [half[0], half[2]], half[1], yaw) else {
            return false;
        };
        let pose = Transform {
            translation: [center[0], base + half[1], center[1]],
            rotation: math::quat_from_yaw(yaw),
            scale: [1.0; 3],
        };
        self.push(&entry.category, "asset", pose, vec![part]);
        true
    }

    /// A furniture asset as a piece to stand on the floor (its front, `+z`,
    /// facing into the room by the wall), at `assets.furniture_probability`
    /// when the library has furniture; `None` for a built piece instead.
    pub(super) fn furniture_asset(&mut self) -> Option<Piece> {
        // Drawn only with such assets, so scenes without them stay as they were.
        if self.furniture_assets.is_empty()
            || !self.s.chance(self.config.assets.furniture_probability)
        {
            return None;
        }
        let groups = std::mem::take(&mut self.furniture_assets);
        let entry = self.pick(&groups);
        self.furniture_assets = groups;
        let entry = entry?;
        let size = self.s.uniform(self.config.assets.size_of(&entry.category));
        let (mut part, half) = self.asset_part(&entry, size);
        part.object_from_part = Transform::from_translation([0.0, half[1], 0.0]);
        let height = 2.0 * half[1];
        let supports = if self.config.assets.is_support(&entry.category) {
            // The top of its box, a little inside the edges.
            vec![Top {
                center: [0.0, 0.0],
                half: [half[0] * 0.8, half[2] * 0.8],
                height,
                clearance: furniture::OPEN,
            }]
        } else {
            Vec::new()
        };
        Some(Piece {
            category: entry.category.clone(),
            parts: vec![part],
            half: [half[0], half[2]],
            height,
            supports,
        })
    }
}
