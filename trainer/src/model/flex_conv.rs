//! Convolution and up-convolution on `Autodiff<Flex>` (CPU training) with a
//! backward pass written as `im2col` + two matrix products.
//!
//! burn's default backward (which burn-flex keeps) computes a weight gradient
//! as a convolution whose kernel is the output gradient, and an input gradient
//! as a transposed convolution. On burn-flex those cost 3–8× the forward pass
//! (`bench profile`). Here one column matrix serves both gradients:
//!
//! | op | columns of | weight gradient | input gradient |
//! |---|---|---|---|
//! | conv, `W [Co, Ci·k²]` | the input `x` | `dY · colsᵀ` | `col2im(Wᵀ · dY)` |
//! | conv, stride 1, `Co ≤ 2·Ci` | `dY`, flipped window | `X · colsᵀ`, flipped | `flip(W) · cols` |
//! | up-conv, `W [Ci, Co·k²]` | the output gradient `dY` | `X · colsᵀ` | `W · cols` |
//!
//! with `dY`, `X` laid out `[channels, batch·positions]`, the matrices built
//! in blocks of output rows. Up-convolutions whose output is exactly
//! `stride×` their input (the heads') run forward and backward in
//! [`super::up_conv`], by output phase on channels-last images; the heads'
//! last convolution (stride 1, a few outputs) in [`super::plane_conv`]. The
//! other forward passes are burn-flex's own, except for convolutions with
//! few input channels (the first layer), where `W · cols` is faster.
//! Tensors are read in place where burn-flex stores them contiguously.
//! Anything this does not cover (groups, asymmetric padding, other dtypes,
//! output padding) stays on burn's path; see [`super::conv`].

use burn::backend::Autodiff;
use burn::backend::Flex;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::ops::{ActivationOps, ConvOptions, ConvTransposeOptions, FloatTensor, ModuleOps};
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

use std::borrow::Cow;
use std::ops::Range;

use super::HostGrads;
use super::gemm::{self, View};
use super::im2col::{Window, col2im_rows_add, im2col_rows};
use super::patches;
use super::plane_conv::{self, FEW_OUTPUTS, PlaneConv};
use super::up_conv::{self, UpConv};

type FlexTensor = FloatTensor<Flex>;
/// A tensor of `Autodiff<Flex>`: burn-flex's tensor and its graph node.
pub type TrainTensor = FloatTensor<Autodiff<Flex>>;

/// Which operation, with its options.
#[derive(Clone, Debug)]
pub enum ConvKind {
    /// A convolution (weight `[out, in, kh, kw]`).
    Conv(ConvOptions<2>),
    /// A transposed convolution (weight `[in, out, kh, kw]`).
    Transpose(ConvTransposeOptions<2>),
}

/// What the backward pass keeps: the op, its input and its weight, and its
/// output where a ReLU was applied to it.
#[derive(Clone, Debug)]
struct State {
    kind: ConvKind,
    x: FlexTensor,
    weight: FlexTensor,
    relu_output: Option<FlexTensor>,
}

#[derive(Debug)]
struct NoBias;
#[derive(Debug)]
struct WithBias;

impl Backward<Flex, 2> for NoBias {
    type State = State;

    fn backward(self, ops: Ops<State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let [x, w] = ops.parents.map(|p| p.map(|p| p.id));
        backward(ops.state, dy, [x, w, None], grads);
    }
}

impl Backward<Flex, 3> for WithBias {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        backward(ops.state, dy, ops.parents.map(|p| p.map(|p| p.id)), grads);
    }
}

