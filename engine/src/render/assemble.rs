//! Read-back pixels → [`Sample`]: frame conversion, label decoding, contours.

use crate::contour::contours;
use crate::plan::FrameId;
use crate::sample::{InstanceInfo, Intrinsics, Sample, SampleMeta};
use scenes::{SceneSpec, ShadingProfile};
use std::sync::Arc;

/// Fraction of label pixels that may show no surface in a complete frame.
///
/// Scenes are closed rooms, so every pixel of a fully drawn frame hits a surface;
/// a frame whose pipelines were not ready yet shows large empty areas.
pub const MAX_EMPTY_FRACTION: f64 = 0.001;

/// Whether a label frame shows a fully drawn scene.
pub fn label_complete(label: &[f32]) -> bool {
    let pixels = label.len() / 4;
    let empty = label.chunks_exact(4).filter(|p| p[3] < 0.5).count();
    (empty as f64) <= MAX_EMPTY_FRACTION * pixels as f64
}

/// Decoded label pixels: planar depth (m), OpenCV-frame normal, instance id.
pub struct Labels {
    /// Planar depth, metres; 0 = none.
    pub depth_m: Vec<f32>,
    /// Unit normal, OpenCV camera frame, 3 per pixel; 0 = none.
    pub normal_camera: Vec<f32>,
    /// Instance id; 0 = none.
    pub instance: Vec<u16>,
}

/// Decodes `label.wgsl`'s output (Bevy view frame) into the OpenCV camera frame.
pub fn decode_labels(label: &[f32]) -> Labels {
    let n = label.len() / 4;
    let mut out = Labels {
        depth_m: vec![0.0; n],
        normal_camera: vec![0.0; 3 * n],
        instance: vec![0; n],
    };
    for (i, p) in label.chunks_exact(4).enumerate() {
        let packed = p[3];
        if packed < 0.5 {
            continue;
        }
        let id = packed.floor();
        let negative_z = packed - id > 0.25;
        let (nx, ny) = (p[1], p[2]);
        let nz = (1.0 - nx * nx - ny * ny).max(0.0).sqrt();
        let nz = if negative_z { -nz } else { nz };
        out.depth_m[i] = p[0];
        // Bevy view (x right, y up, z back) → OpenCV (x right, y down, z forward).
        out.normal_camera[3 * i] = nx;
        out.normal_camera[3 * i + 1] = -ny;
        out.normal_camera[3 * i + 2] = -nz;
        out.instance[i] = id.min(f32::from(u16::MAX)) as u16;
    }
    out
}

/// A rendered frame as read back, before decoding: built on the render thread,
/// turned into a [`Sample`] by [`RawFrame::assemble`] on the consumer's thread.
pub struct RawFrame {
    /// The frame.
    pub frame: FrameId,
    /// The scene it shows.
    pub spec: Arc<SceneSpec>,
    /// RGBA8 sRGB pixels.
    pub rgba: Vec<u8>,
    /// `label.wgsl`'s pixels, when labels were rendered.
    pub label: Option<Vec<f32>>,
}

impl RawFrame {
    /// Decodes the labels, derives contours and fills in the metadata.
    pub fn assemble(&self, opts: &AssembleOptions) -> Sample {
        assemble(
            &self.frame,
            &self.spec,
            &self.rgba,
            self.label.as_deref(),
            opts,
        )
    }
}

/// Settings shared by every frame of a run.
pub struct AssembleOptions {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Relative depth jump that marks a contour.
    pub contour_threshold: f32,
    /// Hash of the generation config, for the metadata.
    pub config_hash: String,
    /// Shading profile of the RGB images, for the metadata.
    pub shading_profile: ShadingProfile,
}

/// Builds the sample of `frame` from its read-back pixels (`rgba`, and `label`
/// unless rendering RGB only, in which case the label buffers are empty).
pub fn assemble(
    frame: &FrameId,
    spec: &SceneSpec,
    rgba: &[u8],
    label: Option<&[f32]>,
    opts: &AssembleOptions,
) -> Sample {
    let (width, height) = (opts.width, opts.height);
    let view = &spec.views[frame.view as usize % spec.views.len().max(1)];
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let (depth_m, normal_camera, instance, contour) = match label {
        Some(label) => {
            let l = decode_labels(label);
            let c = contours(
                &l.instance,
                &l.depth_m,
                width as usize,
                height as usize,
                opts.contour_threshold,
            );
            (l.depth_m, l.normal_camera, l.instance, c)
        }
        None => Default::default(),
    };
    Sample {
        meta: SampleMeta {
            key: frame.key(),
            scene_seed: frame.scene_seed,
            view: frame.view,
            width,
            height,
            intrinsics: Intrinsics::from_vfov(width, height, f64::from(view.vfov_deg)),
            world_from_camera: view.world_from_camera(),
            near: view.near,
            far: view.far,
            depth_unit: "mm".to_string(),
            normal_frame: "camera_opencv".to_string(),
            instances: spec
                .objects
                .iter()
                .map(|o| InstanceInfo {
                    id: o.instance_id,
                    category: o.category.clone(),
                    shape: o.shape.clone(),
                })
                .collect(),
            generator: spec.generator.clone(),
            config_hash: opts.config_hash.clone(),
            shading_profile: opts.shading_profile.name().to_string(),
            synthfeat_version: crate::VERSION.to_string(),
        },
        rgb,
        depth_m,
        normal_camera,
        instance,
        contour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_decode_into_the_opencv_frame() {
        // A surface facing the camera (Bevy view normal +z), id 7, 2.5 m away,
        // and one tilted up (Bevy +y) with a negative z, id 3.
        let s = 0.6f32;
        let label = vec![2.5, 0.0, 0.0, 7.0, 1.0, 0.0, s, 3.5, 0.0, 0.0, 0.0, 0.0];
        let l = decode_labels(&label);
        assert_eq!(l.instance, vec![7, 3, 0]);
        assert_eq!(l.depth_m, vec![2.5, 1.0, 0.0]);
        assert_eq!(&l.normal_camera[0..3], &[0.0, -0.0, -1.0]);
        assert!((l.normal_camera[4] + s).abs() < 1e-6);
        assert!((l.normal_camera[5] - 0.8).abs() < 1e-6);
        assert_eq!(&l.normal_camera[6..9], &[0.0, 0.0, 0.0]);
        assert!(!label_complete(&label));
    }
}
