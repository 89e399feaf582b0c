//! GPU → CPU copy of the render targets, in the render world, tagged with the
//! frames they belong to.
//!
//! One app update renders a pass: up to `views_per_pass` frames, each on its own
//! camera. The cameras keep their frames in their main textures (no blit to
//! their output images, a full-screen pass per view that a CPU rasteriser pays
//! for in full) and leave clearing them to this module. After the pass's
//! render graph has been submitted, the main textures of the cameras in use are
//! copied into a free slot of a
//! small ring of `MAP_READ` buffers and mapped asynchronously; finished slots
//! are sent to the main world on a later update, one [`Readback`] per frame.
//! The main world never waits on the GPU, and every result carries the tag the
//! main world set for that frame, so frames are matched by tag, never by order.

use bevy::prelude::*;
use bevy::render::camera::ExtractedCamera;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, CachedPipelineState, CommandEncoderDescriptor, LoadOp,
    MapMode, Operations, PipelineCache, PollType, RenderPassColorAttachment, RenderPassDescriptor,
    StoreOp, TexelCopyBufferInfo, TexelCopyBufferLayout, Texture,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::view::ViewTarget;
use bevy::render::{Render, RenderApp, RenderSystems};
use crossbeam_channel::{Receiver, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Tags of the frames the main world has just set up, one per camera in use
/// (camera `i` renders the frame tagged `0[i]`); empty: nothing to read back.
#[derive(Resource, Clone, Default, ExtractResource)]
pub struct FrameTag(pub Vec<u64>);

/// What the readback copies: the main textures (`Rgba32Float`) of cameras
/// `0..cameras` (camera `i` has order `i`), and their size.
#[derive(Resource, Clone, ExtractResource)]
pub struct ReadbackTargets {
    /// Cameras, one per view of a pass.
    pub cameras: usize,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
}

/// One frame's pixels, rows unpadded.
pub struct Readback {
    /// The frame's tag.
    pub tag: u64,
    /// The target's pixels, 4 floats each (`label.wgsl`'s packing).
    pub pixels: Vec<f32>,
    /// False when a render pipeline was still compiling as the frame was drawn:
    /// whatever needed it is missing from the frame, which must be redrawn.
    pub settled: bool,
}

/// Main-world end of the readback channel.
#[derive(Resource)]
pub struct ReadbackReceiver(pub Receiver<Readback>);

struct Slot {
    /// One buffer per camera.
    buffers: Vec<Buffer>,
    /// Tags of the frames in the buffers (camera order); `None` when free.
    tags: Option<Vec<u64>>,
    /// Whether every pipeline was ready when the pass was drawn.
    settled: bool,
    /// Map callbacks still outstanding.
    pending: Arc<AtomicU32>,
    /// Set when a map failed.
    failed: Arc<AtomicU32>,
}

#[derive(Resource)]
struct ReadbackState {
    slots: Vec<Slot>,
    sender: Sender<Readback>,
    last_tags: Vec<u64>,
    next_seq: u64,
    /// Sequence number of each busy slot, to finish them in order.
    seq: Vec<u64>,
}

const SLOTS: usize = 3;
/// Bytes per `Rgba32Float` pixel.
const BYTES_PER_PIXEL: usize = 16;

fn padded_row(width: u32, bytes_per_pixel: usize) -> usize {
    RenderDevice::align_copy_bytes_per_row(width as usize * bytes_per_pixel)
}

/// Adds the render-world copy and the channel to the main world.
pub struct ReadbackPlugin;

impl Plugin for ReadbackPlugin {
    fn build(&self, app: &mut App) {
        let (tx, rx) = crossbeam_channel::unbounded();
        app.insert_resource(ReadbackReceiver(rx))
            .init_resource::<FrameTag>()
            .add_plugins((
                ExtractResourcePlugin::<FrameTag>::default(),
                ExtractResourcePlugin::<ReadbackTargets>::default(),
            ));
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app.insert_resource(PendingSender(tx)).add_systems(
                Render,
                (copy_and_collect, clear_main_textures)
                    .chain()
                    .after(RenderSystems::Render)
                    .before(RenderSystems::Cleanup),
            );
        }
    }
}

#[derive(Resource)]
struct PendingSender(Sender<Readback>);

