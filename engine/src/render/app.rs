//! The headless Bevy app: plugins, render targets and cameras.

use bevy::app::{PanicHandlerPlugin, ScheduleRunnerPlugin, TerminalCtrlCHandlerPlugin};
use bevy::camera::{CameraOutputMode, RenderTarget, ShadowLodOrigin};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::light::{DirectionalLightShadowMap, PointLightShadowMap, ShadowFilteringMethod};
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::window::ExitCondition;
use std::time::Duration;

use super::driver::{Driver, ViewSlot, drive, view_clusters};
use super::label::LabelPlugin;
use super::readback::{ReadbackPlugin, ReadbackTargets};
use super::scene::SceneAssets;
use super::{LightClusters, RenderSettings};
use scenes::ShadingProfile;

/// Size and options the startup system needs.
#[derive(Resource, Clone)]
struct TargetSpec {
    width: u32,
    height: u32,
    views_per_pass: usize,
    profile: ShadingProfile,
    light_clusters: LightClusters,
}

/// Builds the app that renders `driver`'s frames with `settings` until it is done.
pub fn build_app(driver: Driver, settings: &RenderSettings) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<LogPlugin>()
            .disable::<PanicHandlerPlugin>()
            .disable::<TerminalCtrlCHandlerPlugin>(),
    )
    .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO))
    .add_plugins((LabelPlugin, ReadbackPlugin))
    .insert_resource(ClearColor(Color::BLACK))
    .insert_resource(PointLightShadowMap {
        size: settings.shadow_map_size as usize,
    })
    .insert_resource(DirectionalLightShadowMap {
        size: settings.shadow_map_size as usize,
    })
    .insert_resource(TargetSpec {
        width: settings.width,
        height: settings.height,
        views_per_pass: settings.views_per_pass.max(1) as usize,
        profile: settings.profile,
        light_clusters: settings.light_clusters,
    })
    .init_resource::<SceneAssets>()
    .insert_resource(driver)
    .add_systems(Startup, setup)
    .add_systems(Update, drive);
    app
}

/// A `w × h` `Rgba32Float` render target for `label.wgsl`'s packed pixels. The
/// camera's main texture takes its size and format; the camera never writes
/// to it (it skips its output, see `setup`).
fn target(images: &mut Assets<Image>, w: u32, h: u32) -> Handle<Image> {
    images.add(Image::new_target_texture(
        w,
        h,
        TextureFormat::Rgba32Float,
        None,
    ))
}

/// Spawns one camera per view of a pass, each with its own `Rgba32Float`
/// target sizing its main texture, which holds the image and every label
/// (`label.wgsl`) and which the readback copies. Camera 0 is active
/// from the start (warm-up); the driver activates the others when a pass has
/// frames for them.
fn setup(mut commands: Commands, mut images: ResMut<Assets<Image>>, spec: Res<TargetSpec>) {
    let (w, h) = (spec.width, spec.height);
    // Both profiles tone-map alike (in the shader); the fast one skips dithering
    // and reads each shadow map once (hardware 2×2 comparison) per light.
    let (dither, shadow_filter) = match spec.profile {
        ShadingProfile::Full => (DebandDither::Enabled, ShadowFilteringMethod::Gaussian),
        ShadingProfile::Fast => (DebandDither::Disabled, ShadowFilteringMethod::Hardware2x2),
    };
    for i in 0..spec.views_per_pass {
        let image = target(&mut images, w, h);
        let mut camera = commands.spawn((
            Camera3d::default(),
            Camera {
                order: i as isize,
                is_active: i == 0,
                // The frame stays in the camera's main texture, which the
                // readback copies: no full-screen blit to `image` per view.
                output_mode: CameraOutputMode::Skip,
                // Bevy renders a camera that skips its output only if it does
                // not clear; the readback clears the main texture to zero (no
                // surface, black) after each copy instead.
                clear_color: ClearColorConfig::None,
                ..default()
            },
            RenderTarget::Image(image.into()),
            Tonemapping::AcesFitted,
            dither,
            shadow_filter,
            Msaa::Off,
            // Re-set for each view's far plane when the camera is aimed.
            view_clusters(1.0e3, spec.light_clusters),
            ViewSlot(i),
            Transform::default(),
        ));
        if i == 0 {
            camera.insert(ShadowLodOrigin);
        }
    }
    commands.insert_resource(ReadbackTargets {
        cameras: spec.views_per_pass,
        width: w,
        height: h,
    });
}
