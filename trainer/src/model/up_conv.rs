//! Up-convolutions whose output is exactly `stride×` their input (kernel
//! `k = stride + 2·padding`, a multiple of the stride; the heads' 4×4,
//! stride 2, padding 1), forward and backward, as matrix products over
//! channels-last images in gemm's fast layout with no patch matrix.
//!
//! **Forward, by output phase.** The outputs of one phase `(oy mod s,
//! ox mod s)` are a stride-1 convolution of the input with `T×T` of the
//! kernel's taps (`T = k/s`). In the zero-padded channels-last input `xp`
//! (`[Hp, Q, C]`), kernel row `t` of that convolution reads, for output
//! `(a, b)`, the `T·C` contiguous values from pixel `(a + start + t, b +
//! start')`. Numbering outputs `r = a·Q + b` makes that an overlapping
//! matrix view with rows `C` apart: one product per phase and kernel row.
//! Rows with `b ≥ w` are computed and dropped (`Q - w` of every `Q`).
//!
//! **Backward.** `dX` is a stride-`s` convolution of `dY`: with the padded
//! channels-last `dY` split into planes by row residue mod `s` and rows
//! `s·Q` pixels long, kernel row `ky` reads, for input pixel `r = iy·Q +
//! ix`, `k·C` contiguous values `s·C·r` from its start: `dX = Σ P_ky ·
//! W'_ky` and `dW'_ky += P_kyᵀ · X`, with `X` the padded input viewed with
//! the same row numbering (zeros at `ix ≥ w`, so dropped rows add nothing).
//!
//! **ReLU and bias.** Where the op is followed by a ReLU, the forward clamps
//! each output row as it writes it, and the backward masks `dY` by the
//! output and sums the bias gradient as it reads each row, so neither takes
//! a pass of its own over the maps.
//!
//! Images are spread over rayon's threads, each product on its own thread,
//! so each image's buffers stay in that core's cache.

use rayon::prelude::*;

use super::gemm::{self, Threads, View};
use super::patches::{reverse_axes, transpose_block};

/// One axis of an up-convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Axis {
    /// Input size.
    size: usize,
    stride: usize,
    kernel: usize,
    padding: usize,
    /// Taps per phase: `kernel / stride`.
    taps: usize,
    /// Zero padding of the input before and after, in the forward pass.
    before: usize,
    after: usize,
}

impl Axis {
    fn new(size: usize, stride: usize, kernel: usize, padding: usize) -> Option<Self> {
        if size == 0
            || stride == 0
            || kernel != stride + 2 * padding
            || !kernel.is_multiple_of(stride)
        {
            return None;
        }
        let taps = kernel / stride;
        // Phase q's window covers input rows a + q_offset - (T-1) ..= a + q_offset,
        // q_offset = (q + padding) / stride, which grows with q.
        Some(Axis {
            size,
            stride,
            kernel,
            padding,
            taps,
            before: taps - 1 - padding / stride,
            after: padding.div_ceil(stride),
        })
    }

    /// The padded input's length.
    fn padded(&self) -> usize {
        self.size + self.before + self.after
    }

    /// Where phase `q`'s window starts, in the padded input, for output 0.
    fn start(&self, q: usize) -> usize {
        (q + self.padding) / self.stride - self.padding / self.stride
    }

    /// The kernel tap that phase `q`'s window row `t` multiplies.
    fn tap(&self, q: usize, t: usize) -> usize {
        (q + self.padding) % self.stride + self.stride * (self.taps - 1 - t)
    }
}

/// An up-convolution (weight `[inputs, outputs, kh, kw]`, groups 1,
/// dilation 1, no output padding) that this module covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpConv {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    axes: [Axis; 2],
}

