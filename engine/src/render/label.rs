//! The label material: an unlit material drawing depth, normal and instance id.

use bevy::asset::embedded_asset;
use bevy::math::UVec4;
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::shader::ShaderRef;

/// Writes planar depth, view-space normal and the instance id (see `label.wgsl`).
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct LabelMaterial {
    /// `x` = instance id.
    #[uniform(0)]
    pub label: UVec4,
}

impl LabelMaterial {
    /// The material of instance `id`.
    pub fn new(id: u16) -> Self {
        LabelMaterial {
            label: UVec4::new(u32::from(id), 0, 0, 0),
        }
    }
}

impl Material for LabelMaterial {
    fn fragment_shader() -> ShaderRef {
        "embedded://engine/render/label.wgsl".into()
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }
}

/// Registers the label material and its embedded shader.
pub struct LabelPlugin;

impl Plugin for LabelPlugin {
    fn build(&self, app: &mut App) {
        embedded_asset!(app, "label.wgsl");
        app.add_plugins(MaterialPlugin::<LabelMaterial>::default());
    }
}
