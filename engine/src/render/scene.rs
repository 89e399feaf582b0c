//! Turning a `SceneSpec` into Bevy entities, reusing meshes, textures, materials
//! and lights across scenes.

use bevy::asset::RenderAssetUsages;
use bevy::image::{ImageAddressMode, ImageSampler, ImageSamplerDescriptor};
use bevy::light::CascadeShadowConfigBuilder;
use bevy::math::primitives::{Capsule3d, Cone, Cuboid, Cylinder, Sphere, Torus};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use std::collections::HashMap;

use super::asset_mesh::{AssetCache, GpuAsset};
use super::label::{LabelExtension, LabelMaterial};
use scenes::{LightKind, Pattern, Primitive, SceneSpec, ShadingProfile};

/// Meshes, textures, materials and light entities shared by every scene.
#[derive(Resource, Default)]
pub struct SceneAssets {
    meshes: HashMap<MeshKey, Handle<Mesh>>,
    textures: HashMap<(Pattern, u32, u32), Handle<Image>>,
    /// Materials, rewritten in place for each scene: the `i`-th part of a
    /// scene uses the `i`-th, so scenes never add or drop material assets.
    materials: Vec<Handle<LabelMaterial>>,
    lights: LightPool,
    photos: PhotoCache,
    assets: AssetCache,
}

/// Most photos kept on the GPU at once (each at most
/// `textures::LOAD_SIDE` pixels a side); the least recently used go first.
const PHOTO_CACHE: usize = 64;

/// Photos loaded for rendering, by path, with their last use.
#[derive(Default)]
struct PhotoCache {
    images: HashMap<String, (Handle<Image>, u64)>,
    clock: u64,
    /// Images that failed to load (each warned about once).
    failed: std::collections::HashSet<String>,
}

/// The image `photo` names as a repeating sRGB texture, loaded on first use
/// (its crop is drawn through the material's UV transform); `None` (after
/// one warning naming the file) when it cannot be loaded.
fn photo_texture(ctx: &mut SpawnCtx, photo: &scenes::PhotoTexture) -> Option<Handle<Image>> {
    let cache = &mut ctx.cache.photos;
    cache.clock += 1;
    if let Some((handle, used)) = cache.images.get_mut(&photo.path) {
        *used = cache.clock;
        return Some(handle.clone());
    }
    if cache.failed.contains(&photo.path) {
        return None;
    }
    let pixels = match crate::textures::load_image(photo) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("{e}; drawing its surfaces untextured");
            cache.failed.insert(photo.path.clone());
            return None;
        }
    };
    // An evicted image is freed once no material of the scene on screen uses it.
    evict_oldest(&mut cache.images, PHOTO_CACHE);
    let handle = ctx.images.add(srgb_texture(pixels));
    cache
        .images
        .insert(photo.path.clone(), (handle.clone(), cache.clock));
    Some(handle)
}

/// `pixels` (sRGB RGBA) as a repeating, linearly filtered texture.
pub(super) fn srgb_texture(pixels: image::RgbaImage) -> Image {
    let (w, h) = pixels.dimensions();
    let mut image = Image::new(
        Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        pixels.into_raw(),
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.sampler = repeating();
    image
}

/// Drops the least recently used entry of `map` while it holds `limit` or more.
pub(super) fn evict_oldest<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, (V, u64)>,
    limit: usize,
) {
    while map.len() >= limit.max(1) {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        map.remove(&oldest);
    }
}

/// Linear filtering that repeats the texture beyond `[0, 1]`.
fn repeating() -> ImageSampler {
    ImageSampler::Descriptor(ImageSamplerDescriptor {
        address_mode_u: ImageAddressMode::Repeat,
        address_mode_v: ImageAddressMode::Repeat,
        ..ImageSamplerDescriptor::linear()
    })
}

/// The pool's `i`-th material, set to `material` (added on first use).
fn pooled_material(ctx: &mut SpawnCtx, i: usize, material: LabelMaterial) -> Handle<LabelMaterial> {
    // The pool's handles are strong, so its assets are never dropped.
    if let Some(handle) = ctx.cache.materials.get(i) {
        if let Some(mut slot) = ctx.materials.get_mut(handle) {
            *slot = material;
        }
        return handle.clone();
    }
    let handle = ctx.materials.add(material);
    ctx.cache.materials.push(handle.clone());
    handle
}

