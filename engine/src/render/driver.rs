//! Main-world frame driver: picks the next pass (up to `views_per_pass` frames
//! of one scene), sets up the scene and one camera per frame, tags them,
//! and turns tagged read-backs into ordered samples.

use bevy::camera::Projection;
use bevy::light::cluster::{ClusterConfig, ClusterFarZMode, ClusterZConfig};
use bevy::prelude::*;
use crossbeam_channel::Sender;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::assemble::{RawFrame, complete};
use super::label::LabelMaterial;
use super::readback::{FrameTag, Readback, ReadbackReceiver};
use super::scene::{SceneAssets, SpawnCtx, spawn_scene};
use super::{LightClusters, RenderError, RenderJob};
use crate::plan::FrameId;
use scenes::{SceneSpec, ShadingProfile};

/// A frame camera's place in a pass: camera `i` renders the `i`-th frame of a pass.
#[derive(Component, Clone, Copy, PartialEq, Eq)]
pub struct ViewSlot(pub usize);

/// Scene specs kept for frames still in flight (a scene's frames are read
/// back at most a few scenes after it was drawn).
const RECENT_SCENES: usize = 4;

/// What a tag was issued for.
#[derive(Clone, Copy)]
enum Issued {
    Warmup,
    Frame(FrameId),
}

/// The frame driver's state.
#[derive(Resource)]
pub struct Driver {
    frames: Mutex<Box<dyn Iterator<Item = FrameId> + Send>>,
    scene_of: Box<dyn Fn(&FrameId) -> SceneSpec + Send + Sync>,
    out: Sender<Result<RawFrame, RenderError>>,
    /// Width / height of the images.
    aspect: f32,
    max_attempts: u32,
    warmup_limit: Duration,
    /// Frames rendered per app update, each on its own camera.
    views_per_pass: usize,
    /// How parts are shaded.
    profile: ShadingProfile,
    /// Each view's light-cluster grid.
    light_clusters: LightClusters,
    /// Frames to render next, in order (re-rendered ones go back to the front).
    upcoming: VecDeque<FrameId>,
    /// Indices in the order they must be emitted.
    order: VecDeque<u64>,
    /// Accepted samples waiting for their turn.
    ready: BTreeMap<u64, RawFrame>,
    /// Tags in flight.
    tags: HashMap<u64, Issued>,
    next_tag: u64,
    attempts: HashMap<u64, u32>,
    exhausted: bool,
    /// The scene on screen: its seed (`None` for the warm-up scene), spec and root entity.
    current: Option<(Option<u64>, Arc<SceneSpec>, Entity)>,
    /// Specs of the last few scenes spawned, by seed: frames read back after
    /// the next scene went on screen find theirs here instead of building it again.
    recent: VecDeque<(u64, Arc<SceneSpec>)>,
    warm: bool,
    warm_since: Option<Instant>,
    /// Since when frames have come back drawn while pipelines compiled.
    unsettled_since: Option<Instant>,
    warm_previous: Option<Vec<f32>>,
    warm_spec: SceneSpec,
    finished: bool,
    /// Set by the consumer when it no longer wants samples.
    stop: Arc<AtomicBool>,
}

impl Driver {
    /// A driver for `job`, warming up on `warm_spec` first.
    pub fn new(
        job: RenderJob,
        out: Sender<Result<RawFrame, RenderError>>,
        warm_spec: SceneSpec,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let s = &job.settings;
        Driver {
            aspect: s.width as f32 / s.height.max(1) as f32,
            max_attempts: s.max_attempts,
            warmup_limit: s.warmup_limit,
            views_per_pass: s.views_per_pass.max(1) as usize,
            profile: s.profile,
            light_clusters: s.light_clusters,
            frames: Mutex::new(job.frames),
            scene_of: job.scene_of,
            out,
            upcoming: VecDeque::new(),
            order: VecDeque::new(),
            ready: BTreeMap::new(),
            tags: HashMap::new(),
            next_tag: 0,
            attempts: HashMap::new(),
            exhausted: false,
            current: None,
            recent: VecDeque::new(),
            warm: false,
            warm_since: None,
            unsettled_since: None,
            warm_previous: None,
            warm_spec,
            finished: false,
            stop,
        }
    }