impl UpConv {
    /// The up-convolution of a `[batch, inputs, h, w]` input, or `None`
    /// where its output is not exactly `stride×` the input.
    pub fn new(
        [batch, inputs, h, w]: [usize; 4],
        outputs: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Option<Self> {
        if inputs == 0 || outputs == 0 {
            return None;
        }
        Some(UpConv {
            batch,
            inputs,
            outputs,
            axes: [
                Axis::new(h, stride[0], kernel[0], padding[0])?,
                Axis::new(w, stride[1], kernel[1], padding[1])?,
            ],
        })
    }

    /// Output height and width.
    pub fn out(&self) -> [usize; 2] {
        self.axes.map(|a| a.size * a.stride)
    }

    fn input_len(&self) -> usize {
        self.inputs * self.axes[0].size * self.axes[1].size
    }

    fn output_len(&self) -> usize {
        let [oh, ow] = self.out();
        self.outputs * oh * ow
    }

    fn weight_len(&self) -> usize {
        self.inputs * self.outputs * self.axes[0].kernel * self.axes[1].kernel
    }

    /// Row length of the padded input (`Q`), also the row numbering of every
    /// product.
    fn q(&self) -> usize {
        self.axes[1].padded()
    }

    /// Product rows: up to the last real pixel, so no view reads past its
    /// buffer.
    fn rows(&self) -> usize {
        let [y, x] = self.axes;
        (y.size - 1) * self.q() + x.size
    }

    /// One image (NCHW) into the interior of `xp` (channels-last, the
    /// padding around it zero). Every call writes the same places, so a
    /// buffer that starts zeroed keeps zero padding across images.
    fn pad_input(&self, x: &[f32], xp: &mut [f32]) -> Option<()> {
        let [ay, ax] = self.axes;
        let (c, q) = (self.inputs, self.q());
        for iy in 0..ay.size {
            let dst = xp.get_mut(((iy + ay.before) * q + ax.before) * c..)?;
            let src = x.get(iy * ax.size..)?;
            transpose_block(src, [c, ax.size], ay.size * ax.size, dst, c)?;
        }
        Some(())
    }

    fn threads(&self) -> Threads {
        match self.batch >= rayon::current_num_threads() {
            true => Threads::Caller,
            false => Threads::Pool,
        }
    }
}

/// `y = up_conv(x, weight) + bias`, then `max(y, 0)` where `relu`, all NCHW
/// host values; `None` where a length disagrees with `conv`.
pub fn forward(
    conv: &UpConv,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
) -> Option<Vec<f32>> {
    let [ay, ax] = conv.axes;
    let (ci, co, q) = (conv.inputs, conv.outputs, conv.q());
    let bias_ok = bias.is_none_or(|b| b.len() == co);
    if x.len() != conv.batch * conv.input_len() || weight.len() != conv.weight_len() || !bias_ok {
        return None;
    }
    // Per phase and window row: [(tx, ci), co] from weight [ci, co, kh, kw].
    let (kh, kw) = (ay.kernel, ax.kernel);
    let block = ax.taps * ci * co;
    let mut wf = vec![0.0f32; ay.stride * ax.stride * ay.taps * block];
    for (index, dst) in wf.chunks_mut(block).enumerate() {
        let (phase, ty) = (index / ay.taps, index % ay.taps);
        let (qy, qx) = (phase / ax.stride, phase % ax.stride);
        let ky = ay.tap(qy, ty);
        for tx in 0..ax.taps {
            let kx = ax.tap(qx, tx);
            for c in 0..ci {
                for o in 0..co {
                    dst[(tx * ci + c) * co + o] = weight[((c * co + o) * kh + ky) * kw + kx];
                }
            }
        }
    }
    let [oh, ow] = conv.out();
    let (m, threads) = (conv.rows(), conv.threads());
    // Output planes by row phase: [phase][a][s·Q pixels][co].
    let plane = ay.size * ax.stride * q * co;
    let mut y = vec![0.0f32; conv.batch * conv.output_len()];
    let scratch = || {
        let xp = vec![0.0f32; ay.padded() * q * ci];
        (xp, vec![0.0f32; ay.stride * plane])
    };
    y.par_chunks_mut(conv.output_len().max(1))
        .zip(x.par_chunks(conv.input_len().max(1)))
        .try_for_each_init(scratch, |(xp, yp), (y, x)| {
            conv.pad_input(x, xp)?;
            match bias {
                Some(b) => yp.chunks_mut(co).for_each(|p| p.copy_from_slice(b)),
                None => yp.fill(0.0),
            }
            for (index, w) in wf.chunks(block).enumerate() {
                let (phase, ty) = (index / ay.taps, index % ay.taps);
                let (qy, qx) = (phase / ax.stride, phase % ax.stride);
                let from = ((ay.start(qy) + ty) * q + ax.start(qx)) * ci;
                let lhs = View::strided(xp.get(from..)?, [m, ax.taps * ci], [ci, 1]);
                let dst = yp.get_mut(qy * plane + qx * co..)?;
                let rhs = View::rows(w, [ax.taps * ci, co]);
                gemm::matmul_strided(dst, [ax.stride * co, 1], lhs, rhs, true, threads)?;
            }
            // Phase planes → NCHW rows, dropping the columns past the image.
            for oy in 0..oh {
                let (a, qy) = (oy / ay.stride, oy % ay.stride);
                let src = yp.get(qy * plane + a * ax.stride * q * co..)?;
                transpose_block(src, [ow, co], co, y.get_mut(oy * ow..)?, oh * ow)?;
                if relu {
                    for channel in y.chunks_mut(oh * ow) {
                        let row = channel.get_mut(oy * ow..(oy + 1) * ow)?;
                        row.iter_mut().for_each(|v| *v = v.max(0.0));
                    }
                }
            }
            Some(())
        })?;
    Some(y)
}

/// The gradients of [`forward`], each only where wanted.
#[derive(Debug, Default, PartialEq)]
pub struct UpGrads {
    /// Input gradient, NCHW.
    pub x: Option<Vec<f32>>,
    /// Weight gradient, `[inputs, outputs, kh, kw]`.
    pub weight: Option<Vec<f32>>,
    /// Bias gradient, `[outputs]`.
    pub bias: Option<Vec<f32>>,
}

/// The gradients of [`forward`] for output gradient `dy` (NCHW host
/// values): input, weight and bias, each where `want` says. `relu_output`
/// is the forward's output where it applied the ReLU: `dy` counts only where
/// that output is positive. `None` where a length disagrees with `conv`.
pub fn backward(
    conv: &UpConv,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    relu_output: Option<&[f32]>,
    [want_x, want_w, want_b]: [bool; 3],
) -> Option<UpGrads> {
    let [ay, ax] = conv.axes;
    let (ci, co, q) = (conv.inputs, conv.outputs, conv.q());
    let n = conv.batch;
    let out_len = conv.output_len();
    if x.len() != n * conv.input_len()
        || weight.len() != conv.weight_len()
        || dy.len() != n * out_len
        || relu_output.is_some_and(|y| y.len() != dy.len())
    {
        return None;
    }
    let (kh, kw) = (ay.kernel, ax.kernel);
    // W [ci, (co, ky, kx)] → W' [(ky, kx, co), ci].
    let k = kh * kw * co;
    let wr = reverse_axes(weight, [ci, co, kh * kw])?;
    let [oh, ow] = conv.out();
    let (m, threads) = (conv.rows(), conv.threads());
    let (h, w) = (ay.size, ax.size);
    // Padded dY planes by row residue: [residue][h + T rows][s·Q pixels][co].
    let row = ax.stride * q * co;
    let plane = (h + ay.taps) * row;
    let block = kw * co;
    let scratch = || Scratch {
        xp: vec![0.0f32; ay.padded() * q * ci],
        dyp: vec![0.0f32; ay.stride * plane],
        dxp: vec![0.0f32; if want_x { m * ci } else { 0 }],
        rows: vec![0.0f32; co * ow],
    };
    let mut dx = vec![0.0f32; if want_x { x.len() } else { 0 }];
    let dx_images: Vec<Option<&mut [f32]>> = match want_x {
        true => dx.chunks_mut(conv.input_len().max(1)).map(Some).collect(),
        false => (0..n).map(|_| None).collect(),
    };
    // Sums over images: W' gradient [(ky, kx, co), ci], then the bias's [co].
    let image = |s: &mut Scratch, sums: &mut [f32], i: usize, dx: Option<&mut [f32]>| {
        let (dw, db) = sums.split_at_mut(k * ci);
        let dy = dy.get(i * out_len..(i + 1) * out_len)?;
        let mask = match relu_output {
            Some(y) => Some(y.get(i * out_len..(i + 1) * out_len)?),
            None => None,
        };
        // Each image writes the same places of `dyp`: its padding stays zero.
        for oy in 0..oh {
            for (c, dst) in s.rows.chunks_mut(ow).enumerate() {
                let at = c * oh * ow + oy * ow;
                let src = dy.get(at..at + ow)?;
                match mask {
                    Some(y) => {
                        let y = y.get(at..at + ow)?;
                        for ((d, g), y) in dst.iter_mut().zip(src).zip(y) {
                            *d = if *y > 0.0 { *g } else { 0.0 };
                        }
                    }
                    None => dst.copy_from_slice(src),
                }
                db[c] += lane_sum(dst);
            }
            let (residue, r) = ((oy + ay.padding) % ay.stride, (oy + ay.padding) / ay.stride);
            let dst = s
                .dyp
                .get_mut(residue * plane + r * row + ax.padding * co..)?;
            transpose_block(&s.rows, [co, ow], ow, dst, co)?;
        }
        if want_w {
            conv.pad_input(x.get(i * conv.input_len()..)?, &mut s.xp)?;
        }
        let xs = s.xp.get((ay.before * q + ax.before) * ci..)?;
        for ky in 0..kh {
            let from = (ky % ay.stride) * plane + (ky / ay.stride) * row;
            let taps = s.dyp.get(from..)?;
            if want_x {
                let lhs = View::strided(taps, [m, block], [ax.stride * co, 1]);
                let rhs = View::rows(wr.get(ky * block * ci..)?, [block, ci]);
                gemm::matmul_strided(&mut s.dxp, [ci, 1], lhs, rhs, ky > 0, threads)?;
            }
            if want_w {
                let lhs = View::strided(taps, [block, m], [1, ax.stride * co]);
                let rhs = View::strided(xs, [m, ci], [ci, 1]);
                let dst = dw.get_mut(ky * block * ci..)?;
                gemm::matmul_strided(dst, [ci, 1], lhs, rhs, true, threads)?;
            }
        }
        if let Some(dx) = dx {
            for iy in 0..h {
                let src = s.dxp.get(iy * q * ci..)?;
                transpose_block(src, [w, ci], ci, dx.get_mut(iy * w..)?, h * w)?;
            }
        }
        Some(())
    };
    let sums = dx_images
        .into_par_iter()
        .enumerate()
        .try_fold(
            || (scratch(), vec![0.0f32; k * ci + co]),
            |(mut s, mut sums), (i, dx)| {
                image(&mut s, &mut sums, i, dx)?;
                Some((s, sums))
            },
        )
        .map(|r| r.map(|(_, sums)| sums))
        .try_reduce(
            || vec![0.0f32; k * ci + co],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                Some(a)
            },
        )?;
    let dw = match want_w {
        true => Some(reverse_axes(&sums[..k * ci], [kh * kw, co, ci])?),
        false => None,
    };
    Some(UpGrads {
        x: want_x.then_some(dx),
        weight: dw,
        bias: want_b.then(|| sums[k * ci..].to_vec()),
    })
}

