//! The headless Bevy renderer (cargo feature `render`).
//!
//! One plugin per concern: [`label`] (the material that draws the image and
//! every label in one pass), [`readback`] (the
//! render-world GPU→CPU copy, tagged per frame), [`driver`] (the main-world
//! frame driver), [`scene`] (spec → entities with shared assets) and [`app`].
//! [`render`] runs the app on its own thread, which renders a pass of up to
//! `views_per_pass` views of one scene per update and hands the read-back
//! frames over a bounded channel; the [`SampleStream`] decodes them into
//! samples on the consumer's thread. Dropping it shuts Bevy down.

mod app;
pub mod assemble;
mod asset_mesh;
mod driver;
mod label;
mod readback;
mod scene;
mod warmup;

use crossbeam_channel::Receiver;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::plan::{FrameId, Plan};
use crate::sample::Sample;
use scenes::{Config, SceneSpec, ShadingProfile};

/// Renderer errors.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No GPU adapter, not even a software one.
    #[error(
        "no GPU adapter found (Vulkan). On a machine without a GPU install Mesa's software \
         Vulkan driver lavapipe: `apt-get install mesa-vulkan-drivers` (Debian/Ubuntu). {detail}"
    )]
    NoAdapter {
        /// What was tried.
        detail: String,
    },
    /// A setting is out of range.
    #[error("invalid render setting `{field}`: {message}")]
    InvalidSettings {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A frame never rendered completely.
    #[error("frame {key} did not render completely after {attempts} attempts")]
    Stalled {
        /// Key of the frame (or `warm-up`).
        key: String,
        /// Frames tried.
        attempts: u32,
    },
    /// The render thread panicked.
    #[error("the render thread crashed: {0}")]
    Crashed(String),
}

/// Most cameras (views) one app update may render.
pub const MAX_VIEWS_PER_PASS: u32 = scenes::MAX_VIEWS_PER_PASS;

/// The grid of light clusters of each view: Bevy assigns lights to the
/// clusters on the CPU and uploads them for every view of every update, so
/// the grid's size is a per-view cost.
///
/// Bevy's default (4,096 clusters, 24 depth slices) cost about a fifth of a
/// view's time on lavapipe at 32²; 256 clusters in 8 slices gave
/// byte-identical images. Too coarse a grid is wrong, not only slow: with one
/// cluster per view Bevy 0.19 culls spot lights that do light the view
/// (`coarse_light_clusters_keep_every_light` in the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LightClusters {
    /// Clusters per view, at most.
    pub total: u32,
    /// Depth slices among them, between the near plane and the view's far plane.
    pub z_slices: u32,
}

/// Most clusters a view's grid may have (Bevy's default grid).
pub const MAX_LIGHT_CLUSTERS: u32 = 4096;

impl Default for LightClusters {
    fn default() -> Self {
        LightClusters {
            total: 256,
            z_slices: 8,
        }
    }
}

/// How to render.
#[derive(Clone, Debug)]
pub struct RenderSettings {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Decode the labels (depth, normal, instance, contour); false for RGB only.
    /// They are drawn in the image's pass either way.
    pub labels: bool,
    /// Side of the shadow maps, texels.
    pub shadow_map_size: u32,
    /// Relative depth jump that marks a contour.
    pub contour_depth_threshold: f32,
    /// Frames of one scene rendered per app update, each by its own camera;
    /// shadow maps and the per-update overhead are shared among them.
    pub views_per_pass: u32,
    /// Shading of the RGB images.
    pub profile: ShadingProfile,
    /// Each view's light-cluster grid (Bevy's clustered forward shading).
    pub light_clusters: LightClusters,
    /// Samples the output channel holds before the renderer waits.
    pub channel_capacity: usize,
    /// Tries per frame before giving up.
    pub max_attempts: u32,
    /// Longest time the pipelines may take to become ready.
    pub warmup_limit: Duration,
}