    fn fail(&mut self, e: RenderError) {
        let _ = self.out.send(Err(e));
        self.finished = true;
    }

    /// Handles one read-back.
    fn receive(&mut self, rb: Readback) {
        let Some(issued) = self.tags.remove(&rb.tag) else {
            return;
        };
        match issued {
            Issued::Warmup => {
                let drawn = rb.settled && complete(&rb.pixels);
                let stable = self.warm_previous.as_ref() == Some(&rb.pixels);
                if drawn && stable {
                    self.warm = true;
                } else {
                    self.warm_previous = Some(rb.pixels);
                }
            }
            Issued::Frame(frame) => {
                if self.ready.contains_key(&frame.index) || !self.order.contains(&frame.index) {
                    return; // A duplicate of an accepted frame.
                }
                if !rb.settled {
                    // Drawn while a pipeline compiled (on lavapipe that can take
                    // seconds): redrawn without counting an attempt, within the
                    // warm-up time limit.
                    let since = *self.unsettled_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.warmup_limit {
                        self.fail(RenderError::Stalled {
                            key: frame.key(),
                            attempts: self.attempts.get(&frame.index).copied().unwrap_or(0),
                        });
                        return;
                    }
                    self.rewind(frame);
                    return;
                }
                self.unsettled_since = None;
                if !complete(&rb.pixels) {
                    let n = {
                        let n = self.attempts.entry(frame.index).or_insert(0);
                        *n += 1;
                        *n
                    };
                    if n >= self.max_attempts {
                        self.fail(RenderError::Stalled {
                            key: frame.key(),
                            attempts: n,
                        });
                        return;
                    }
                    self.rewind(frame);
                    return;
                }
                let spec = match self
                    .recent
                    .iter()
                    .find(|(seed, _)| *seed == frame.scene_seed)
                {
                    Some((_, spec)) => spec.clone(),
                    None => Arc::new((self.scene_of)(&frame)),
                };
                self.attempts.remove(&frame.index);
                self.ready.insert(
                    frame.index,
                    RawFrame {
                        frame,
                        spec,
                        pixels: rb.pixels,
                    },
                );
            }
        }
    }

    /// Puts `frame` and every later frame not yet accepted back in front of the queue.
    fn rewind(&mut self, frame: FrameId) {
        let mut again: Vec<FrameId> = self
            .tags
            .values()
            .filter_map(|i| match i {
                Issued::Frame(f)
                    if f.index >= frame.index && !self.ready.contains_key(&f.index) =>
                {
                    Some(*f)
                }
                _ => None,
            })
            .collect();
        again.push(frame);
        again.sort_by_key(|f| f.index);
        again.dedup_by_key(|f| f.index);
        for f in again.into_iter().rev() {
            if !self.upcoming.iter().any(|u| u.index == f.index) {
                self.upcoming.push_front(f);
            }
        }
    }

    /// Frames whose read-back never came (a failed map) are rendered again.
    fn expire_lost(&mut self) {
        const LOST_AFTER_PASSES: u64 = 16;
        let lost_after = LOST_AFTER_PASSES * self.views_per_pass as u64;
        let lost: Vec<(u64, Issued)> = self
            .tags
            .iter()
            .filter(|(t, _)| **t + lost_after < self.next_tag)
            .map(|(t, i)| (*t, *i))
            .collect();
        for (t, issued) in lost {
            self.tags.remove(&t);
            if let Issued::Frame(f) = issued
                && !self.ready.contains_key(&f.index)
                && self.order.contains(&f.index)
            {
                self.rewind(f);
            }
        }
    }