/// The sum of `v` in 16 independent lanes, so that it compiles to vector
/// adds (a plain sum is one dependent chain of scalar adds).
fn lane_sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for chunk in &mut chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// One thread's buffers for [`backward`], reused image after image.
struct Scratch {
    /// The padded channels-last input.
    xp: Vec<f32>,
    /// The padded channels-last output gradient, in row-residue planes.
    dyp: Vec<f32>,
    /// The input gradient's product rows.
    dxp: Vec<f32>,
    /// One output row of every channel (masked by the ReLU).
    rows: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::ops::{ConvTransposeOptions, ModuleOps};
    use burn::tensor::{Tensor, TensorData, TensorPrimitive};

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0) - 1.0)
            .collect()
    }

    fn primitive(v: &[f32], shape: [usize; 4]) -> burn::tensor::ops::FloatTensor<Flex> {
        Tensor::<Flex, 4>::from_data(TensorData::new(v.to_vec(), shape), &Default::default())
            .into_primitive()
            .tensor()
    }

    fn host(t: burn::tensor::ops::FloatTensor<Flex>) -> Vec<f32> {
        Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(t))
            .into_data()
            .to_vec()
            .unwrap_or_default()
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * scale,
                "{what}[{i}]: {g} against {w}"
            );
        }
    }

    /// Forward and all three gradients equal burn's transposed convolution
    /// and its gradients, with and without the ReLU after it, for the heads'
    /// 4×4 stride-2 kernel and the other kernels whose output is `stride×`
    /// the input, on uneven sizes, with one image (products on the pool) and
    /// several (on the images' threads).
    #[test]
    fn forward_and_gradients_agree_with_burn() {
        for (batch, [ci, co], [h, w], kernel, stride, padding) in [
            (3, [5, 6], [5, 7], [4, 4], [2, 2], [1, 1]),
            (1, [4, 3], [3, 2], [4, 4], [2, 2], [1, 1]),
            (2, [3, 4], [4, 3], [2, 2], [2, 2], [0, 0]),
            (2, [3, 2], [5, 4], [3, 3], [1, 1], [1, 1]),
            (2, [2, 3], [3, 4], [4, 2], [2, 2], [1, 0]),
        ] {
            let conv = UpConv::new([batch, ci, h, w], co, kernel, stride, padding);
            let Some(conv) = conv else {
                panic!("{kernel:?} {stride:?} {padding:?} not covered");
            };
            let [oh, ow] = conv.out();
            let (x, weight, bias) = (
                values(batch * ci * h * w, 1),
                values(ci * co * kernel[0] * kernel[1], 2),
                values(co, 3),
            );
            let dy = values(batch * co * oh * ow, 4);
            let options = ConvTransposeOptions::new(stride, padding, [0, 0], [1, 1], 1);
            let xs = [batch, ci, h, w];
            let ws = [ci, co, kernel[0], kernel[1]];
            let bt = Tensor::<Flex, 1>::from_data(
                TensorData::new(bias.clone(), [co]),
                &Default::default(),
            )
            .into_primitive()
            .tensor();
            let linear = host(Flex::conv_transpose2d(
                primitive(&x, xs),
                primitive(&weight, ws),
                Some(bt),
                options.clone(),
            ));
            for relu in [false, true] {
                let want: Vec<f32> = match relu {
                    true => linear.iter().map(|v| v.max(0.0)).collect(),
                    false => linear.clone(),
                };
                let got = forward(&conv, &x, &weight, Some(&bias), relu).unwrap_or_default();
                assert_close(&got, &want, "y");
                // What reaches the convolution: dy where the ReLU passed it.
                let passed: Vec<f32> = match relu {
                    true => dy
                        .iter()
                        .zip(&got)
                        .map(|(g, y)| if *y > 0.0 { *g } else { 0.0 })
                        .collect(),
                    false => dy.clone(),
                };
                let want_dx = host(Flex::conv_transpose2d_x_backward(
                    primitive(&weight, ws),
                    primitive(&passed, [batch, co, oh, ow]),
                    options.clone(),
                ));
                let want_dw = host(Flex::conv_transpose2d_weight_backward(
                    primitive(&x, xs),
                    primitive(&weight, ws),
                    primitive(&passed, [batch, co, oh, ow]),
                    options.clone(),
                ));
                let want_db: Vec<f32> = (0..co)
                    .map(|c| {
                        (0..batch)
                            .flat_map(|i| passed[(i * co + c) * oh * ow..][..oh * ow].iter())
                            .sum()
                    })
                    .collect();
                let mask = relu.then_some(got.as_slice());
                let grads = backward(&conv, &x, &weight, &dy, mask, [true, true, true]);
                let Some(UpGrads {
                    x: Some(dx),
                    weight: Some(dw),
                    bias: Some(db),
                }) = grads
                else {
                    panic!("no gradients for {conv:?}");
                };
                assert_close(&dx, &want_dx, "dx");
                assert_close(&dw, &want_dw, "dw");
                assert_close(&db, &want_db, "db");
                // Each gradient alone is the same.
                let only_w = backward(&conv, &x, &weight, &dy, mask, [false, true, false]);
                let want_w = UpGrads {
                    weight: Some(dw),
                    ..UpGrads::default()
                };
                assert_eq!(only_w, Some(want_w));
                let only_x = backward(&conv, &x, &weight, &dy, mask, [true, false, false]);
                assert_eq!(
                    only_x,
                    Some(UpGrads {
                        x: Some(dx),
                        ..UpGrads::default()
                    })
                );
            }
        }
    }

    #[test]
    fn what_it_does_not_cover_or_mismatched_lengths_are_refused() {
        // Output not stride× the input (kernel 3, stride 2, padding 1).
        assert!(UpConv::new([1, 2, 4, 4], 2, [3, 3], [2, 2], [1, 1]).is_none());
        assert!(UpConv::new([1, 2, 0, 4], 2, [4, 4], [2, 2], [1, 1]).is_none());
        assert!(UpConv::new([1, 0, 4, 4], 2, [4, 4], [2, 2], [1, 1]).is_none());
        let Some(conv) = UpConv::new([2, 2, 3, 3], 2, [4, 4], [2, 2], [1, 1]) else {
            panic!("the heads' up-convolution is not covered");
        };
        let (x, weight) = (values(2 * 2 * 9, 1), values(2 * 2 * 16, 2));
        assert!(forward(&conv, &x[1..], &weight, None, false).is_none());
        assert!(forward(&conv, &x, &weight[1..], None, false).is_none());
        assert!(forward(&conv, &x, &weight, Some(&[1.0]), true).is_none());
        let dy = values(2 * 2 * 36, 3);
        let all = [true; 3];
        assert!(backward(&conv, &x, &weight, &dy[1..], None, all).is_none());
        assert!(backward(&conv, &x, &weight, &dy, Some(&dy[1..]), all).is_none());
    }
}
