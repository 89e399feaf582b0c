//! GPU → CPU copy of both render targets, in the render world, tagged with the
//! frame they belong to.
//!
//! After the frame's render graph has been submitted, the targets are copied
//! into a free slot of a small ring of `MAP_READ` buffers and mapped
//! asynchronously; finished slots are sent to the main world on a later frame.
//! The main world never waits on the GPU, and every result carries the tag the
//! main world set for that frame, so frames are matched by tag, never by order.

use bevy::prelude::*;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, CommandEncoderDescriptor, MapMode, PollType,
    TexelCopyBufferInfo, TexelCopyBufferLayout,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::texture::GpuImage;
use bevy::render::{Render, RenderApp, RenderSystems};
use crossbeam_channel::{Receiver, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Tag of the frame the main world has just set up (`None`: nothing to read back).
#[derive(Resource, Clone, Copy, Default, ExtractResource)]
pub struct FrameTag(pub Option<u64>);

/// The render targets to read back and their size.
#[derive(Resource, Clone, ExtractResource)]
pub struct ReadbackTargets {
    /// RGB target (`Rgba8UnormSrgb`).
    pub rgb: Handle<Image>,
    /// Label target (`Rgba32Float`), when labels are rendered.
    pub label: Option<Handle<Image>>,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
}

/// One frame's pixels, rows unpadded.
pub struct Readback {
    /// The frame's tag.
    pub tag: u64,
    /// RGBA8 sRGB, 4 bytes per pixel.
    pub rgba: Vec<u8>,
    /// RGBA32F label pixels, 4 floats per pixel.
    pub label: Option<Vec<f32>>,
}

/// Main-world end of the readback channel.
#[derive(Resource)]
pub struct ReadbackReceiver(pub Receiver<Readback>);

struct Slot {
    rgb: Buffer,
    label: Option<Buffer>,
    tag: Option<u64>,
    /// Map callbacks still outstanding.
    pending: Arc<AtomicU32>,
    /// Set when a map failed.
    failed: Arc<AtomicU32>,
}

#[derive(Resource)]
struct ReadbackState {
    slots: Vec<Slot>,
    sender: Sender<Readback>,
    last_tag: Option<u64>,
    next_seq: u64,
    /// Sequence number of each busy slot, to finish them in order.
    seq: Vec<u64>,
}

const SLOTS: usize = 3;
const RGB_BYTES: usize = 4;
const LABEL_BYTES: usize = 16;

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
                copy_and_collect
                    .after(RenderSystems::Render)
                    .before(RenderSystems::Cleanup),
            );
        }
    }
}

#[derive(Resource)]
struct PendingSender(Sender<Readback>);

fn make_slots(device: &RenderDevice, t: &ReadbackTargets) -> Vec<Slot> {
    let buffer = |bpp: usize| {
        device.create_buffer(&BufferDescriptor {
            label: Some("synthfeat readback"),
            size: (padded_row(t.width, bpp) * t.height as usize) as u64,
            usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    (0..SLOTS)
        .map(|_| Slot {
            rgb: buffer(RGB_BYTES),
            label: t.label.as_ref().map(|_| buffer(LABEL_BYTES)),
            tag: None,
            pending: Arc::new(AtomicU32::new(0)),
            failed: Arc::new(AtomicU32::new(0)),
        })
        .collect()
}

fn unpad(buffer: &Buffer, width: u32, height: u32, bpp: usize) -> Vec<u8> {
    let row = width as usize * bpp;
    let padded = padded_row(width, bpp);
    let view = buffer.slice(..).get_mapped_range();
    let mut out = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        out.extend_from_slice(&view[y * padded..y * padded + row]);
    }
    out
}

fn bytes_to_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Sends every slot whose maps have completed, oldest first, and frees it.
fn collect_finished(state: &mut ReadbackState, t: &ReadbackTargets) {
    loop {
        let oldest = (0..state.slots.len())
            .filter(|&i| state.slots[i].tag.is_some())
            .min_by_key(|&i| state.seq[i]);
        let Some(i) = oldest else { return };
        let slot = &mut state.slots[i];
        if slot.pending.load(Ordering::Acquire) != 0 {
            return;
        }
        let Some(tag) = slot.tag.take() else { return };
        if slot.failed.swap(0, Ordering::AcqRel) != 0 {
            // A failed map: drop the frame; the main world re-renders it.
            slot.rgb.unmap();
            if let Some(l) = &slot.label {
                l.unmap();
            }
            continue;
        }
        let rgba = unpad(&slot.rgb, t.width, t.height, RGB_BYTES);
        slot.rgb.unmap();
        let label = slot.label.as_ref().map(|l| {
            let v = bytes_to_f32(&unpad(l, t.width, t.height, LABEL_BYTES));
            l.unmap();
            v
        });
        // The main world may have gone; nothing to do then.
        let _ = state.sender.send(Readback { tag, rgba, label });
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
    images: Res<RenderAssets<GpuImage>>,
) {
    let Some(targets) = targets else { return };
    let Some(mut state) = state else {
        if let Some(sender) = sender {
            commands.insert_resource(ReadbackState {
                slots: make_slots(&device, &targets),
                sender: sender.0.clone(),
                last_tag: None,
                next_seq: 0,
                seq: vec![0; SLOTS],
            });
        }
        return;
    };
    let _ = device.poll(PollType::Poll);
    collect_finished(&mut state, &targets);

    let Some(FrameTag(Some(tag))) = tag.map(|t| *t) else {
        return;
    };
    if state.last_tag == Some(tag) {
        return;
    }
    let Some(rgb_image) = images.get(&targets.rgb) else {
        return;
    };
    let label_image = match &targets.label {
        Some(h) => match images.get(h) {
            Some(img) => Some(img),
            None => return,
        },
        None => None,
    };
    // A free slot, waiting for the oldest busy one if all are in flight.
    let free = loop {
        if let Some(i) = state.slots.iter().position(|s| s.tag.is_none()) {
            break i;
        }
        let _ = device.poll(PollType::wait_indefinitely());
        collect_finished(&mut state, &targets);
    };
    let mut encoder = device.create_command_encoder(&CommandEncoderDescriptor {
        label: Some("synthfeat readback copy"),
    });
    let copy = |encoder: &mut bevy::render::render_resource::CommandEncoder,
                image: &GpuImage,
                buffer: &Buffer,
                bpp: usize| {
        encoder.copy_texture_to_buffer(
            image.texture.as_image_copy(),
            TexelCopyBufferInfo {
                buffer,
                layout: TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row(targets.width, bpp) as u32),
                    rows_per_image: None,
                },
            },
            image.texture_descriptor.size,
        );
    };
    let slot = &state.slots[free];
    copy(&mut encoder, rgb_image, &slot.rgb, RGB_BYTES);
    if let (Some(img), Some(buf)) = (label_image, &slot.label) {
        copy(&mut encoder, img, buf, LABEL_BYTES);
    }
    queue.submit(std::iter::once(encoder.finish()));
    map(&slot.rgb, &slot.pending, &slot.failed);
    if let Some(buf) = &slot.label {
        map(buf, &slot.pending, &slot.failed);
    }
    let seq = state.next_seq;
    state.next_seq += 1;
    state.seq[free] = seq;
    state.slots[free].tag = Some(tag);
    state.last_tag = Some(tag);
    let _ = device.poll(PollType::Poll);
}
