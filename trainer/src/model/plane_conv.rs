//! Stride-1 convolutions with few output channels (the dense heads' last
//! layer, 64 → 1 or 3 channels at full resolution), computed directly: each
//! output plane accumulates its input planes shifted by each kernel tap, row
//! by row. No column matrix: im2col would write `kh·kw·C` values per output
//! pixel to produce one to three, and burn-flex's kernel for this shape ran at
//! 4 GFLOP/s (`bench profile`: 70 ms forward for 64 → 1 at 128², batch 16).
//!
//! The row loops are compiled three times (AVX-512, AVX2, baseline) and the
//! best the CPU has is picked at run time, so the build stays portable.

use rayon::prelude::*;

use super::HostGrads;

/// Output channels up to which [`forward`] is used.
pub const FEW_OUTPUTS: usize = 4;

/// The shape of a stride-1 convolution over `[batch, channels, h, w]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaneConv {
    /// Input `[batch, channels, h, w]`.
    pub input: [usize; 4],
    /// Output channels.
    pub outputs: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Zero padding on each side.
    pub padding: [usize; 2],
    /// Dilation.
    pub dilation: [usize; 2],
}

impl PlaneConv {
    /// Output height and width, or `None` where the kernel does not fit.
    pub fn out(&self) -> Option<[usize; 2]> {
        let axis = |a: usize| {
            let span = self.dilation[a] * self.kernel[a].checked_sub(1)? + 1;
            (self.input[2 + a] + 2 * self.padding[a])
                .checked_sub(span)
                .map(|d| d + 1)
        };
        Some([axis(0)?, axis(1)?])
    }

    /// Output positions `o` on axis `a` whose input index `o + k·d - p` lies in
    /// the image, for tap `k`: `lo..hi`, and the input index of `lo`.
    fn valid(&self, a: usize, k: usize, out: usize) -> (usize, usize, usize) {
        let offset = k * self.dilation[a];
        let pad = self.padding[a];
        let lo = pad.saturating_sub(offset).min(out);
        let hi = (self.input[2 + a] + pad)
            .saturating_sub(offset)
            .min(out)
            .max(lo);
        (lo, hi, lo + offset - pad.min(lo + offset))
    }
}

/// `y = conv(x, weight) + bias` for `weight [outputs, channels, kh, kw]`,
/// as `[batch, outputs, oh, ow]`; `None` where sizes disagree.
pub fn forward(
    conv: &PlaneConv,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
) -> Option<Vec<f32>> {
    let [n, c, h, w] = conv.input;
    let [oh, ow] = conv.out()?;
    let [kh, kw] = conv.kernel;
    let co = conv.outputs;
    if x.len() != n * c * h * w
        || weight.len() != co * c * kh * kw
        || bias.is_some_and(|b| b.len() != co)
    {
        return None;
    }
    let mut y = vec![0.0f32; n * co * oh * ow];
    if y.is_empty() {
        return Some(y);
    }
    y.par_chunks_mut(co * oh * ow)
        .zip(x.par_chunks((c * h * w).max(1)))
        .for_each(|(planes, image)| {
            for (o, plane) in planes.chunks_mut(oh * ow).enumerate() {
                plane.fill(bias.map_or(0.0, |b| b[o]));
            }
            image_taps(Pass::Output, conv, planes, weight, image);
        });
    Some(y)
}

/// The gradients of [`forward`] for the output gradient `dy`
/// (`[batch, outputs, oh, ow]`): the input's, `[batch, channels, h, w]`, and
/// the weight's, `[outputs, channels, kh, kw]`, each where `want` says;
/// `None` where sizes disagree.
pub fn backward(
    conv: &PlaneConv,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    [want_x, want_w]: [bool; 2],
) -> Option<HostGrads> {
    let [n, c, h, w] = conv.input;
    let [oh, ow] = conv.out()?;
    let [kh, kw] = conv.kernel;
    let co = conv.outputs;
    let per_weight = co * c * kh * kw;
    if x.len() != n * c * h * w || weight.len() != per_weight || dy.len() != n * co * oh * ow {
        return None;
    }
    let (image_len, grad_len) = ((c * h * w).max(1), (co * oh * ow).max(1));
    let dx = want_x.then(|| {
        let mut dx = vec![0.0f32; x.len()];
        dx.par_chunks_mut(image_len)
            .zip(dy.par_chunks(grad_len))
            .for_each(|(planes, grads)| image_taps(Pass::InputGrad, conv, planes, weight, grads));
        dx
    });
    let dw = want_w.then(|| {
        x.par_chunks(image_len)
            .zip(dy.par_chunks(grad_len))
            .map(|(image, grads)| {
                let mut dw = vec![0.0f32; per_weight];
                image_taps(Pass::WeightGrad, conv, &mut dw, image, grads);
                dw
            })
            .reduce(
                || vec![0.0f32; per_weight],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                },
            )
    });
    Some((dx, dw))
}