/// Runs `kind` forward on burn-flex, then `max(y, 0)` where `relu`,
/// recording this module's backward pass (the ReLU's included).
pub fn forward(
    kind: ConvKind,
    x: TrainTensor,
    weight: TrainTensor,
    bias: Option<TrainTensor>,
    relu: bool,
) -> TrainTensor {
    let run = |kind: &ConvKind, x: FlexTensor, w: FlexTensor, b: Option<FlexTensor>| {
        let (y, applied) = match fast_forward(kind, &x, &w, b.as_ref(), relu) {
            Some(done) => done,
            None => match kind {
                ConvKind::Conv(o) => (Flex::conv2d(x, w, b, o.clone()), false),
                ConvKind::Transpose(o) => (Flex::conv_transpose2d(x, w, b, o.clone()), false),
            },
        };
        match relu && !applied {
            true => Flex::relu(y),
            false => y,
        }
    };
    let state = |kind: ConvKind, x: &TrainTensor, w: &TrainTensor, y: &FlexTensor| State {
        kind,
        x: x.primitive.clone(),
        weight: w.primitive.clone(),
        relu_output: relu.then(|| y.clone()),
    };
    match bias {
        None => match NoBias
            .prepare::<NoCheckpointing>([x.node.clone(), weight.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = run(&kind, x.primitive.clone(), weight.primitive.clone(), None);
                prep.finish(state(kind, &x, &weight, &out), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(run(&kind, x.primitive, weight.primitive, None))
            }
        },
        Some(bias) => match WithBias
            .prepare::<NoCheckpointing>([x.node.clone(), weight.node.clone(), bias.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = run(
                    &kind,
                    x.primitive.clone(),
                    weight.primitive.clone(),
                    Some(bias.primitive),
                );
                prep.finish(state(kind, &x, &weight, &out), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(run(
                &kind,
                x.primitive,
                weight.primitive,
                Some(bias.primitive),
            )),
        },
    }
}

/// The input and weight gradients (each only where a parent wants it).
struct Grads {
    x: Option<FlexTensor>,
    weight: Option<FlexTensor>,
}

/// Registers the gradients of `dy` for the parents (input, weight, bias)
/// that want one.
fn backward(state: State, dy: FlexTensor, parents: [Option<NodeId>; 3], grads: &mut Gradients) {
    let [px, pw, pb] = parents;
    let want = [px.is_some(), pw.is_some(), pb.is_some()];
    let (g, bias) = match up_conv_grads(&state, &dy, want) {
        Some((g, bias)) => (g, bias),
        None => {
            let dy = match &state.relu_output {
                Some(y) => Flex::relu_backward(y.clone(), dy),
                None => dy,
            };
            let bias = want[2].then(|| {
                let dy = tensor(dy.clone());
                let [n, c, h, w] = dy.dims();
                dy.reshape([n, c, h * w])
                    .sum_dim(2)
                    .sum_dim(0)
                    .reshape([c])
                    .into_primitive()
                    .tensor()
            });
            let w2 = [want[0], want[1]];
            let g = fast_grads(&state, dy.clone(), w2).unwrap_or_else(|| burn_grads(state, dy, w2));
            (g, bias)
        }
    };
    for (parent, grad) in [(px, g.x), (pw, g.weight), (pb, bias)] {
        if let (Some(parent), Some(grad)) = (parent, grad) {
            grads.register::<Flex>(parent, grad);
        }
    }
}

/// The gradients of an up-convolution [`up_conv`] covers, the ReLU's and
/// the bias's included; `None` for every other op.
fn up_conv_grads(
    state: &State,
    dy: &FlexTensor,
    [want_x, want_w, want_b]: [bool; 3],
) -> Option<(Grads, Option<FlexTensor>)> {
    let ConvKind::Transpose(o) = &state.kind else {
        return None;
    };
    let xs = tensor(state.x.clone()).dims();
    let ws = tensor(state.weight.clone()).dims();
    let conv = up_conv_of(o, xs, ws)?;
    let [n, cy, oh, ow] = tensor(dy.clone()).dims();
    if [n, cy] != [conv.batch, conv.outputs] || [oh, ow] != conv.out() {
        return None;
    }
    let relu_output = match &state.relu_output {
        Some(y) => Some(host(y)?),
        None => None,
    };
    let (x, weight, dy) = (host(&state.x)?, host(&state.weight)?, host(dy)?);
    let want = [want_x, want_w, want_b];
    let g = up_conv::backward(&conv, &x, &weight, &dy, relu_output.as_deref(), want)?;
    let grads = Grads {
        x: g.x.map(|v| primitive(v, xs)),
        weight: g.weight.map(|v| primitive(v, ws)),
    };
    let bias = g.bias.map(|v| {
        Tensor::<Flex, 1>::from_data(TensorData::new(v, [cy]), &Default::default())
            .into_primitive()
            .tensor()
    });
    Some((grads, bias))
}

/// burn's own backward: the reference, and the path for what `fast_grads`
/// does not cover.
fn burn_grads(state: State, dy: FlexTensor, [x, w]: [bool; 2]) -> Grads {
    let State {
        kind,
        x: xt,
        weight,
        ..
    } = state;
    match kind {
        ConvKind::Conv(o) => Grads {
            x: x.then(|| {
                Flex::conv2d_x_backward(xt.clone(), weight.clone(), dy.clone(), o.clone())
            }),
            weight: w.then(|| Flex::conv2d_weight_backward(xt, weight, dy, o)),
        },
        ConvKind::Transpose(o) => Grads {
            x: x.then(|| Flex::conv_transpose2d_x_backward(weight.clone(), dy.clone(), o.clone())),
            weight: w.then(|| Flex::conv_transpose2d_weight_backward(xt, weight, dy, o)),
        },
    }
}

fn tensor(t: FlexTensor) -> Tensor<Flex, 4> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

fn primitive(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    Tensor::<Flex, 4>::from_data(TensorData::new(values, shape), &Default::default())
        .into_primitive()
        .tensor()
}

/// A tensor's values, row-major: borrowed where burn-flex stores them that
/// way (a copy costs as much as a small layer's products), copied otherwise.
fn host(t: &FlexTensor) -> Option<Cow<'_, [f32]>> {
    match t.as_slice::<f32>() {
        Some(values) => Some(Cow::Borrowed(values)),
        None => tensor(t.clone())
            .into_data()
            .into_vec::<f32>()
            .ok()
            .map(Cow::Owned),
    }
}

/// A vector's values.
fn host1(t: &FlexTensor) -> Option<Vec<f32>> {
    Tensor::<Flex, 1>::from_primitive(TensorPrimitive::Float(t.clone()))
        .into_data()
        .into_vec::<f32>()
        .ok()
}

/// Values per block of a column matrix: large convolutions work block by
/// block (16 MiB), never holding the whole matrix.
#[cfg(not(test))]
const BLOCK_VALUES: usize = 4 << 20;
/// Tests run every shape in many small blocks.
#[cfg(test)]
const BLOCK_VALUES: usize = 300;

/// `a · b` for `a` `[m, k]` and `b` `[k, n]`, either stored transposed
/// (`[k, m]`, `[n, k]`) where its flag says so.
fn matmul(
    a: Vec<f32>,
    a_transposed: bool,
    b: Vec<f32>,
    b_transposed: bool,
    [m, k, n]: [usize; 3],
) -> Option<Vec<f32>> {
    let device = Default::default();
    let operand = |v: Vec<f32>, [r, c]: [usize; 2], transposed: bool| match transposed {
        false => Tensor::<Flex, 2>::from_data(TensorData::new(v, [r, c]), &device),
        true => Tensor::<Flex, 2>::from_data(TensorData::new(v, [c, r]), &device).transpose(),
    };
    operand(a, [m, k], a_transposed)
        .matmul(operand(b, [k, n], b_transposed))
        .into_data()
        .into_vec::<f32>()
        .ok()
}

/// Columns `range` of the row-major `[rows, cols]` matrix `m`.
fn columns(m: &[f32], cols: usize, range: Range<usize>) -> Vec<f32> {
    m.chunks(cols.max(1))
        .flat_map(|row| &row[range.clone()])
        .copied()
        .collect()
}

/// Writes `block` (`[rows, range.len()]`) into columns `range` of `m`.
fn put_columns(m: &mut [f32], cols: usize, range: Range<usize>, block: &[f32]) {
    let len = range.len().max(1);
    for (row, src) in m.chunks_mut(cols.max(1)).zip(block.chunks(len)) {
        row[range.clone()].copy_from_slice(src);
    }
}

/// Consecutive blocks of output rows under `win` (row `n·oh + oy`), each
/// with about [`BLOCK_VALUES`] values of column matrix.
fn row_blocks(batch: usize, win: &Window) -> Option<impl Iterator<Item = Range<usize>>> {
    let [oh, ow] = win.out()?;
    let per = (BLOCK_VALUES / (win.rows() * ow).max(1)).max(1);
    let total = batch * oh;
    Some(
        (0..total)
            .step_by(per)
            .map(move |start| start..(start + per).min(total)),
    )
}

/// Calls `f(columns, block)` for consecutive blocks of `image`'s column matrix
/// under `win`.
fn column_blocks(
    image: &[f32],
    batch: usize,
    win: &Window,
    mut f: impl FnMut(Range<usize>, Vec<f32>) -> Option<()>,
) -> Option<()> {
    let [_, ow] = win.out()?;
    for rows in row_blocks(batch, win)? {
        let cols = im2col_rows(image, batch, win, rows.clone())?;
        f(rows.start * ow..rows.end * ow, cols)?;
    }
    Some(())
}

/// `acc += v`.
fn accumulate(acc: &mut [f32], v: &[f32]) {
    acc.iter_mut().zip(v).for_each(|(a, v)| *a += v);
}

/// `[a, b, inner]` → `[b, a, inner]`.
fn swap_outer(v: &[f32], [a, b, inner]: [usize; 3]) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for i in 0..a {
        for j in 0..b {
            out[(j * a + i) * inner..][..inner].copy_from_slice(&v[(i * b + j) * inner..][..inner]);
        }
    }
    out
}

/// `[a, b, kh, kw]` → `[b, a, kh, kw]` with each kernel turned 180°; its own
/// inverse.
fn flip_kernels(v: &[f32], [a, b, kh, kw]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for i in 0..a {
        for j in 0..b {
            for y in 0..kh {
                for x in 0..kw {
                    out[((j * a + i) * kh + kh - 1 - y) * kw + kw - 1 - x] =
                        v[((i * b + j) * kh + y) * kw + x];
                }
            }
        }
    }
    out
}

/// `W [m, k] · cols(image)` over `win`, as `[m, positions]`: a convolution
/// forward, or an up-convolution's input gradient.
fn times_columns(
    w: &[f32],
    m: usize,
    image: &[f32],
    batch: usize,
    win: &Window,
) -> Option<Vec<f32>> {
    let [oh, ow] = win.out()?;
    let np = batch * oh * ow;
    let mut out = vec![0.0; m * np];
    column_blocks(image, batch, win, |range, cols| {
        let block = matmul(w.to_vec(), false, cols, false, [m, win.rows(), range.len()])?;
        put_columns(&mut out, np, range, &block);
        Some(())
    })?;
    Some(out)
}

/// `A [m, positions] · cols(image)ᵀ` over `win`, as `[m, k]`: a weight
/// gradient.
fn times_columns_t(
    a: &[f32],
    m: usize,
    image: &[f32],
    batch: usize,
    win: &Window,
) -> Option<Vec<f32>> {
    let [oh, ow] = win.out()?;
    let np = batch * oh * ow;
    let mut out = vec![0.0; m * win.rows()];
    column_blocks(image, batch, win, |range, cols| {
        let block = columns(a, np, range.clone());
        accumulate(
            &mut out,
            &matmul(block, false, cols, true, [m, range.len(), win.rows()])?,
        );
        Some(())
    })?;
    Some(out)
}

/// `col2im(Wᵀ · A)` over `win` for `W [m, k]` and `A [m, positions]`, as
/// `[batch, channels, h, w]`: a convolution's input gradient, or an
/// up-convolution forward.
fn columns_back(w: &[f32], m: usize, a: &[f32], batch: usize, win: &Window) -> Option<Vec<f32>> {
    let [h, wd] = win.size;
    let [oh, ow] = win.out()?;
    let np = batch * oh * ow;
    let mut image = vec![0.0; batch * win.channels * h * wd];
    for rows in row_blocks(batch, win)? {
        let range = rows.start * ow..rows.end * ow;
        let block = columns(a, np, range.clone());
        let cols = matmul(w.to_vec(), true, block, false, [win.rows(), m, range.len()])?;
        col2im_rows_add(&cols, batch, win, rows, &mut image)?;
    }
    Some(image)
}

/// Column-matrix rows up to which [`fast_forward`] beats burn-flex's kernel
/// (`bench profile`: the first 3→16 conv, 27 rows, took 0.61 ms against
/// 2.66; 16→32, 144 rows, 1.19 against 0.82).
const FEW_ROWS: usize = 64;

/// A convolution's forward pass as `W · cols(x)`, for convolutions with few
/// input channels, or directly ([`plane_conv`]) for stride-1 ones with few
/// output channels; an up-convolution's by output phase ([`up_conv`]);
/// `None` elsewhere (then burn-flex's kernel runs).
fn fast_forward(
    kind: &ConvKind,
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    relu: bool,
) -> Option<(FlexTensor, bool)> {
    let [n, cx, h, w] = tensor(x.clone()).dims();
    let [w0, w1, kh, kw] = tensor(weight.clone()).dims();
    let (mut y, [c, oh, ow]) = match kind {
        // burn-flex's own kernel is faster wherever the column matrix has
        // many rows; few input channels (the first layer) are its slow case.
        ConvKind::Conv(o) if o.groups == 1 && w1 == cx && cx * kh * kw <= FEW_ROWS => {
            let win = Window::new(cx, [h, w], [kh, kw], [o.stride, o.padding, o.dilation]);
            let [oh, ow] = win.out()?;
            let yp = times_columns(&host(weight)?, w0, &host(x)?, n, &win)?;
            (swap_outer(&yp, [w0, n, oh * ow]), [w0, oh, ow])
        }
        // Stride 1 with a few outputs (the heads' last layer): directly.
        ConvKind::Conv(o)
            if o.groups == 1 && w1 == cx && o.stride == [1, 1] && w0 <= FEW_OUTPUTS =>
        {
            let conv = PlaneConv {
                input: [n, cx, h, w],
                outputs: w0,
                kernel: [kh, kw],
                padding: o.padding,
                dilation: o.dilation,
            };
            let [oh, ow] = conv.out()?;
            let b = match bias {
                Some(b) => Some(host1(b)?),
                None => None,
            };
            let y = plane_conv::forward(&conv, &host(x)?, &host(weight)?, b.as_deref())?;
            return Some((primitive(y, [n, w0, oh, ow]), false));
        }
        // Up-convolutions to exactly `stride×` the input: by output phase.
        ConvKind::Transpose(o) => {
            let conv = up_conv_of(o, [n, cx, h, w], [w0, w1, kh, kw])?;
            let b = match bias {
                Some(b) => Some(host1(b)?),
                None => None,
            };
            let y = up_conv::forward(&conv, &host(x)?, &host(weight)?, b.as_deref(), relu)?;
            let [oh, ow] = conv.out();
            return Some((primitive(y, [n, w1, oh, ow]), relu));
        }
        _ => return None,
    };
    if let Some(b) = bias {
        let b = host1(b)?;
        for (plane, v) in y.chunks_mut((oh * ow).max(1)).zip(b.iter().cycle()) {
            plane.iter_mut().for_each(|y| *y += v);
        }
    }
    Some((primitive(y, [n, c, oh, ow]), false))
}

/// The up-convolution [`up_conv`] computes for options `o`, input shape
/// `x` and weight shape `weight`, if it covers them.
fn up_conv_of(
    o: &ConvTransposeOptions<2>,
    x: [usize; 4],
    [w0, w1, kh, kw]: [usize; 4],
) -> Option<UpConv> {
    if o.groups != 1 || o.padding_out != [0, 0] || o.dilation != [1, 1] || w0 != x[1] {
        return None;
    }
    UpConv::new(x, w1, [kh, kw], o.stride, o.padding)
}

/// The gradients from column matrices; `None` where the op is outside what
/// this covers (then burn's path runs).
fn fast_grads(state: &State, dy: FlexTensor, want: [bool; 2]) -> Option<Grads> {
    let [n, cx, h, w] = tensor(state.x.clone()).dims();
    let [_, cy, oh, ow] = tensor(dy.clone()).dims();
    let [w0, w1, kh, kw] = tensor(state.weight.clone()).dims();
    // Copied to the host only once the op is known to be covered.
    let values = || Some((host(&state.x)?, host(&state.weight)?, host(&dy)?));
    let kernel = [kh, kw];
    let (dx, dw) = match &state.kind {
        // Stride 1 with a few outputs (the heads' last layer): directly.
        ConvKind::Conv(o)
            if o.groups == 1 && [w0, w1] == [cy, cx] && o.stride == [1, 1] && cy <= FEW_OUTPUTS =>
        {
            let conv = PlaneConv {
                input: [n, cx, h, w],
                outputs: cy,
                kernel,
                padding: o.padding,
                dilation: o.dilation,
            };
            if conv.out()? != [oh, ow] {
                return None;
            }
            let (x, weight, dy) = values()?;
            plane_conv::backward(&conv, &x, &weight, &dy, want)?
        }
        ConvKind::Conv(o) if o.groups == 1 && [w0, w1] == [cy, cx] => {
            let win = Window::new(cx, [h, w], kernel, [o.stride, o.padding, o.dilation]);
            if win.out()? != [oh, ow] {
                return None;
            }
            let (x, weight, dy) = values()?;
            // Stride 1: the gradients are an up-convolution's, from columns of
            // dY under the flipped window; no scatter, and few rows when the
            // output has fewer channels than the input (the heads' last conv).
            let flip_padding =
                [0, 1].map(|a| (o.dilation[a] * (kernel[a] - 1)).checked_sub(o.padding[a]));
            let flipped =
                match flip_padding {
                    [Some(py), Some(px)] if o.stride == [1, 1] && cy <= 2 * cx => Some(
                        Window::new(cy, [oh, ow], kernel, [o.stride, [py, px], o.dilation]),
                    )
                    .filter(|f| f.out() == Some([h, w])),
                    _ => None,
                };
            match flipped {
                Some(flipped) => {
                    let wf = flip_kernels(&weight, [cy, cx, kh, kw]);
                    let shape = [n, cx, h * w];
                    let (dx, dwf) = from_output_columns(&wf, &x, &dy, shape, &flipped, want)?;
                    (dx, dwf.map(|g| flip_kernels(&g, [cx, cy, kh, kw])))
                }
                None => {
                    let dyp = swap_outer(&dy, [n, cy, oh * ow]);
                    let dw = match want[1] {
                        true => Some(times_columns_t(&dyp, cy, &x, n, &win)?),
                        false => None,
                    };
                    let dx = match want[0] {
                        true => Some(columns_back(&weight, cy, &dyp, n, &win)?),
                        false => None,
                    };
                    (dx, dw)
                }
            }
        }
        ConvKind::Transpose(o)
            if o.groups == 1 && o.padding_out == [0, 0] && [w0, w1] == [cx, cy] =>
        {
            // Columns of dY, whose windows land on x's pixels.
            let win = Window::new(cy, [oh, ow], kernel, [o.stride, o.padding, o.dilation]);
            if win.out()? != [h, w] {
                return None;
            }
            let (x, weight, dy) = values()?;
            from_output_columns(&weight, &x, &dy, [n, cx, h * w], &win, want)?
        }
        _ => return None,
    };
    Some(Grads {
        x: dx.map(|v| primitive(v, [n, cx, h, w])),
        weight: dw.map(|v| primitive(v, [w0, w1, kh, kw])),
    })
}

/// The gradients of `y = col2im(Wᵀ · X)` (an up-convolution, `W [cx, K]`
/// with `K` ordered `(cy, ky, kx)`) from the patches of `dy` under `win`,
/// image by image in blocks of rows: `dX = P · W'`, `dW' += Pᵀ · X`, where
/// `P` is the patch-major matrix of channels-last `dy` and `W'` the weight
/// reordered to `(ky, kx, cy)` rows. Those layouts are gemm's fast case
/// ([`super::gemm`]); one patch block serves both products. Each gradient
/// only where `want` says.
fn from_output_columns(
    weight: &[f32],
    x: &[f32],
    dy: &[f32],
    [n, cx, positions]: [usize; 3],
    win: &Window,
    [want_x, want_w]: [bool; 2],
) -> Option<HostGrads> {
    let [h, w] = win.out()?;
    let (cy, k) = (win.channels, win.rows());
    let taps = win.kernel[0] * win.kernel[1];
    if h * w != positions || weight.len() != cx * k || x.len() != n * cx * positions {
        return None;
    }
    // W [cx, (cy, tap)] → W' [(tap, cy), cx].
    let wr = patches::reverse_axes(weight, [cx, cy, taps])?;
    let dy_last = patches::transpose_inner(dy, [n, cy, win.size[0] * win.size[1]])?;
    let per = (BLOCK_VALUES / (w * k).max(1)).clamp(1, h.max(1));
    let mut block = vec![0.0f32; per * w * k];
    let mut dx_block = vec![0.0f32; if want_x { per * w * cx } else { 0 }];
    let mut dx = vec![0.0f32; if want_x { x.len() } else { 0 }];
    let mut dwr = vec![0.0f32; if want_w { k * cx } else { 0 }];
    for image in 0..n {
        for start in (0..h).step_by(per) {
            let rows = start..(start + per).min(h);
            let bp = rows.len() * w;
            let p = &mut block[..bp * k];
            patches::patches_into(&dy_last, image, win, rows, p)?;
            let first = image * cx * positions + start * w;
            if want_x {
                let out = &mut dx_block[..bp * cx];
                gemm::matmul(out, View::rows(p, [bp, k]), View::rows(&wr, [k, cx]), false)?;
                patches::transpose_into(out, [bp, cx], &mut dx[first..], [0, positions])?;
            }
            if want_w {
                let xs = View::strided(&x[first..], [bp, cx], [1, positions]);
                gemm::matmul(&mut dwr, View::transposed(p, [k, bp]), xs, true)?;
            }
        }
    }
    let dw = match want_w {
        true => Some(patches::reverse_axes(&dwr, [taps, cy, cx])?),
        false => None,
    };
    Some((want_x.then_some(dx), dw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn random(shape: [usize; 4]) -> FlexTensor {
        Tensor::<Flex, 4>::random(shape, Distribution::Default, &Default::default())
            .into_primitive()
            .tensor()
    }

    fn max_rel(a: Option<FlexTensor>, b: Option<FlexTensor>) -> f32 {
        let (Some(a), Some(b)) = (a, b) else {
            return f32::INFINITY;
        };
        let (a, b) = (tensor(a), tensor(b));
        let diff: f32 = (a - b.clone()).abs().max().into_scalar();
        let scale: f32 = b.abs().max().into_scalar();
        diff / scale.max(1e-30)
    }

    /// The column-matrix path is the one taken for the models' shapes (it
    /// does not fall back), and it agrees with burn's.
    #[test]
    fn the_column_path_covers_the_models_shapes_and_agrees_with_burn() {
        let cases = [
            (
                ConvKind::Conv(ConvOptions::new([2, 2], [1, 1], [1, 1], 1)),
                [4, 3, 17, 16],
                [8, 3, 3, 3],
                [4, 8, 9, 8],
            ),
            // Stride 1, a few output channels: the direct path.
            (
                ConvKind::Conv(ConvOptions::new([1, 1], [1, 1], [1, 1], 1)),
                [2, 16, 9, 7],
                [3, 16, 3, 3],
                [2, 3, 9, 7],
            ),
            // Stride 1, fewer output channels: the flipped-window path.
            (
                ConvKind::Conv(ConvOptions::new([1, 1], [1, 1], [1, 1], 1)),
                [2, 16, 9, 7],
                [6, 16, 3, 3],
                [2, 6, 9, 7],
            ),
            // Stride 1, many more output channels: the col2im path.
            (
                ConvKind::Conv(ConvOptions::new([1, 1], [2, 2], [2, 2], 1)),
                [2, 2, 9, 7],
                [7, 2, 3, 3],
                [2, 7, 9, 7],
            ),
            (
                ConvKind::Transpose(ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1)),
                [4, 6, 5, 7],
                [6, 5, 4, 4],
                [4, 5, 10, 14],
            ),
        ];
        for (kind, x, w, y) in cases {
            let state = State {
                kind,
                x: random(x),
                weight: random(w),
                relu_output: None,
            };
            let dy = random(y);
            let Some(fast) = fast_grads(&state, dy.clone(), [true, true]) else {
                panic!("{:?} fell back to burn's path", state.kind);
            };
            let reference = burn_grads(state, dy, [true, true]);
            assert!(max_rel(fast.x, reference.x) < 1e-5);
            assert!(max_rel(fast.weight, reference.weight) < 1e-5);
        }
    }
}
