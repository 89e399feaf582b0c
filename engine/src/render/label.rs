//! The labelled material: a part's PBR material extended to draw its image and
//! every label in one pass (see `label.wgsl` for the packing).

use bevy::asset::embedded_asset;
use bevy::math::UVec4;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{
    ExtendedMaterial, MaterialExtension, MaterialExtensionKey, MaterialExtensionPipeline,
};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError,
};
use bevy::shader::ShaderRef;
use scenes::ShadingProfile;

/// A part's `StandardMaterial` drawing the shaded colour, planar depth,
/// view-space normal and instance id into one `Rgba32Float` target.
pub type LabelMaterial = ExtendedMaterial<StandardMaterial, LabelExtension>;

/// The label half of [`LabelMaterial`]: which instance the part belongs to and
/// how it is shaded.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
#[bind_group_data(LabelKey)]
pub struct LabelExtension {
    /// `x` = instance id.
    #[uniform(100)]
    pub label: UVec4,
    /// Lambert shading instead of PBR (the fast profile).
    pub simple_lighting: bool,
    /// Lambert shading reads the lights' shadow maps (a scene whose lights
    /// cast shadows); PBR always does.
    pub simple_shadows: bool,
}

/// What the label pipeline is specialised on.
#[repr(C)]
#[derive(Eq, PartialEq, Hash, Copy, Clone)]
pub struct LabelKey {
    simple_lighting: bool,
    simple_shadows: bool,
}

impl From<&LabelExtension> for LabelKey {
    fn from(extension: &LabelExtension) -> Self {
        LabelKey {
            simple_lighting: extension.simple_lighting,
            simple_shadows: extension.simple_shadows,
        }
    }
}

impl LabelExtension {
    /// The extension of a part of instance `id`, shaded as `profile` asks, in
    /// a scene where some light casts shadows if `shadows`.
    pub fn new(id: u16, profile: ShadingProfile, shadows: bool) -> Self {
        let simple_lighting = profile == ShadingProfile::Fast;
        LabelExtension {
            label: UVec4::new(u32::from(id), 0, 0, 0),
            simple_lighting,
            simple_shadows: simple_lighting && shadows,
        }
    }
}

impl MaterialExtension for LabelExtension {
    fn fragment_shader() -> ShaderRef {
        "embedded://engine/render/label.wgsl".into()
    }

    fn specialize(
        _pipeline: &MaterialExtensionPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        key: MaterialExtensionKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        let key = key.bind_group_data;
        if let Some(fragment) = descriptor.fragment.as_mut() {
            if key.simple_lighting {
                fragment.shader_defs.push("SIMPLE_LIGHTING".into());
            }
            if key.simple_shadows {
                fragment.shader_defs.push("SIMPLE_SHADOWS".into());
            }
        }
        Ok(())
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