    /// Sends accepted samples in order; false once the receiver is gone.
    fn emit(&mut self) -> bool {
        while let Some(&next) = self.order.front() {
            let Some(sample) = self.ready.remove(&next) else {
                break;
            };
            self.order.pop_front();
            if self.out.send(Ok(sample)).is_err() {
                return false;
            }
        }
        true
    }

    /// The next frame to render, pulling from the source when the queue is empty.
    fn next_frame(&mut self) -> Option<FrameId> {
        if self.upcoming.is_empty() && !self.exhausted {
            let next = self.frames.lock().ok().and_then(|mut it| it.next());
            match next {
                Some(f) => {
                    self.order.push_back(f.index);
                    self.upcoming.push_back(f);
                }
                None => self.exhausted = true,
            }
        }
        self.upcoming.pop_front()
    }

    /// A pass starting at `first` (whose scene is on screen): `first` and the
    /// frames right after it that show the same scene, up to `views_per_pass`.
    fn extend_pass(&mut self, first: FrameId) -> Vec<FrameId> {
        let mut pass = vec![first];
        while pass.len() < self.views_per_pass {
            match self.next_frame() {
                Some(f) if f.scene_seed == first.scene_seed => pass.push(f),
                Some(f) => {
                    self.upcoming.push_front(f);
                    break;
                }
                None => break,
            }
        }
        pass
    }

    /// A new tag for `issued`.
    fn issue(&mut self, issued: Issued) -> u64 {
        let t = self.next_tag;
        self.next_tag += 1;
        self.tags.insert(t, issued);
        t
    }
}

/// Every camera's slot, pose, projection and activity.
type Cameras<'w, 's> = Query<
    'w,
    's,
    (
        &'static ViewSlot,
        &'static mut Camera,
        &'static mut Transform,
        &'static mut Projection,
        &'static mut ClusterConfig,
    ),
>;

/// Activates the first `count` cameras and deactivates the others.
fn activate(cameras: &mut Cameras, count: usize) {
    for (slot, mut camera, ..) in cameras.iter_mut() {
        let active = slot.0 < count;
        if camera.is_active != active {
            camera.is_active = active;
        }
    }
}

/// Places camera `slot` at a view of `spec`.
fn aim(
    cameras: &mut Cameras,
    slot: usize,
    spec: &SceneSpec,
    view: usize,
    aspect: f32,
    grid: LightClusters,
) {
    let Some(v) = spec.views.get(view) else {
        return;
    };
    let m = v.world_from_camera();
    let col = |c: usize| Vec3::new(m[0][c] as f32, m[1][c] as f32, m[2][c] as f32);
    // Bevy's camera looks along its local -z with +y up: x = right, y = -down, z = -forward.
    let rotation = Quat::from_mat3(&Mat3::from_cols(col(0), -col(1), -col(2))).normalize();
    let transform = Transform {
        translation: col(3),
        rotation,
        scale: Vec3::ONE,
    };
    for (_, _, mut t, mut p, mut clusters) in cameras.iter_mut().filter(|c| c.0.0 == slot) {
        *t = transform;
        *clusters = view_clusters(v.far, grid);
        *p = Projection::Perspective(PerspectiveProjection {
            fov: v.vfov_deg.to_radians(),
            aspect_ratio: aspect,
            near: v.near,
            far: v.far,
            ..default()
        });
    }
}

/// The light clusters of a view whose far plane is `far` metres away: `grid`'s
/// clusters and depth slices, ending at that far plane.
///
/// Bevy's default clusters end at the farthest light range the camera saw in
/// its previous frame, and spot lights are culled against each cluster's box.
/// Frames then depended on what their camera drew before: with several cameras
/// per pass, spot lights went missing from parts of views after the first
/// (`views_rendered_together_equal_views_rendered_one_by_one`). A fixed far
/// plane, and no resizing from the previous frame's light count, make every
/// frame depend on its own view alone. (One cluster for the whole view is no
/// way out: Bevy 0.19 then culls spot lights that do light the view.)
pub(crate) fn view_clusters(far: f32, grid: LightClusters) -> ClusterConfig {
    ClusterConfig::FixedZ {
        total: grid.total,
        z_slices: grid.z_slices,
        z_config: ClusterZConfig {
            first_slice_depth: 5.0,
            far_z_mode: ClusterFarZMode::Constant(far),
        },
        dynamic_resizing: false,
    }
}