impl RenderSettings {
    /// Square images of `size` pixels with all labels, quality from `config`.
    pub fn new(size: u32, config: &Config) -> Self {
        RenderSettings {
            width: size,
            height: size,
            labels: true,
            shadow_map_size: config.render.shadow_map_size,
            contour_depth_threshold: config.render.contour_depth_threshold,
            views_per_pass: config.render.views_per_pass,
            profile: config.render.profile,
            light_clusters: LightClusters::default(),
            channel_capacity: 8,
            max_attempts: 30,
            warmup_limit: Duration::from_secs(300),
        }
    }

    fn validate(&self) -> Result<(), RenderError> {
        for (field, v) in [("width", self.width), ("height", self.height)] {
            if v == 0 || v > 8192 {
                return Err(RenderError::InvalidSettings {
                    field,
                    message: format!("must be in 1..=8192, got {v}"),
                });
            }
        }
        let LightClusters { total, z_slices } = self.light_clusters;
        if z_slices == 0 || total < z_slices || total > MAX_LIGHT_CLUSTERS {
            return Err(RenderError::InvalidSettings {
                field: "light_clusters",
                message: format!(
                    "need 1 <= z_slices <= total <= {MAX_LIGHT_CLUSTERS}, got total {total}, z_slices {z_slices}"
                ),
            });
        }
        if !(1..=MAX_VIEWS_PER_PASS).contains(&self.views_per_pass) {
            return Err(RenderError::InvalidSettings {
                field: "views_per_pass",
                message: format!(
                    "must be in 1..={MAX_VIEWS_PER_PASS}, got {}",
                    self.views_per_pass
                ),
            });
        }
        Ok(())
    }
}

/// What to render: frames in order, and the scene each one shows.
pub struct RenderJob {
    /// Render settings.
    pub settings: RenderSettings,
    /// Hash of the generation config, for the metadata.
    pub config_hash: String,
    /// Frames, in the order samples come out.
    pub frames: Box<dyn Iterator<Item = FrameId> + Send>,
    /// The scene a frame shows (a pure function of the frame).
    pub scene_of: Box<dyn Fn(&FrameId) -> SceneSpec + Send + Sync>,
}

impl RenderJob {
    /// Frames `indices` of a generated run: scenes from `config` and `plan`.
    pub fn generated(
        config: Config,
        plan: Plan,
        settings: RenderSettings,
        indices: impl Iterator<Item = u64> + Send + 'static,
    ) -> Self {
        let views = plan.views;
        let config_hash = config.hash_hex();
        RenderJob {
            settings,
            config_hash,
            frames: Box::new(indices.map(move |i| plan.frame(i))),
            scene_of: Box::new(move |f| scenes::generate(&config, f.scene_seed, views)),
        }
    }

    /// Every view of each given scene, in order; `scene_seed` of frame = scene position.
    pub fn specs(specs: Vec<SceneSpec>, settings: RenderSettings) -> Self {
        let frames: Vec<FrameId> = specs
            .iter()
            .enumerate()
            .flat_map(|(i, s)| (0..s.views.len() as u32).map(move |v| (i as u64, v)))
            .enumerate()
            .map(|(index, (scene, view))| FrameId {
                index: index as u64,
                scene_seed: scene,
                view,
            })
            .collect();
        RenderJob {
            settings,
            config_hash: "custom".to_string(),
            frames: Box::new(frames.into_iter()),
            scene_of: Box::new(move |f| specs[f.scene_seed as usize].clone()),
        }
    }
}

/// Samples coming from the render thread. Dropping it stops and joins the renderer.
///
/// The render thread only renders and reads back; label decoding, contours and
/// metadata are done here, on the consumer's thread, as samples are taken.
pub struct SampleStream {
    rx: Option<Receiver<Result<assemble::RawFrame, RenderError>>>,
    assembly: assemble::AssembleOptions,
    /// Set when the consumer goes away, so the driver stops even while warming up.
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    adapter: String,
}

