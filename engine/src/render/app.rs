//! The headless Bevy app: plugins, render targets and cameras.

use bevy::app::{PanicHandlerPlugin, ScheduleRunnerPlugin, TerminalCtrlCHandlerPlugin};
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{RenderTarget, ShadowLodOrigin};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::light::{DirectionalLightShadowMap, PointLightShadowMap};
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::render::render_resource::{TextureFormat, TextureUsages};
use bevy::window::ExitCondition;
use std::time::Duration;

use super::driver::{Driver, LabelCamera, RgbCamera, drive};
use super::label::LabelPlugin;
use super::readback::{ReadbackPlugin, ReadbackTargets};
use super::scene::{LABEL_LAYER, SceneAssets};

/// Size and options the startup system needs.
#[derive(Resource, Clone)]
struct TargetSpec {
    width: u32,
    height: u32,
    labels: bool,
}

/// Builds the app that renders `driver`'s frames until it is done.
pub fn build_app(
    driver: Driver,
    width: u32,
    height: u32,
    labels: bool,
    shadow_map_size: u32,
) -> App {
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
        size: shadow_map_size as usize,
    })
    .insert_resource(DirectionalLightShadowMap {
        size: shadow_map_size as usize,
    })
    .insert_resource(TargetSpec {
        width,
        height,
        labels,
    })
    .init_resource::<SceneAssets>()
    .insert_resource(driver)
    .add_systems(Startup, setup)
    .add_systems(Update, drive);
    app
}

fn target(images: &mut Assets<Image>, w: u32, h: u32, format: TextureFormat) -> Handle<Image> {
    let mut image = Image::new_target_texture(w, h, format, None);
    image.texture_descriptor.usage |= TextureUsages::COPY_SRC;
    images.add(image)
}

fn setup(mut commands: Commands, mut images: ResMut<Assets<Image>>, spec: Res<TargetSpec>) {
    let (w, h) = (spec.width, spec.height);
    let rgb = target(&mut images, w, h, TextureFormat::Rgba8UnormSrgb);
    commands.spawn((
        Camera3d::default(),
        Camera {
            order: 0,
            clear_color: ClearColorConfig::Custom(Color::BLACK),
            ..default()
        },
        RenderTarget::Image(rgb.clone().into()),
        Tonemapping::AcesFitted,
        Msaa::Off,
        ShadowLodOrigin,
        RgbCamera,
        Transform::default(),
    ));
    let label = spec.labels.then(|| {
        let label = target(&mut images, w, h, TextureFormat::Rgba32Float);
        commands.spawn((
            Camera3d::default(),
            Camera {
                order: 1,
                clear_color: ClearColorConfig::Custom(Color::NONE),
                ..default()
            },
            RenderTarget::Image(label.clone().into()),
            Tonemapping::None,
            DebandDither::Disabled,
            Msaa::Off,
            RenderLayers::layer(LABEL_LAYER),
            LabelCamera,
            Transform::default(),
        ));
        label
    });
    commands.insert_resource(ReadbackTargets {
        rgb,
        label,
        width: w,
        height: h,
    });
}
