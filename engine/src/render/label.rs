//! The labelled material: a part's PBR material extended to draw its image and
//! every label in one pass (see `label.wgsl` for the packing).

use bevy::asset::embedded_asset;
use bevy::math::UVec4;
use bevy::pbr::{ExtendedMaterial, MaterialExtension};
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::shader::ShaderRef;

/// A part's `StandardMaterial` drawing the shaded colour, planar depth,
/// view-space normal and instance id into one `Rgba32Float` target.
pub type LabelMaterial = ExtendedMaterial<StandardMaterial, LabelExtension>;

/// The label half of [`LabelMaterial`]: which instance the part belongs to.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct LabelExtension {
    /// `x` = instance id.
    #[uniform(100)]
    pub label: UVec4,
}

impl LabelExtension {
    /// The extension of a part of instance `id`.
    pub fn new(id: u16) -> Self {
        LabelExtension {
            label: UVec4::new(u32::from(id), 0, 0, 0),
        }
    }
}

impl MaterialExtension for LabelExtension {
    fn fragment_shader() -> ShaderRef {
        "embedded://engine/render/label.wgsl".into()
    }
}

/// Registers the labelled material and its embedded shader.
pub struct LabelPlugin;

impl Plugin for LabelPlugin {
    fn build(&self, app: &mut App) {
        embedded_asset!(app, "label.wgsl");
        app.add_plugins(MaterialPlugin::<LabelMaterial>::default());
    }
}
