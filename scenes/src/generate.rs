//! Deterministic scene generators: `(config, seed) -> SceneSpec`.

mod assets;
mod furniture;
mod placement;
mod sampler;
mod views;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, GeneratorKind};
use crate::spec::*;
use furniture::Footprint;
use sampler::Sampler;

/// Seed of scene `scene_index` of a run with base seed `base_seed` (SplitMix64 of both).
///
/// Scenes of one run are independent of each other, so any scene (and any shard)
/// can be generated alone, on any machine, in any order.
pub fn scene_seed(base_seed: u64, scene_index: u64) -> u64 {
    let mut z = base_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(
        scene_index
            .wrapping_add(1)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds the scene of `seed` with `views` camera views. Pure: same inputs, same spec.
pub fn generate(config: &Config, seed: u64, views: u32) -> SceneSpec {
    build(config, seed, views).0
}

/// The scene, and the bounding boxes placement kept apart with their
/// supports' owners (for tests of the placement).
fn build(config: &Config, seed: u64, views: u32) -> (SceneSpec, Vec<Footprint>, Vec<usize>) {
    let mut s = Sampler::new(ChaCha8Rng::seed_from_u64(seed), config);
    let tabletop = match config.generator {
        GeneratorKind::Room => false,
        GeneratorKind::Tabletop => true,
        GeneratorKind::Mixed => s.chance(config.tabletop_probability),
    };
    let mut b = Builder::new(&mut s, config);
    b.room();
    if tabletop {
        b.tabletop_scene(views);
    } else {
        b.room_scene(views);
    }
    b.lights();
    let owners = b.supports.iter().map(|sp| sp.footprint).collect();
    let spec = SceneSpec {
        seed,
        generator: if tabletop { "tabletop" } else { "room" }.to_string(),
        room: b.room.clone(),
        objects: b.objects,
        lights: b.light_list,
        ambient_brightness: b.ambient,
        ambient_color: b.ambient_color,
        views: b.views,
    };
    (spec, b.footprints, owners)
}

/// A surface clutter can stand on, in the world frame.
struct Support {
    center: [f32; 2],
    half: [f32; 2],
    yaw: f32,
    top: f32,
    /// Free height above the surface.
    clearance: f32,
    /// Index of the footprint of the furniture it belongs to.
    footprint: usize,
}

/// The scene under construction and the random source that builds it.
struct Builder<'a, 'r> {
    s: &'a mut Sampler<'r>,
    config: &'a Config,
    room: Room,
    objects: Vec<Object>,
    footprints: Vec<Footprint>,
    supports: Vec<Support>,
    light_list: Vec<Light>,
    ambient: f32,
    ambient_color: [f32; 3],
    views: Vec<View>,
    /// Library entries for clutter and for furniture, by category.
    clutter_assets: Vec<Vec<usize>>,
    furniture_assets: Vec<Vec<usize>>,
}

const WALL_THICKNESS: f32 = 0.1;
/// Gap kept between placed objects' bounding boxes, metres.
pub(crate) const GAP: f32 = 0.02;

impl<'a, 'r> Builder<'a, 'r> {
    fn new(s: &'a mut Sampler<'r>, config: &'a Config) -> Self {
        let (clutter_assets, furniture_assets) = assets::by_role(config);
        Builder {
            s,
            config,
            room: Room {
                width: 0.0,
                depth: 0.0,
                height: 0.0,
            },
            objects: Vec::new(),
            footprints: Vec::new(),
            supports: Vec::new(),
            light_list: Vec::new(),
            ambient: 0.0,
            ambient_color: [1.0; 3],
            views: Vec::new(),
            clutter_assets,
            furniture_assets,
        }
    }

    fn push(&mut self, category: &str, shape: &str, pose: Transform, parts: Vec<Part>) {
        let instance_id = u16::try_from(self.objects.len() + 1).unwrap_or(u16::MAX);
        self.objects.push(Object {
            instance_id,
            category: category.to_string(),
            shape: shape.to_string(),
            world_from_object: pose,
            parts,
        });
    }

    /// Floor, ceiling and four walls: thick boxes overlapping at the corners so no crack shows.
    fn room(&mut self) {
        let rc = &self.config.room;
        let (w, d, h) = (
            self.s.uniform(rc.width),
            self.s.uniform(rc.depth),
            self.s.uniform(rc.height),
        );
        self.room = Room {
            width: w,
            depth: d,
            height: h,
        };
        let t = WALL_THICKNESS;
        let floor_mat = self.s.material_textured();
        let wall_mat = self.s.material_plain_or_textured(0.3);
        let ceiling_mat = self.s.pale_material();
        let slab = |size: [f32; 3], at: [f32; 3], m: &Material| Part {
            primitive: Primitive::Box { size },
            object_from_part: Transform::from_translation(at),
            material: m.clone(),
        };
        let origin = Transform::from_translation([0.0; 3]);
        self.push(
            "floor",
            "box",
            origin,
            vec![slab(
                [w + 2.0 * t, t, d + 2.0 * t],
                [0.0, -t / 2.0, 0.0],
                &floor_mat,
            )],
        );
        self.push(
            "ceiling",
            "box",
            origin,
            vec![slab(
                [w + 2.0 * t, t, d + 2.0 * t],
                [0.0, h + t / 2.0, 0.0],
                &ceiling_mat,
            )],
        );
        let walls = [
            (
                [w + 2.0 * t, h + 2.0 * t, t],
                [0.0, h / 2.0, -d / 2.0 - t / 2.0],
            ),
            (
                [w + 2.0 * t, h + 2.0 * t, t],
                [0.0, h / 2.0, d / 2.0 + t / 2.0],
            ),
            (
                [t, h + 2.0 * t, d + 2.0 * t],
                [-w / 2.0 - t / 2.0, h / 2.0, 0.0],
            ),
            (
                [t, h + 2.0 * t, d + 2.0 * t],
                [w / 2.0 + t / 2.0, h / 2.0, 0.0],
            ),
        ];
        for (size, at) in walls {
            let m = if self.s.chance(0.25) {
                self.s.material_plain_or_textured(0.3)
            } else {
                wall_mat.clone()
            };
            self.push("wall", "box", origin, vec![slab(size, at, &m)]);
        }
    }

    fn room_scene(&mut self, views: u32) {
        self.wall_furniture();
        self.furniture();
        self.fill_supports();
        let n = self.s.count(self.config.objects.clutter);
        self.clutter(n, 0.3);
        let focus = self.focus_points();
        for _ in 0..views {
            let view = self.best_view(|b| b.room_view(&focus));
            self.views.push(view);
        }
    }

    fn tabletop_scene(&mut self, views: u32) {
        let table = furniture::big_table(self.s);
        let top = table.supports.first().map_or(0.75, |s| s.height);
        let yaw = self.s.between(-0.3, 0.3);
        self.place_furniture(table, [0.0, 0.0], yaw);
        for _ in 0..self.s.count(crate::config::CountRange(0, 3)) {
            let chair = furniture::chair(self.s);
            let (hx, hz) = (self.room.width / 2.0, self.room.depth / 2.0);
            let c = [self.s.between(-hx, hx), self.s.between(-hz, hz)];
            let y = self.s.yaw();
            self.place_furniture(chair, c, y);
        }
        let n = self.s.count(self.config.objects.tabletop_clutter);
        // Clutter goes on the big table (support 0) first, a little on the floor.
        let table_support = (!self.supports.is_empty()).then_some(0);
        for _ in 0..n {
            let on_table = self.s.chance(0.85);
            self.clutter_item(if on_table { table_support } else { None });
        }
        for _ in 0..views {
            let view = self.best_view(|b| b.tabletop_view(top));
            self.views.push(view);
        }
    }

    fn lights(&mut self) {
        let lc = self.config.lights.clone();
        let n = self.s.count(lc.count);
        let (hx, hz) = (self.room.width / 2.0 - 0.4, self.room.depth / 2.0 - 0.4);
        let range = 2.0 * (self.room.width + self.room.depth + self.room.height);
        for _ in 0..n {
            let y = self.room.height - self.s.between(0.2, 0.6);
            let position = [self.s.between(-hx, hx), y, self.s.between(-hz, hz)];
            let kind = if self.s.chance(lc.spot_probability) {
                let target = [self.s.between(-hx, hx), 0.0, self.s.between(-hz, hz)];
                LightKind::Spot {
                    position,
                    target,
                    outer_angle_deg: self.s.between(30.0, 60.0),
                    range,
                }
            } else {
                LightKind::Point { position, range }
            };
            let color = self.s.temperature_color(lc.temperature_k);
            let intensity = self.s.uniform(lc.intensity_lm);
            self.light_list.push(Light {
                kind,
                color,
                intensity,
                shadows: lc.shadows,
            });
        }
        if self.s.chance(lc.directional_probability) {
            let yaw = self.s.yaw();
            let elevation = self.s.between(25.0f32, 70.0).to_radians();
            let direction = [
                yaw.sin() * elevation.cos(),
                -elevation.sin(),
                yaw.cos() * elevation.cos(),
            ];
            let color = self
                .s
                .temperature_color(crate::config::Range(5000.0, 6500.0));
            self.light_list.push(Light {
                kind: LightKind::Directional { direction },
                color,
                intensity: self.s.uniform(lc.directional_lux),
                shadows: lc.shadows,
            });
        }
        self.ambient = self.s.uniform(lc.ambient);
        self.ambient_color = self
            .s
            .temperature_color_unit_luminance(lc.ambient_temperature_k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visibility::SceneGeometry;

    #[test]
    fn same_seed_same_bytes_different_seed_different_scene() {
        let c = Config::default();
        let a = generate(&c, 7, 3).to_json();
        let b = generate(&c, 7, 3).to_json();
        assert_eq!(a, b);
        assert_ne!(a, generate(&c, 8, 3).to_json());
    }

    #[test]
    fn scenes_are_well_formed() {
        let c = Config::default();
        for seed in 0..200 {
            let s = generate(&c, scene_seed(3, seed), 4);
            assert_eq!(s.views.len(), 4);
            assert!(s.objects.len() >= 6, "room surfaces always exist");
            let mut ids: Vec<u16> = s.objects.iter().map(|o| o.instance_id).collect();
            ids.dedup();
            assert_eq!(ids.len(), s.objects.len(), "instance ids unique");
            assert!(ids.iter().all(|&i| i > 0));
            for v in &s.views {
                assert!(v.eye[0].abs() < s.room.width / 2.0, "eye inside the room");
                assert!(v.eye[2].abs() < s.room.depth / 2.0);
                assert!(v.eye[1] > 0.0 && v.eye[1] < s.room.height);
                assert!(v.far > v.near);
            }
            assert!(!s.lights.is_empty());
        }
    }

    /// Checks 60 scenes of `c`: every kept box inside the room, none
    /// overlapping another but the furniture holding it.
    fn assert_no_overlaps(c: &Config) {
        for seed in 0..60 {
            let (spec, boxes, owners) = build(c, scene_seed(5, seed), 1);
            let (hw, hd) = (spec.room.width / 2.0, spec.room.depth / 2.0);
            for (i, a) in boxes.iter().enumerate() {
                assert!(
                    a.center[0].abs() + a.reach([1.0, 0.0]) <= hw + 1e-4,
                    "seed {seed}"
                );
                assert!(
                    a.center[1].abs() + a.reach([0.0, 1.0]) <= hd + 1e-4,
                    "seed {seed}"
                );
                for (j, b) in boxes.iter().enumerate().skip(i + 1) {
                    // Things on a support stand within its furniture's box.
                    let holds = |x: &Footprint, k: usize| x.on.is_some_and(|s| owners[s] == k);
                    if holds(a, j) || holds(b, i) {
                        continue;
                    }
                    assert!(
                        !a.overlaps(b, 0.0),
                        "seed {seed}: boxes {i} and {j} overlap"
                    );
                }
            }
        }
    }

    #[test]
    fn placed_objects_do_not_interpenetrate_and_stay_in_the_room() {
        assert_no_overlaps(&Config::default());
        assert_no_overlaps(&with_assets(Config::default()));
    }

    /// `c` with a library of three clutter categories and two furniture ones.
    fn with_assets(mut c: Config) -> Config {
        use crate::assets::{AssetEntry, AssetLibrary};
        let entry = |path: &str, category: &str, max: [f32; 3]| AssetEntry {
            path: path.to_string(),
            sha256: format!("{:064x}", path.len()),
            category: category.to_string(),
            min: [-max[0], 0.0, -max[2]],
            max,
            triangles: 100,
        };
        c.asset_library = AssetLibrary {
            entries: vec![
                entry("lib/mug/a.glb", "mug", [0.5, 1.0, 0.5]),
                entry("lib/mug/b.glb", "mug", [0.4, 1.2, 0.4]),
                entry("lib/book/a.glb", "book", [2.0, 0.5, 3.0]),
                entry("lib/thing/a.obj", "thing", [10.0, 20.0, 5.0]),
                entry("lib/chair/a.glb", "chair", [0.25, 0.9, 0.25]),
                entry("lib/table/a.glb", "table", [60.0, 75.0, 40.0]),
            ],
        };
        c
    }

    #[test]
    fn assets_are_placed_at_their_category_sizes() {
        let plain = Config::default();
        let mut other = plain.clone();
        other.assets.clutter_probability = 0.9;
        other.assets.sizes.clear();
        // Without a library nothing changes, whatever the asset settings.
        assert_eq!(
            generate(&plain, 11, 2).to_json(),
            generate(&other, 11, 2).to_json()
        );
        let c = with_assets(plain.clone());
        assert_ne!(c.hash_hex(), plain.hash_hex(), "the library is in the hash");
        assert_eq!(generate(&c, 4, 2).to_json(), generate(&c, 4, 2).to_json());
        let (mut assets, mut clutter, mut on_tables) = (0usize, 0usize, 0usize);
        let mut categories = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let spec = generate(&c, scene_seed(6, seed), 1);
            let tables: Vec<&Object> = spec
                .objects
                .iter()
                .filter(|o| o.category == "table" && o.shape == "asset")
                .collect();
            for o in &spec.objects {
                let Some(Part {
                    primitive: Primitive::Asset { path, size, .. },
                    ..
                }) = o.parts.first()
                else {
                    if o.category == "clutter" {
                        clutter += 1;
                    }
                    continue;
                };
                assets += 1;
                categories.insert(o.category.clone());
                assert_eq!(o.shape, "asset");
                let e = c
                    .asset_library
                    .entries
                    .iter()
                    .find(|e| &e.path == path)
                    .unwrap();
                assert_eq!(e.category, o.category);
                let largest = size.iter().fold(0.0f32, |a, &b| a.max(b));
                let r = c.assets.size_of(&e.category);
                assert!(largest <= r.1 + 1e-4, "{path}: {largest} over {r:?}");
                // Proportions are kept: one scale for every axis.
                let ext = e.extent();
                let k = size[1] / ext[1];
                assert!((size[0] / ext[0] - k).abs() < 1e-3 * k, "{path}: {size:?}");
                let bottom = o.world_from_object.translation[1]
                    + o.parts[0].object_from_part.translation[1]
                    - size[1] / 2.0;
                let on_table = tables.iter().any(|t| {
                    let top = t.parts[0].object_from_part.translation[1] * 2.0;
                    (bottom - top).abs() < 1e-3
                });
                on_tables += usize::from(on_table);
                assert!(
                    bottom > -1e-3 && bottom + size[1] < spec.room.height,
                    "{path} sinks or pierces the ceiling at {bottom}"
                );
            }
        }
        assert_eq!(
            categories.into_iter().collect::<Vec<_>>(),
            ["book", "chair", "mug", "table", "thing"]
        );
        let share = assets as f32 / (assets + clutter) as f32;
        assert!(share > 0.4, "{assets} assets, {clutter} primitive clutter");
        assert!(on_tables > 0, "clutter stands on table assets");
    }

    #[test]
    fn rooms_are_dense_and_views_are_aimed_at_content() {
        let c = Config::default();
        let mut shares = Vec::new();
        let mut counts = Vec::new();
        for seed in 0..60 {
            let spec = generate(&c, scene_seed(9, seed), 4);
            let things = spec
                .objects
                .iter()
                .filter(|o| !crate::is_room_surface(&o.category))
                .count();
            counts.push(things);
            let g = SceneGeometry::new(&spec.objects);
            shares.extend(
                spec.views
                    .iter()
                    .map(|v| g.coverage(v, 1.0, 32).object_share()),
            );
        }
        counts.sort_unstable();
        shares.sort_by(f32::total_cmp);
        assert!(counts[counts.len() / 2] >= 25, "median objects {counts:?}");
        assert!(
            shares[shares.len() / 2] >= 0.45,
            "median share {}",
            shares[shares.len() / 2]
        );
        let bare = shares.iter().filter(|&&s| s < 0.05).count();
        assert!(
            bare * 50 <= shares.len(),
            "{bare} of {} views nearly bare",
            shares.len()
        );
        // One attempt takes the first candidate: aiming without the check shows less.
        let mut single = c.clone();
        single.camera.view_attempts = 1;
        let mut first: Vec<f32> = Vec::new();
        for seed in 0..60 {
            let spec = generate(&single, scene_seed(9, seed), 4);
            let g = SceneGeometry::new(&spec.objects);
            first.extend(
                spec.views
                    .iter()
                    .map(|v| g.coverage(v, 1.0, 32).object_share()),
            );
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(
            mean(&shares) > mean(&first) + 0.05,
            "{} vs {}",
            mean(&shares),
            mean(&first)
        );
    }

    #[test]
    fn photo_textures_come_from_the_library_at_the_configured_rate() {
        use crate::textures::{CROP_STEPS, TextureEntry, TextureLibrary};
        let plain = Config::default();
        let mut other_rate = plain.clone();
        other_rate.materials.photo_probability = 0.9;
        // Without a library nothing changes: the photo settings draw nothing.
        assert_eq!(
            generate(&plain, 11, 2).to_json(),
            generate(&other_rate, 11, 2).to_json()
        );
        let mut c = plain.clone();
        c.texture_library = TextureLibrary {
            entries: (0..3)
                .map(|i| TextureEntry {
                    path: format!("photos/{i}.jpg"),
                    sha256: format!("{i:064x}"),
                    width: 640,
                    height: 480,
                })
                .collect(),
        };
        assert_ne!(
            c.hash_hex(),
            plain.hash_hex(),
            "the library is part of the hash"
        );
        let (mut photos, mut parts) = (0usize, 0usize);
        for seed in 0..20 {
            let spec = generate(&c, scene_seed(2, seed), 1);
            for part in spec.objects.iter().flat_map(|o| &o.parts) {
                parts += 1;
                if let Some(p) = &part.material.texture.photo {
                    photos += 1;
                    assert!(
                        c.texture_library
                            .entries
                            .iter()
                            .any(|e| e.path == p.path && e.sha256 == p.sha256)
                    );
                    assert!(
                        p.crop[0] < p.crop[2] && p.crop[2] <= CROP_STEPS,
                        "{:?}",
                        p.crop
                    );
                    assert!(
                        p.crop[1] < p.crop[3] && p.crop[3] <= CROP_STEPS,
                        "{:?}",
                        p.crop
                    );
                    assert!(p.scale >= 0.5 && p.scale <= 3.0);
                    assert!(part.material.texture.source().starts_with("photo:photos/"));
                }
            }
        }
        let rate = photos as f32 / parts as f32;
        assert!(
            (0.4..0.6).contains(&rate),
            "{photos} photos of {parts} parts"
        );
    }

    #[test]
    fn both_generators_are_used_by_mixed() {
        let c = Config::default();
        let kinds: std::collections::BTreeSet<String> = (0..50)
            .map(|i| generate(&c, scene_seed(0, i), 1).generator)
            .collect();
        assert!(kinds.contains("room") && kinds.contains("tabletop"));
    }

    #[test]
    fn scene_seeds_differ() {
        let seeds: std::collections::BTreeSet<u64> = (0..1000).map(|i| scene_seed(0, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(scene_seed(0, 0), scene_seed(1, 0));
    }
}
