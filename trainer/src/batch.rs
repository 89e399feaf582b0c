//! Turning engine samples into tensors.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use engine::Sample;

/// Errors building a batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No sample was given.
    #[error("a batch needs at least one sample")]
    Empty,
    /// Samples differ in size, or lack labels.
    #[error("sample {key}: {message}")]
    BadSample {
        /// Its key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A batch of labelled synthetic images.
///
/// Images are `[N, 3, H, W]` in `[0, 1]`; labels are at `⌊H/scale⌋ × ⌊W/scale⌋`.
#[derive(Clone, Debug)]
pub struct SyntheticBatch<B: Backend> {
    /// RGB in `[0, 1]`.
    pub rgb: Tensor<B, 4>,
    /// Planar depth in metres, 0 = no surface, `[N, 1, h, w]`.
    pub depth_m: Tensor<B, 4>,
    /// Unit normals (OpenCV camera frame), `[N, 3, h, w]`.
    pub normal: Tensor<B, 4>,
    /// 1 where the pixel has a surface, `[N, 1, h, w]`.
    pub valid: Tensor<B, 4>,
    /// 1 on contour pixels, `[N, 1, h, w]`.
    pub contour: Tensor<B, 4>,
    /// Each sample's camera and full-resolution depth, on the host (for the
    /// dense-geometry task's correspondences); empty where not built from samples.
    pub views: Vec<crate::correspond::ViewGeometry>,
}

impl<B: Backend> SyntheticBatch<B> {
    /// Builds a batch; labels are downsampled by `scale` (1 = full resolution):
    /// depth and normals take each block's centre pixel, contours the block's maximum.
    pub fn from_samples(
        samples: &[Sample],
        scale: usize,
        device: &B::Device,
    ) -> Result<Self, BatchError> {
        let first = samples.first().ok_or(BatchError::Empty)?;
        let (w, h) = (first.meta.width as usize, first.meta.height as usize);
        let s = scale.max(1);
        let (lw, lh) = (w / s, h / s);
        let n = samples.len();
        let mut rgb = Vec::with_capacity(n * 3 * w * h);
        let mut depth = Vec::with_capacity(n * lw * lh);
        let mut normal = Vec::with_capacity(n * 3 * lw * lh);
        let mut valid = Vec::with_capacity(n * lw * lh);
        let mut contour = Vec::with_capacity(n * lw * lh);
        for sample in samples {
            let bad = |message: String| BatchError::BadSample {
                key: sample.meta.key.clone(),
                message,
            };
            if (sample.meta.width as usize, sample.meta.height as usize) != (w, h) {
                return Err(bad(format!(
                    "is {}x{}, the batch is {w}x{h}",
                    sample.meta.width, sample.meta.height
                )));
            }
            sample.check_shape().map_err(bad)?;
            for c in 0..3 {
                rgb.extend((0..w * h).map(|i| f32::from(sample.rgb[3 * i + c]) / 255.0));
            }
            let centre = |y: usize, x: usize| (y * s + s / 2) * w + x * s + s / 2;
            for y in 0..lh {
                for x in 0..lw {
                    let d = sample.depth_m[centre(y, x)];
                    depth.push(d);
                    valid.push(if d > 0.0 { 1.0 } else { 0.0 });
                    let edge = (0..s).any(|dy| {
                        (0..s).any(|dx| sample.contour[(y * s + dy) * w + x * s + dx] > 0)
                    });
                    contour.push(if edge { 1.0 } else { 0.0 });
                }
            }
            for c in 0..3 {
                for y in 0..lh {
                    for x in 0..lw {
                        normal.push(sample.normal_camera[3 * centre(y, x) + c]);
                    }
                }
            }
        }
        let t =
            |v: Vec<f32>, shape: [usize; 4]| Tensor::from_data(TensorData::new(v, shape), device);
        Ok(SyntheticBatch {
            rgb: t(rgb, [n, 3, h, w]),
            depth_m: t(depth, [n, 1, lh, lw]),
            normal: t(normal, [n, 3, lh, lw]),
            valid: t(valid, [n, 1, lh, lw]),
            contour: t(contour, [n, 1, lh, lw]),
            views: samples
                .iter()
                .map(crate::correspond::ViewGeometry::of)
                .collect(),
        })
    }
}

/// A training or validation batch: synthetic frames with their labels, or
/// images alone (real photographs) for the tasks that need no labels.
#[derive(Clone, Debug)]
pub enum Batch<B: Backend> {
    /// Rendered frames with labels.
    Labelled(SyntheticBatch<B>),
    /// `[N, 3, H, W]` images in `[0, 1]`, without labels.
    Images(Tensor<B, 4>),
}

impl<B: Backend> Batch<B> {
    /// The images, `[N, 3, H, W]` in `[0, 1]`.
    pub fn rgb(&self) -> &Tensor<B, 4> {
        match self {
            Batch::Labelled(b) => &b.rgb,
            Batch::Images(t) => t,
        }
    }

    /// The labels, if the batch has them.
    pub fn labels(&self) -> Option<&SyntheticBatch<B>> {
        match self {
            Batch::Labelled(b) => Some(b),
            Batch::Images(_) => None,
        }
    }

    /// Images in the batch.
    pub fn len(&self) -> usize {
        self.rgb().dims()[0]
    }

    /// True for a batch without images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<B: Backend> From<SyntheticBatch<B>> for Batch<B> {
    fn from(b: SyntheticBatch<B>) -> Self {
        Batch::Labelled(b)
    }
}

impl<B: Backend> From<&SyntheticBatch<B>> for Batch<B> {
    fn from(b: &SyntheticBatch<B>) -> Self {
        Batch::Labelled(b.clone())
    }
}

impl<B: Backend> From<&Batch<B>> for Batch<B> {
    fn from(b: &Batch<B>) -> Self {
        b.clone()
    }
}