/// One main-world step: collect read-backs, emit samples, set up the next frame.
#[allow(clippy::too_many_arguments)]
pub fn drive(
    mut driver: ResMut<Driver>,
    receiver: Res<ReadbackReceiver>,
    mut tag: ResMut<FrameTag>,
    mut exit: MessageWriter<AppExit>,
    commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<LabelMaterial>>,
    mut cache: ResMut<SceneAssets>,
    mut ambient: ResMut<GlobalAmbientLight>,
    mut cameras: Cameras,
    entities: &bevy::ecs::entity::Entities,
) {
    let d = &mut *driver;
    if d.next_tag.is_multiple_of(200) {
        tracing::debug!(
            tag = d.next_tag,
            entities = entities.count_spawned(),
            materials = materials.len(),
            meshes = meshes.len(),
            images = images.len(),
            tags = d.tags.len(),
            "renderer state"
        );
    }
    if d.stop.load(Ordering::Acquire) {
        d.finished = true;
    }
    if d.finished {
        exit.write(AppExit::Success);
        tag.0.clear();
        return;
    }
    while let Ok(rb) = receiver.0.try_recv() {
        d.receive(rb);
        if d.finished {
            return;
        }
    }
    d.expire_lost();
    if !d.emit() {
        d.finished = true;
        exit.write(AppExit::Success);
        return;
    }
    let mut ctx = SpawnCtx {
        commands,
        meshes: &mut meshes,
        images: &mut images,
        materials: &mut materials,
        cache: &mut cache,
    };
    let aspect = d.aspect;
    if !d.warm {
        let since = *d.warm_since.get_or_insert_with(Instant::now);
        if since.elapsed() > d.warmup_limit {
            d.fail(RenderError::Stalled {
                key: "warm-up".to_string(),
                attempts: d.next_tag as u32,
            });
            return;
        }
        if d.current.is_none() {
            let root = spawn_scene(&mut ctx, &d.warm_spec, d.profile, &mut ambient);
            d.current = Some((None, Arc::new(d.warm_spec.clone()), root));
            aim(&mut cameras, 0, &d.warm_spec, 0, aspect, d.light_clusters);
            activate(&mut cameras, 1);
        }
        tag.0 = vec![d.issue(Issued::Warmup)];
        return;
    }
    let Some(frame) = d.next_frame() else {
        tag.0.clear();
        if d.exhausted && d.order.is_empty() {
            d.finished = true;
            exit.write(AppExit::Success);
        }
        return;
    };
    if d.current.as_ref().and_then(|c| c.0) != Some(frame.scene_seed) {
        if let Some((_, _, root)) = d.current.take() {
            ctx.commands.entity(root).despawn();
        }
        let spec = Arc::new((d.scene_of)(&frame));
        let root = spawn_scene(&mut ctx, &spec, d.profile, &mut ambient);
        if d.recent.len() >= RECENT_SCENES {
            d.recent.pop_front();
        }
        d.recent.push_back((frame.scene_seed, spec.clone()));
        d.current = Some((Some(frame.scene_seed), spec, root));
    }
    let pass = d.extend_pass(frame);
    let grid = d.light_clusters;
    if let Some((_, spec, _)) = &d.current {
        for (slot, f) in pass.iter().enumerate() {
            aim(&mut cameras, slot, spec, f.view as usize, aspect, grid);
        }
    }
    activate(&mut cameras, pass.len());
    tag.0 = pass.iter().map(|&f| d.issue(Issued::Frame(f))).collect();
}