/// Which sum over taps [`image_taps`] runs for one image.
#[derive(Clone, Copy)]
enum Pass {
    /// `dst` += the output planes, `a` = the weight, `b` = the input planes.
    Output,
    /// `dst` = the input gradient's planes, `a` = the weight, `b` = `dy`.
    InputGrad,
    /// `dst` += the weight gradient, `a` = the input planes, `b` = `dy`.
    WeightGrad,
}

/// One image's share of a pass: the best compiled form of [`taps`] for
/// this CPU.
fn image_taps(pass: Pass, conv: &PlaneConv, dst: &mut [f32], a: &[f32], b: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { taps_avx512(pass, conv, dst, a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { taps_avx2(pass, conv, dst, a, b) };
        }
    }
    taps(pass, conv, dst, a, b);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn taps_avx512(pass: Pass, conv: &PlaneConv, dst: &mut [f32], a: &[f32], b: &[f32]) {
    taps(pass, conv, dst, a, b);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn taps_avx2(pass: Pass, conv: &PlaneConv, dst: &mut [f32], a: &[f32], b: &[f32]) {
    taps(pass, conv, dst, a, b);
}

/// For each input channel, output channel and tap, the rows where output
/// `(oy, ox)` meets input `(oy + ky·d - p, ox + kx·d - p)`: the output adds
/// `w · x` there, the input gradient adds `w · dy`, the weight gradient sums
/// `x · dy`. Input channel outermost, so one input plane stays in cache for
/// all outputs and taps.
#[inline(always)]
fn taps(pass: Pass, conv: &PlaneConv, dst: &mut [f32], a: &[f32], b: &[f32]) {
    let [_, c, h, w] = conv.input;
    let [kh, kw] = conv.kernel;
    let Some([oh, ow]) = conv.out() else {
        return;
    };
    for ci in 0..c {
        for o in 0..conv.outputs {
            let plane_out = o * oh * ow..(o + 1) * oh * ow;
            for ky in 0..kh {
                let (ylo, yhi, iy0) = conv.valid(0, ky, oh);
                for kx in 0..kw {
                    let (xlo, xhi, ix0) = conv.valid(1, kx, ow);
                    if xhi == xlo {
                        continue;
                    }
                    let tap = ((o * c + ci) * kh + ky) * kw + kx;
                    let len = xhi - xlo;
                    match pass {
                        Pass::Output => {
                            let wv = a[tap];
                            let plane_in = &b[ci * h * w..][..h * w];
                            let plane = &mut dst[plane_out.clone()];
                            for (r, oy) in (ylo..yhi).enumerate() {
                                let d = &mut plane[oy * ow + xlo..][..len];
                                add_scaled(d, &plane_in[(iy0 + r) * w + ix0..][..len], wv);
                            }
                        }
                        Pass::InputGrad => {
                            let grad = &b[plane_out.clone()];
                            let wv = a[tap];
                            let plane = &mut dst[ci * h * w..][..h * w];
                            for (r, oy) in (ylo..yhi).enumerate() {
                                let d = &mut plane[(iy0 + r) * w + ix0..][..len];
                                add_scaled(d, &grad[oy * ow + xlo..][..len], wv);
                            }
                        }
                        Pass::WeightGrad => {
                            let grad = &b[plane_out.clone()];
                            let plane = &a[ci * h * w..][..h * w];
                            let mut lanes = [0.0f32; 16];
                            for (r, oy) in (ylo..yhi).enumerate() {
                                let xs = &plane[(iy0 + r) * w + ix0..][..len];
                                let g = &grad[oy * ow + xlo..][..len];
                                dot_into(&mut lanes, xs, g);
                            }
                            dst[tap] += lanes.iter().sum::<f32>();
                        }
                    }
                }
            }
        }
    }
}

/// `d += w · s`, a loop the compiler vectorises.
#[inline(always)]
fn add_scaled(d: &mut [f32], s: &[f32], w: f32) {
    d.iter_mut().zip(s).for_each(|(d, s)| *d += w * s);
}

/// `lanes[i % 16] += a[i] · b[i]`: sixteen independent sums, which the
/// compiler keeps in vector registers.
#[inline(always)]
fn dot_into(lanes: &mut [f32; 16], a: &[f32], b: &[f32]) {
    let (ac, bc) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..16 {
            lanes[i] += x[i] * y[i];
        }
    }
    for (i, (x, y)) in ar.iter().zip(br).enumerate() {
        lanes[i] += x * y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(conv: &PlaneConv, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
        let [n, c, h, w] = conv.input;
        let [oh, ow] = conv.out().unwrap_or([0, 0]);
        let [kh, kw] = conv.kernel;
        let mut y = vec![0.0; n * conv.outputs * oh * ow];
        for b in 0..n {
            for o in 0..conv.outputs {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = bias[o];
                        for ci in 0..c {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy + ky * conv.dilation[0]) as isize
                                        - conv.padding[0] as isize;
                                    let ix = (ox + kx * conv.dilation[1]) as isize
                                        - conv.padding[1] as isize;
                                    if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w
                                    {
                                        s += weight[((o * c + ci) * kh + ky) * kw + kx]
                                            * x[((b * c + ci) * h + iy as usize) * w + ix as usize];
                                    }
                                }
                            }
                        }
                        y[((b * conv.outputs + o) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn matches_the_definition_with_padding_dilation_and_uneven_sizes() {
        for (kernel, padding, dilation, size, outputs) in [
            ([3, 3], [1, 1], [1, 1], [9, 7], 1),
            ([3, 3], [1, 1], [1, 1], [8, 8], 3),
            ([3, 2], [0, 2], [2, 1], [7, 5], 2),
            ([5, 5], [2, 2], [1, 1], [3, 4], 4),
        ] {
            let conv = PlaneConv {
                input: [2, 5, size[0], size[1]],
                outputs,
                kernel,
                padding,
                dilation,
            };
            let x: Vec<f32> = (0..conv.input.iter().product::<usize>())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 16.0)
                .collect();
            let weight: Vec<f32> = (0..outputs * 5 * kernel[0] * kernel[1])
                .map(|i| ((i * 13 % 29) as f32 - 14.0) / 8.0)
                .collect();
            let bias: Vec<f32> = (0..outputs).map(|o| o as f32 - 0.5).collect();
            let got = forward(&conv, &x, &weight, Some(&bias)).unwrap_or_default();
            let want = naive(&conv, &x, &weight, &bias);
            assert_eq!(got.len(), want.len(), "{conv:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-4 * (1.0 + w.abs()),
                    "{conv:?}: {g} vs {w}"
                );
            }
        }
    }

    /// The gradients are the adjoints of the forward pass: for any `g`,
    /// `<g, conv(x)> = <dx(g), x>` (weight fixed) and `= <dw(g), w>` (input
    /// fixed), checked with the naive forward.
    #[test]
    fn gradients_are_the_forward_passs_adjoints() {
        for (kernel, padding, dilation, size, outputs) in [
            ([3, 3], [1, 1], [1, 1], [9, 7], 1),
            ([3, 3], [1, 1], [1, 1], [20, 37], 3),
            ([3, 2], [0, 2], [2, 1], [7, 5], 2),
        ] {
            let conv = PlaneConv {
                input: [3, 4, size[0], size[1]],
                outputs,
                kernel,
                padding,
                dilation,
            };
            let [oh, ow] = conv.out().unwrap_or([0, 0]);
            let x: Vec<f32> = (0..conv.input.iter().product::<usize>())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 16.0)
                .collect();
            let weight: Vec<f32> = (0..outputs * 4 * kernel[0] * kernel[1])
                .map(|i| ((i * 13 % 29) as f32 - 14.0) / 8.0)
                .collect();
            let g: Vec<f32> = (0..3 * outputs * oh * ow)
                .map(|i| ((i * 7 % 23) as f32 - 11.0) / 4.0)
                .collect();
            let zero = vec![0.0; outputs];
            let y = naive(&conv, &x, &weight, &zero);
            let dot = |a: &[f32], b: &[f32]| -> f64 {
                a.iter()
                    .zip(b)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum()
            };
            let want = dot(&g, &y);
            let Some((Some(dx), Some(dw))) = backward(&conv, &x, &weight, &g, [true, true]) else {
                panic!("{conv:?}: no gradients");
            };
            let scale = 1e-4 * (1.0 + want.abs());
            assert!((dot(&dx, &x) - want).abs() < scale, "{conv:?}: dx");
            assert!((dot(&dw, &weight) - want).abs() < scale, "{conv:?}: dw");
            // One-hot checks pin each entry, not only the sums.
            for probe in [0, x.len() / 2, x.len() - 1] {
                let mut e = vec![0.0; x.len()];
                e[probe] = 1.0;
                let along = dot(&g, &naive(&conv, &e, &weight, &zero));
                assert!(
                    (f64::from(dx[probe]) - along).abs() < 1e-3,
                    "{conv:?}: dx[{probe}]"
                );
            }
            for probe in [0, weight.len() - 1] {
                let mut e = vec![0.0; weight.len()];
                e[probe] = 1.0;
                let along = dot(&g, &naive(&conv, &x, &e, &zero));
                assert!(
                    (f64::from(dw[probe]) - along).abs() < 1e-2,
                    "{conv:?}: dw[{probe}]"
                );
            }
            assert_eq!(
                backward(&conv, &x, &weight, &g, [false, false]),
                Some((None, None))
            );
            assert!(backward(&conv, &x, &weight, &g[1..], [true, true]).is_none());
        }
    }

    #[test]
    fn sizes_that_disagree_are_refused() {
        let conv = PlaneConv {
            input: [1, 2, 4, 4],
            outputs: 1,
            kernel: [3, 3],
            padding: [1, 1],
            dilation: [1, 1],
        };
        assert!(forward(&conv, &[0.0; 31], &[0.0; 18], None).is_none());
        assert!(forward(&conv, &[0.0; 32], &[0.0; 17], None).is_none());
        assert!(forward(&conv, &[0.0; 32], &[0.0; 18], Some(&[0.0; 2])).is_none());
        let too_big = PlaneConv {
            kernel: [7, 7],
            padding: [0, 0],
            ..conv
        };
        assert!(forward(&too_big, &[0.0; 32], &[0.0; 98], None).is_none());
    }
}