/// Light entities kept for the whole run and re-posed for each scene.
///
/// Despawning shadow-casting lights scene after scene made Bevy's render world
/// grow and slow down frame after frame (measured: 23 → 10 frames/s and
/// 328 → 514 MiB over 1,400 frames at 64²); reused lights keep both flat.
#[derive(Default)]
struct LightPool {
    points: Vec<Entity>,
    spots: Vec<Entity>,
    directionals: Vec<Entity>,
}

/// The pool's `i`-th entity of a kind, spawned on first use.
fn slot(commands: &mut Commands, pool: &mut Vec<Entity>, i: usize) -> Entity {
    while pool.len() <= i {
        pool.push(
            commands
                .spawn((Transform::IDENTITY, Visibility::Visible))
                .id(),
        );
    }
    pool[i]
}

/// Poses the pooled lights as `spec` asks; lights it does not use go dark.
fn update_lights(ctx: &mut SpawnCtx, spec: &SceneSpec) {
    let far = (spec.room.width.powi(2) + spec.room.depth.powi(2) + spec.room.height.powi(2)).sqrt();
    let pool = &mut ctx.cache.lights;
    let (mut points, mut spots, mut dirs) = (0, 0, 0);
    for light in &spec.lights {
        let color = Color::LinearRgba(LinearRgba::rgb(
            light.color[0],
            light.color[1],
            light.color[2],
        ));
        match &light.kind {
            LightKind::Point { position, range } => {
                let e = slot(&mut ctx.commands, &mut pool.points, points);
                points += 1;
                ctx.commands.entity(e).insert((
                    PointLight {
                        color,
                        intensity: light.intensity,
                        range: *range,
                        shadow_maps_enabled: light.shadows,
                        ..default()
                    },
                    Transform::from_translation(Vec3::from(*position)),
                ));
            }
            LightKind::Spot {
                position,
                target,
                outer_angle_deg,
                range,
            } => {
                let e = slot(&mut ctx.commands, &mut pool.spots, spots);
                spots += 1;
                let outer = outer_angle_deg.to_radians();
                ctx.commands.entity(e).insert((
                    SpotLight {
                        color,
                        intensity: light.intensity,
                        range: *range,
                        outer_angle: outer,
                        inner_angle: outer * 0.8,
                        shadow_maps_enabled: light.shadows,
                        ..default()
                    },
                    Transform::from_translation(Vec3::from(*position))
                        .looking_at(Vec3::from(*target), Vec3::Y),
                ));
            }
            LightKind::Directional { direction } => {
                let e = slot(&mut ctx.commands, &mut pool.directionals, dirs);
                dirs += 1;
                let dir = Vec3::from(*direction).normalize_or(Vec3::NEG_Y);
                let up = if dir.abs_diff_eq(Vec3::NEG_Y, 1e-3) {
                    Vec3::Z
                } else {
                    Vec3::Y
                };
                ctx.commands.entity(e).insert((
                    DirectionalLight {
                        color,
                        illuminance: light.intensity,
                        shadow_maps_enabled: light.shadows,
                        ..default()
                    },
                    CascadeShadowConfigBuilder {
                        num_cascades: 1,
                        maximum_distance: far + 1.0,
                        ..default()
                    }
                    .build(),
                    Transform::from_translation(-dir).looking_at(Vec3::ZERO, up),
                ));
            }
        }
    }
    // Unused lights stay (hiding them brings the growth back): dark, without
    // shadows, and far away with a tiny range so no cluster of the view holds them.
    let parked = Transform::from_xyz(0.0, -1.0e4, 0.0);
    for &e in &pool.points[points..] {
        ctx.commands.entity(e).insert((
            PointLight {
                intensity: 0.0,
                range: 0.01,
                shadow_maps_enabled: false,
                ..default()
            },
            parked,
        ));
    }
    for &e in &pool.spots[spots..] {
        ctx.commands.entity(e).insert((
            SpotLight {
                intensity: 0.0,
                range: 0.01,
                shadow_maps_enabled: false,
                ..default()
            },
            parked,
        ));
    }
    for &e in &pool.directionals[dirs..] {
        ctx.commands.entity(e).insert(DirectionalLight {
            illuminance: 0.0,
            shadow_maps_enabled: false,
            ..default()
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum MeshKey {
    Cube,
    Sphere(Detail),
    Cylinder(Detail),
    Cone(Detail),
    /// Capsule with half length / radius in quarter steps.
    Capsule(u32, Detail),
    /// Torus with minor / major radius in steps of 1/40.
    Torus(u32, Detail),
}

/// Tessellation of a curved primitive: small parts never cover enough pixels
/// to show the facets of half the segments, and each vertex costs a software
/// rasteriser time in every pass (views, labels, shadow maps).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Detail {
    Low,
    High,
}

/// Parts whose largest half extent is under this size, metres, use [`Detail::Low`].
const SMALL_PART_M: f32 = 0.2;

impl Detail {
    fn of(p: &Primitive) -> Self {
        if p.half_extents().into_iter().fold(0.0, f32::max) < SMALL_PART_M {
            Detail::Low
        } else {
            Detail::High
        }
    }

    /// Segments around a full turn.
    fn around(self) -> u32 {
        match self {
            Detail::Low => 20,
            Detail::High => 40,
        }
    }
}

/// Unit mesh for a primitive and the scale that sizes it.
fn mesh_key(p: &Primitive) -> (MeshKey, Vec3) {
    let detail = Detail::of(p);
    match *p {
        Primitive::Box { size } => (MeshKey::Cube, Vec3::from(size)),
        Primitive::Sphere { radius } => (MeshKey::Sphere(detail), Vec3::splat(radius)),
        Primitive::Cylinder { radius, height } => {
            (MeshKey::Cylinder(detail), Vec3::new(radius, height, radius))
        }
        Primitive::Cone { radius, height } => {
            (MeshKey::Cone(detail), Vec3::new(radius, height, radius))
        }
        Primitive::Capsule { radius, length } => {
            let q = ((length / 2.0 / radius.max(1e-6)) * 4.0)
                .round()
                .clamp(0.0, 400.0) as u32;
            (MeshKey::Capsule(q, detail), Vec3::splat(radius))
        }
        Primitive::Torus {
            major_radius,
            minor_radius,
        } => {
            let q = ((minor_radius / major_radius.max(1e-6)) * 40.0)
                .round()
                .clamp(1.0, 39.0) as u32;
            (MeshKey::Torus(q, detail), Vec3::splat(major_radius))
        }
        // An asset that cannot be drawn shows its bounding box.
        Primitive::Asset { size, .. } => (MeshKey::Cube, Vec3::from(size)),
    }
}

fn build_mesh(key: MeshKey) -> Mesh {
    match key {
        MeshKey::Cube => Cuboid::new(1.0, 1.0, 1.0).into(),
        MeshKey::Sphere(d) => Sphere::new(1.0)
            .mesh()
            .uv(d.around() * 6 / 5, d.around() * 3 / 5),
        MeshKey::Cylinder(d) => Cylinder::new(1.0, 1.0).mesh().resolution(d.around()).into(),
        MeshKey::Cone(d) => Cone {
            radius: 1.0,
            height: 1.0,
        }
        .mesh()
        .resolution(d.around())
        .into(),
        MeshKey::Capsule(q, d) => Capsule3d::new(1.0, q as f32 / 4.0 * 2.0)
            .mesh()
            .longitudes(d.around() * 4 / 5)
            .latitudes(d.around() * 2 / 5)
            .into(),
        MeshKey::Torus(q, d) => Torus::new(1.0 - q as f32 / 40.0, 1.0 + q as f32 / 40.0)
            .mesh()
            .minor_resolution(d.around() as usize / 2)
            .major_resolution(d.around() as usize)
            .into(),
    }
}

/// Grey modulation image of a pattern: values in `[1 - contrast, 1]`.
fn pattern_image(pattern: Pattern, frequency: u32, contrast_tenths: u32) -> Image {
    const SIZE: u32 = 128;
    let contrast = contrast_tenths as f32 / 10.0;
    let f = frequency.max(1) as f32;
    let mut data = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let (u, v) = (
                (x as f32 + 0.5) / SIZE as f32,
                (y as f32 + 0.5) / SIZE as f32,
            );
            let t = match pattern {
                Pattern::Plain => 0.0,
                Pattern::Stripes => ((u * f).fract() < 0.5) as u32 as f32,
                Pattern::Checker => (((u * f).floor() + (v * f).floor()) as i64 % 2) as f32,
                Pattern::Noise => value_noise(u * f, v * f, frequency),
            };
            let g = ((1.0 - contrast * t) * 255.0).round() as u8;
            data.extend_from_slice(&[g, g, g, 255]);
        }
    }
    let mut image = Image::new(
        Extent3d {
            width: SIZE,
            height: SIZE,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.sampler = repeating();
    image
}

/// Tileable smooth value noise on a `period × period` lattice, in `[0, 1]`.
fn value_noise(x: f32, y: f32, period: u32) -> f32 {
    let p = period.max(1) as i64;
    let lattice = |i: i64, j: i64| {
        let (i, j) = (i.rem_euclid(p) as u64, j.rem_euclid(p) as u64);
        let mut h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ j.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 32;
        (h & 0xFFFF) as f32 / 65535.0
    };
    let (xi, yi) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let s = |t: f32| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (s(fx), s(fy));
    let a = lattice(xi, yi) * (1.0 - sx) + lattice(xi + 1, yi) * sx;
    let b = lattice(xi, yi + 1) * (1.0 - sx) + lattice(xi + 1, yi + 1) * sx;
    a * (1.0 - sy) + b * sy
}

/// The pool's `i`-th material, set to `m` drawn for instance `instance_id`.
fn part_material(
    ctx: &mut SpawnCtx,
    i: usize,
    m: &scenes::Material,
    instance_id: u16,
    profile: ShadingProfile,
    shadows: bool,
) -> Handle<LabelMaterial> {
    let photo = m.texture.photo.as_ref().and_then(|p| {
        let [a, b, c, d, e, f] = p.uv_affine();
        let uv = bevy::math::Affine2::from_cols_array(&[a, d, b, e, c, f]);
        photo_texture(ctx, p).map(|h| (h, uv))
    });
    let (texture, uv_transform) = match photo {
        Some(t) => t,
        None => (
            pattern_texture(ctx, &m.texture),
            bevy::math::Affine2::IDENTITY,
        ),
    };
    let material = StandardMaterial {
        base_color: Color::LinearRgba(LinearRgba::rgb(
            m.base_color[0],
            m.base_color[1],
            m.base_color[2],
        )),
        base_color_texture: Some(texture),
        perceptual_roughness: m.roughness,
        metallic: m.metallic,
        uv_transform,
        ..default()
    };
    let material = LabelMaterial {
        base: material,
        extension: LabelExtension::new(instance_id, profile, shadows),
    };
    pooled_material(ctx, i, material)
}

/// The pool's `i`-th material, set to an asset's material `m` tinted by
/// `tint` and drawn for instance `instance_id`.
#[allow(clippy::too_many_arguments)]
fn asset_material(
    ctx: &mut SpawnCtx,
    i: usize,
    m: &crate::assets::AssetMaterial,
    texture: Option<Handle<Image>>,
    tint: [f32; 3],
    instance_id: u16,
    profile: ShadingProfile,
    shadows: bool,
) -> Handle<LabelMaterial> {
    let texture = texture.unwrap_or_else(|| pattern_texture(ctx, &scenes::Texture::plain()));
    let [r, g, b, _] = m.base_color;
    let material = StandardMaterial {
        base_color: Color::LinearRgba(LinearRgba::rgb(r * tint[0], g * tint[1], b * tint[2])),
        base_color_texture: Some(texture),
        perceptual_roughness: m.roughness,
        metallic: m.metallic,
        double_sided: m.double_sided,
        cull_mode: (!m.double_sided).then_some(bevy::render::render_resource::Face::Back),
        ..default()
    };
    let material = LabelMaterial {
        base: material,
        extension: LabelExtension::new(instance_id, profile, shadows),
    };
    pooled_material(ctx, i, material)
}

/// Spawns `asset` as part `part` of `parent`; returns the material slots it took.
#[allow(clippy::too_many_arguments)]
fn spawn_asset(
    ctx: &mut SpawnCtx,
    asset: &GpuAsset,
    part: &scenes::Part,
    size: [f32; 3],
    parent: Entity,
    first_slot: usize,
    instance_id: u16,
    profile: ShadingProfile,
    shadows: bool,
) -> usize {
    let mut transform = to_transform(&part.object_from_part);
    let extent = asset.extent;
    let fit = |s: f32, e: f32| if e > 1e-9 { s / e } else { 1.0 };
    transform.scale *= Vec3::new(
        fit(size[0], extent.x),
        fit(size[1], extent.y),
        fit(size[2], extent.z),
    );
    let mut handles: Vec<Option<Handle<LabelMaterial>>> = vec![None; asset.materials.len()];
    let mut slots = 0;
    for (mesh, m) in &asset.parts {
        let material = match handles.get(*m).cloned().flatten() {
            Some(h) => h,
            None => {
                let am = asset.materials.get(*m).cloned().unwrap_or_default();
                let texture = am.texture.and_then(|t| asset.textures.get(t).cloned());
                let h = asset_material(
                    ctx,
                    first_slot + slots,
                    &am,
                    texture,
                    part.material.base_color,
                    instance_id,
                    profile,
                    shadows,
                );
                slots += 1;
                if let Some(slot) = handles.get_mut(*m) {
                    *slot = Some(h.clone());
                }
                h
            }
        };
        ctx.commands.spawn((
            Mesh3d(mesh.clone()),
            MeshMaterial3d(material),
            transform,
            ChildOf(parent),
        ));
    }
    slots
}

/// The cached image of a procedural pattern (a plain white one for none).
fn pattern_texture(ctx: &mut SpawnCtx, t: &scenes::Texture) -> Handle<Image> {
    let key = (
        t.pattern,
        t.frequency,
        (t.contrast * 10.0).round().clamp(0.0, 10.0) as u32,
    );
    let key = if key.0 == Pattern::Plain || key.2 == 0 {
        (Pattern::Plain, 1, 0)
    } else {
        key
    };
    ctx.cache
        .textures
        .entry(key)
        .or_insert_with(|| ctx.images.add(pattern_image(key.0, key.1, key.2)))
        .clone()
}

/// What a spawn needs to touch.
pub struct SpawnCtx<'a> {
    pub commands: Commands<'a, 'a>,
    pub meshes: &'a mut Assets<Mesh>,
    pub images: &'a mut Assets<Image>,
    pub materials: &'a mut Assets<LabelMaterial>,
    pub cache: &'a mut SceneAssets,
}

fn to_transform(t: &scenes::Transform) -> Transform {
    Transform {
        translation: Vec3::from(t.translation),
        rotation: Quat::from_array(t.rotation).normalize(),
        scale: Vec3::from(t.scale),
    }
}

/// Spawns every object of `spec` under one root entity and returns it; poses the
/// pooled lights for it.
/// Parts are drawn with `profile`'s shading; lights cast the shadows `spec`
/// asks for in either profile.
pub fn spawn_scene(
    ctx: &mut SpawnCtx,
    spec: &SceneSpec,
    profile: ShadingProfile,
    ambient: &mut GlobalAmbientLight,
) -> Entity {
    ambient.brightness = spec.ambient_brightness;
    let [r, g, b] = spec.ambient_color;
    ambient.color = Color::LinearRgba(LinearRgba::rgb(r, g, b));
    let root = ctx
        .commands
        .spawn((Transform::IDENTITY, Visibility::Visible))
        .id();
    let mut parts = 0;
    let shadows = spec.lights.iter().any(|l| l.shadows);
    for object in &spec.objects {
        let parent = ctx
            .commands
            .spawn((
                to_transform(&object.world_from_object),
                Visibility::Inherited,
                ChildOf(root),
            ))
            .id();
        // Parts of one object with one material share its asset, so the
        // renderer can draw them (and their shadows) in one batch.
        let mut shared: Vec<(&scenes::Material, Handle<LabelMaterial>)> = Vec::new();
        for part in &object.parts {
            if let Primitive::Asset { path, sha256, size } = &part.primitive {
                let asset = ctx.cache.assets.get(path, sha256, ctx.meshes, ctx.images);
                if let Some(asset) = asset {
                    let id = object.instance_id;
                    parts += spawn_asset(
                        ctx, &asset, part, *size, parent, parts, id, profile, shadows,
                    );
                    continue;
                }
            }
            let (key, scale) = mesh_key(&part.primitive);
            let mesh = ctx
                .cache
                .meshes
                .entry(key)
                .or_insert_with(|| ctx.meshes.add(build_mesh(key)))
                .clone();
            let mut transform = to_transform(&part.object_from_part);
            transform.scale *= scale;
            let m = &part.material;
            let material = match shared.iter().find(|(seen, _)| *seen == m) {
                Some((_, handle)) => handle.clone(),
                None => {
                    let handle = part_material(ctx, parts, m, object.instance_id, profile, shadows);
                    parts += 1;
                    shared.push((m, handle.clone()));
                    handle
                }
            };
            ctx.commands.spawn((
                Mesh3d(mesh),
                MeshMaterial3d(material),
                transform,
                ChildOf(parent),
            ));
        }
    }
    update_lights(ctx, spec);
    root
}