fn make_slots(device: &RenderDevice, t: &ReadbackTargets) -> Vec<Slot> {
    let buffer = || {
        device.create_buffer(&BufferDescriptor {
            label: Some("synthfeat readback"),
            size: (padded_row(t.width, BYTES_PER_PIXEL) * t.height as usize) as u64,
            usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    (0..SLOTS)
        .map(|_| Slot {
            buffers: (0..t.cameras).map(|_| buffer()).collect(),
            tags: None,
            settled: true,
            pending: Arc::new(AtomicU32::new(0)),
            failed: Arc::new(AtomicU32::new(0)),
        })
        .collect()
}

/// The mapped `buffer`'s pixels as floats, row padding dropped.
fn read_pixels(buffer: &Buffer, width: u32, height: u32) -> Vec<f32> {
    let row = width as usize * BYTES_PER_PIXEL;
    let padded = padded_row(width, BYTES_PER_PIXEL);
    let view = buffer.slice(..).get_mapped_range();
    let mut out = Vec::with_capacity(row / 4 * height as usize);
    for y in 0..height as usize {
        out.extend(
            view[y * padded..y * padded + row]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    out
}

/// Sends every slot whose maps have completed, oldest first, and frees it.
fn collect_finished(state: &mut ReadbackState, t: &ReadbackTargets) {
    loop {
        let oldest = (0..state.slots.len())
            .filter(|&i| state.slots[i].tags.is_some())
            .min_by_key(|&i| state.seq[i]);
        let Some(i) = oldest else { return };
        let slot = &mut state.slots[i];
        if slot.pending.load(Ordering::Acquire) != 0 {
            return;
        }
        let Some(tags) = slot.tags.take() else { return };
        let failed = slot.failed.swap(0, Ordering::AcqRel) != 0;
        for (&tag, buffer) in tags.iter().zip(&slot.buffers) {
            if failed {
                // A failed map: drop the pass; the main world re-renders its frames.
                buffer.unmap();
                continue;
            }
            let pixels = read_pixels(buffer, t.width, t.height);
            buffer.unmap();
            // The main world may have gone; nothing to do then.
            let _ = state.sender.send(Readback {
                tag,
                pixels,
                settled: slot.settled,
            });
        }
    }
}

fn map(buffer: &Buffer, pending: &Arc<AtomicU32>, failed: &Arc<AtomicU32>) {
    pending.fetch_add(1, Ordering::AcqRel);
    let (p, f) = (pending.clone(), failed.clone());
    buffer.slice(..).map_async(MapMode::Read, move |r| {
        if r.is_err() {
            f.fetch_add(1, Ordering::AcqRel);
        }
        p.fetch_sub(1, Ordering::AcqRel);
    });
}

#[allow(clippy::too_many_arguments)]
fn copy_and_collect(
    mut commands: Commands,
    tag: Option<Res<FrameTag>>,
    targets: Option<Res<ReadbackTargets>>,
    state: Option<ResMut<ReadbackState>>,
    sender: Option<Res<PendingSender>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    cameras: Query<(&ExtractedCamera, &ViewTarget)>,
    pipelines: Res<PipelineCache>,
) {
    let Some(targets) = targets else { return };
    let Some(mut state) = state else {
        if let Some(sender) = sender {
            commands.insert_resource(ReadbackState {
                slots: make_slots(&device, &targets),
                sender: sender.0.clone(),
                last_tags: Vec::new(),
                next_seq: 0,
                seq: vec![0; SLOTS],
            });
        }
        return;
    };
    let _ = device.poll(PollType::Poll);
    collect_finished(&mut state, &targets);

    let Some(tags) = tag.map(|t| t.0.clone()).filter(|t| !t.is_empty()) else {
        return;
    };
    if state.last_tags == tags || tags.len() > targets.cameras {
        return;
    }
    // The main texture of every camera in use (camera `i` has order `i`), or
    // nothing this update. The cameras skip the blit to their output image
    // (`CameraOutputMode::Skip`), so the main texture holds the frame.
    let mut pass_textures: Vec<Option<&Texture>> = vec![None; tags.len()];
    for (camera, target) in &cameras {
        if let Some(slot) = usize::try_from(camera.order)
            .ok()
            .and_then(|i| pass_textures.get_mut(i))
        {
            *slot = Some(target.main_texture());
        }
    }
    let Some(pass_textures) = pass_textures.into_iter().collect::<Option<Vec<_>>>() else {
        return;
    };
    // A free slot, waiting for the oldest busy one if all are in flight.
    let free = loop {
        if let Some(i) = state.slots.iter().position(|s| s.tags.is_none()) {
            break i;
        }
        let _ = device.poll(PollType::wait_indefinitely());
        collect_finished(&mut state, &targets);
    };
    let mut encoder = device.create_command_encoder(&CommandEncoderDescriptor {
        label: Some("synthfeat readback copy"),
    });
    let copy = |encoder: &mut bevy::render::render_resource::CommandEncoder,
                texture: &Texture,
                buffer: &Buffer| {
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            TexelCopyBufferInfo {
                buffer,
                layout: TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row(targets.width, BYTES_PER_PIXEL) as u32),
                    rows_per_image: None,
                },
            },
            texture.size(),
        );
    };
    let slot = &state.slots[free];
    let used = &slot.buffers[..tags.len()];
    for (texture, buffer) in pass_textures.iter().zip(used) {
        copy(&mut encoder, texture, buffer);
    }
    queue.submit(std::iter::once(encoder.finish()));
    for buffer in used {
        map(buffer, &slot.pending, &slot.failed);
    }
    let seq = state.next_seq;
    state.next_seq += 1;
    state.seq[free] = seq;
    state.slots[free].tags = Some(tags.clone());
    state.slots[free].settled = !pipelines.pipelines().any(|p| {
        matches!(
            p.state,
            CachedPipelineState::Queued | CachedPipelineState::Creating(_)
        )
    });
    state.last_tags = tags;
    let _ = device.poll(PollType::Poll);
}

/// Clears every camera's main texture after the update's copies, ready for the
/// next frame: the cameras load it instead of clearing it (their clear colour
/// is `None`, which is what lets them skip the blit to their output image), so
/// a pixel no surface covers must already read as zero, "no surface".
/// Textures new to the texture cache start zeroed.
fn clear_main_textures(
    cameras: Query<&ViewTarget, With<ExtractedCamera>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    if cameras.is_empty() {
        return;
    }
    let mut encoder = device.create_command_encoder(&CommandEncoderDescriptor {
        label: Some("synthfeat clear main textures"),
    });
    for target in &cameras {
        // An empty pass: its load op clears the texture.
        encoder.begin_render_pass(&RenderPassDescriptor {
            label: Some("synthfeat clear"),
            color_attachments: &[Some(RenderPassColorAttachment {
                view: target.main_texture_view(),
                depth_slice: None,
                resolve_target: None,
                ops: Operations {
                    load: LoadOp::Clear(Default::default()),
                    store: StoreOp::Store,
                },
            })],
            ..Default::default()
        });
    }
    queue.submit(std::iter::once(encoder.finish()));
}