impl SampleStream {
    /// Name of the GPU adapter found before start-up.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    fn join(&mut self) -> Option<RenderError> {
        let t = self.thread.take()?;
        match t.join() {
            Ok(()) => None,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".to_string());
                Some(RenderError::Crashed(msg))
            }
        }
    }
}

impl Iterator for SampleStream {
    type Item = Result<Sample, RenderError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rx = self.rx.as_ref()?;
        match rx.recv() {
            Ok(item) => Some(item.map(|raw| raw.assemble(&self.assembly))),
            Err(_) => {
                self.rx = None;
                self.join().map(Err)
            }
        }
    }
}

impl Drop for SampleStream {
    fn drop(&mut self) {
        // The driver sees the flag (or the closed channel) and sends AppExit; wait for Bevy to stop.
        self.stop.store(true, Ordering::Release);
        self.rx = None;
        let _ = self.join();
    }
}

/// Looks for a GPU adapter the way the renderer will (honours `WGPU_ADAPTER_NAME`).
pub fn probe_adapter() -> Result<String, RenderError> {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    let adapters = bevy::tasks::block_on(instance.enumerate_adapters(backends));
    let infos: Vec<wgpu::AdapterInfo> = adapters.iter().map(|a| a.get_info()).collect();
    let wanted = std::env::var("WGPU_ADAPTER_NAME")
        .ok()
        .map(|s| s.to_lowercase());
    let chosen = match &wanted {
        Some(name) => infos.iter().find(|i| i.name.to_lowercase().contains(name)),
        None => infos.first(),
    };
    match chosen {
        Some(info) => Ok(format!(
            "{} ({:?}, {:?})",
            info.name, info.backend, info.device_type
        )),
        None => Err(RenderError::NoAdapter {
            detail: match wanted {
                Some(name) => format!(
                    "WGPU_ADAPTER_NAME={name} matched none of: [{}]",
                    infos
                        .iter()
                        .map(|i| i.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "wgpu enumerated no adapter.".to_string(),
            },
        }),
    }
}

/// Starts rendering `job` on its own thread and returns its samples.
pub fn render(job: RenderJob) -> Result<SampleStream, RenderError> {
    job.settings.validate()?;
    let adapter = probe_adapter()?;
    let (tx, rx) = crossbeam_channel::bounded(job.settings.channel_capacity.max(1));
    let s = job.settings.clone();
    let assembly = assemble::AssembleOptions {
        width: s.width,
        height: s.height,
        contour_threshold: s.contour_depth_threshold,
        config_hash: job.config_hash.clone(),
        shading_profile: s.profile,
        labels: s.labels,
    };
    let warm = warmup::warmup_scene();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("synthfeat-render".to_string())
        .spawn(move || {
            let driver = driver::Driver::new(job, tx, warm, stop_flag);
            app::build_app(driver, &s).run();
        })
        .map_err(|e| RenderError::Crashed(e.to_string()))?;
    Ok(SampleStream {
        rx: Some(rx),
        assembly,
        stop,
        thread: Some(thread),
        adapter,
    })
}

/// An endless stream of labelled frames of run `seed`: `views` views per scene.
pub fn stream(
    config: Config,
    seed: u64,
    views: u32,
    settings: RenderSettings,
) -> Result<SampleStream, RenderError> {
    stream_from(config, seed, views, settings, 0)
}

/// [`stream`] starting at frame `first` of the run (a resumed consumer
/// continues where it stopped instead of seeing the same frames again).
pub fn stream_from(
    config: Config,
    seed: u64,
    views: u32,
    settings: RenderSettings,
    first: u64,
) -> Result<SampleStream, RenderError> {
    let plan = Plan {
        seed,
        views: views.max(1),
        count: u64::MAX,
        shard_size: u64::MAX,
    };
    render(RenderJob::generated(
        config,
        plan,
        settings,
        first..u64::MAX,
    ))
}
