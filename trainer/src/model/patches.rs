//! Patch-major column matrices over channels-last images: the layout under
//! which the up-convolution's backward products run at gemm's fast case (see
//! [`super::gemm`]).
//!
//! A patch matrix has one row per output position `(oy, ox)` of one image and
//! one column per `(ky, kx, c)` (`(ky·kw + kx)·C + c`), so each tap copies a
//! pixel's `C` contiguous channels. [`super::im2col`] keeps the transposed,
//! channel-major layout for the paths that suit it.

use rayon::prelude::*;
use std::ops::Range;

use super::im2col::Window;

/// `[batch, a, b]` → `[batch, b, a]`: NCHW ↔ NHWC with `a`, `b` the channel
/// and pixel counts (either way round). `None` when `v` is not that long.
pub fn transpose_inner(v: &[f32], [batch, a, b]: [usize; 3]) -> Option<Vec<f32>> {
    if v.len() != batch * a * b {
        return None;
    }
    let mut out = vec![0.0f32; v.len()];
    if a * b == 0 {
        return Some(out);
    }
    out.par_chunks_mut(a * b)
        .zip(v.par_chunks(a * b))
        .try_for_each(|(dst, src)| transpose_into(src, [a, b], dst, [0, a]))?;
    Some(out)
}

/// `[a, b, c]` → `[c, b, a]`: an up-convolution's weight `[in, (out, tap)]`
/// to gemm's `[(tap, out), in]` rows and back. `None` when `v` is not that
/// long.
pub fn reverse_axes(v: &[f32], [a, b, c]: [usize; 3]) -> Option<Vec<f32>> {
    if v.len() != a * b * c {
        return None;
    }
    let mut out = vec![0.0f32; v.len()];
    for i in 0..a {
        for j in 0..b {
            for k in 0..c {
                out[(k * b + j) * a + i] = v[(i * b + j) * c + k];
            }
        }
    }
    Some(out)
}

/// Writes the transpose of the row-major `[a, b]` matrix `src` into `dst`:
/// entry `(i, j)` goes to `dst[j·stride + offset + i]`, so columns
/// `offset..offset + a` of a row-major `[b, stride]` matrix. `None`
/// (nothing written) where `src` is not `a·b` long or `dst` does not reach
/// that far.
pub fn transpose_into(
    src: &[f32],
    [a, b]: [usize; 2],
    dst: &mut [f32],
    [offset, stride]: [usize; 2],
) -> Option<()> {
    if src.len() != a * b || offset + a > stride.max(a) {
        return None;
    }
    transpose_block(src, [a, b], b, dst.get_mut(offset..)?, stride)
}

/// Writes the transpose of the `[a, b]` matrix whose rows start
/// `src_stride` apart in `src`: entry `src[i·src_stride + j]` goes to
/// `dst[j·dst_stride + i]`, block by block so both sides stay in cache.
/// Values of `dst` outside those places are left as they are. `None`
/// (nothing written) where a stride is shorter than its row or either
/// slice is too short.
pub fn transpose_block(
    src: &[f32],
    [a, b]: [usize; 2],
    src_stride: usize,
    dst: &mut [f32],
    dst_stride: usize,
) -> Option<()> {
    // Blocks of `TILE` source rows: their cache lines stay in L1 while every
    // column of the block is read and written as a contiguous destination run.
    const TILE: usize = 128;
    if a == 0 || b == 0 {
        return Some(());
    }
    let src_end = (a - 1).checked_mul(src_stride)?.checked_add(b)?;
    let dst_end = (b - 1).checked_mul(dst_stride)?.checked_add(a)?;
    if src_stride < b || dst_stride < a || src_end > src.len() || dst_end > dst.len() {
        return None;
    }
    for i0 in (0..a).step_by(TILE) {
        let len = TILE.min(a - i0);
        let block = &src[i0 * src_stride..];
        for j in 0..b {
            let run = &mut dst[j * dst_stride + i0..][..len];
            for (d, v) in run.iter_mut().zip(block[j..].iter().step_by(src_stride)) {
                *d = *v;
            }
        }
    }
    Some(())
}

/// Fills `out` with the patch matrix of output rows `rows` of image `index`
/// of `image` (`[batch, h, w, channels]`, channels-last) under `win`:
/// `[rows.len()·ow, kh·kw·channels]`, zeros where a tap falls in the padding.
/// Every entry is written, so `out` may be reused. `None` when sizes disagree.
pub fn patches_into(
    image: &[f32],
    index: usize,
    win: &Window,
    rows: Range<usize>,
    out: &mut [f32],
) -> Option<()> {
    let [h, w] = win.size;
    let [oh, ow] = win.out()?;
    let c = win.channels;
    let k = win.rows();
    let plane = h * w * c;
    let img = image.get(index * plane..(index + 1) * plane)?;
    if rows.end > oh || out.len() != rows.len() * ow * k || k == 0 {
        return (k == 0 && out.is_empty()).then_some(());
    }
    let [kh, kw] = win.kernel;
    out.par_chunks_mut(ow * k).zip(rows).for_each(|(dst, oy)| {
        for ky in 0..kh {
            let (ylo, yhi) = win.valid(0, ky, oh);
            let iy = (oy >= ylo && oy < yhi)
                .then(|| oy * win.stride[0] + ky * win.dilation[0] - win.padding[0]);
            for kx in 0..kw {
                let (xlo, xhi) = win.valid(1, kx, ow);
                let tap = (ky * kw + kx) * c;
                for ox in 0..ow {
                    let d = &mut dst[ox * k + tap..][..c];
                    match iy {
                        Some(iy) if ox >= xlo && ox < xhi => {
                            let ix = ox * win.stride[1] + kx * win.dilation[1] - win.padding[1];
                            d.copy_from_slice(&img[(iy * w + ix) * c..][..c]);
                        }
                        _ => d.fill(0.0),
                    }
                }
            }
        }
    });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_each_image_and_back() {
        let v: Vec<f32> = (0..2 * 3 * 5).map(|i| i as f32).collect();
        let t = transpose_inner(&v, [2, 3, 5]).unwrap_or_default();
        assert_eq!(t[1], v[5]);
        assert_eq!(t[15 + 3 * 2 + 1], v[15 + 5 + 2]);
        assert_eq!(transpose_inner(&t, [2, 5, 3]), Some(v.clone()));
        assert!(transpose_inner(&v[1..], [2, 3, 5]).is_none());
    }

    #[test]
    fn reversing_the_axes_twice_gives_the_values_back() {
        let v: Vec<f32> = (0..2 * 3 * 4).map(|i| i as f32).collect();
        let r = reverse_axes(&v, [2, 3, 4]).unwrap_or_default();
        // Entry (1, 2, 3) of v is entry (3, 2, 1) of r.
        assert_eq!(r[(3 * 3 + 2) * 2 + 1], v[(3 + 2) * 4 + 3]);
        assert_eq!(reverse_axes(&r, [4, 3, 2]), Some(v.clone()));
        assert!(reverse_axes(&v[1..], [2, 3, 4]).is_none());
    }

    /// A block of a wider matrix lands, transposed, between other values.
    #[test]
    fn a_strided_block_transposes_into_a_strided_place() {
        // Rows of 3 taken from a [4, 5] matrix, written into rows 6 apart.
        let src: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let mut dst = vec![-1.0; 2 * 6 + 4];
        assert_eq!(transpose_block(&src, [4, 3], 5, &mut dst, 6), Some(()));
        for j in 0..3 {
            for i in 0..4 {
                assert_eq!(dst[j * 6 + i], src[i * 5 + j]);
            }
        }
        for untouched in [4, 5, 10, 11] {
            assert_eq!(dst[untouched], -1.0);
        }
        assert!(transpose_block(&src, [4, 6], 5, &mut dst, 6).is_none());
        assert!(transpose_block(&src, [4, 3], 5, &mut dst[..15], 6).is_none());
    }

    /// Each patch entry is the pixel its tap lands on, or zero in the padding,
    /// for the windows the models use and a dilated, uneven one.
    #[test]
    fn patches_hold_each_taps_pixel() {
        for (kernel, stride, padding, dilation, size) in [
            (4, 2, 1, 1, [9, 6]),
            (3, 1, 1, 1, [5, 7]),
            (3, 1, 2, 2, [6, 4]),
            (5, 3, 0, 1, [11, 8]),
        ] {
            let win = Window::new(
                3,
                size,
                [kernel; 2],
                [[stride; 2], [padding; 2], [dilation; 2]],
            );
            let Some([oh, ow]) = win.out() else {
                panic!("{win:?} has no output");
            };
            let [h, w] = size;
            let image: Vec<f32> = (0..2 * h * w * 3).map(|i| i as f32 + 1.0).collect();
            for rows in [0..oh, 1..oh.min(3)] {
                let k = win.rows();
                let mut out = vec![f32::NAN; rows.len() * ow * k];
                assert_eq!(
                    patches_into(&image, 1, &win, rows.clone(), &mut out),
                    Some(())
                );
                for (r, oy) in rows.clone().enumerate() {
                    for ox in 0..ow {
                        for ky in 0..kernel {
                            for kx in 0..kernel {
                                for ch in 0..3 {
                                    let iy =
                                        (oy * stride + ky * dilation) as isize - padding as isize;
                                    let ix =
                                        (ox * stride + kx * dilation) as isize - padding as isize;
                                    let inside = iy >= 0
                                        && ix >= 0
                                        && (iy as usize) < h
                                        && (ix as usize) < w;
                                    let want = match inside {
                                        true => {
                                            image[((h + iy as usize) * w + ix as usize) * 3 + ch]
                                        }
                                        false => 0.0,
                                    };
                                    let got = out[(r * ow + ox) * k + (ky * kernel + kx) * 3 + ch];
                                    assert_eq!(got, want, "{win:?} at {oy},{ox} tap {ky},{kx}");
                                }
                            }
                        }
                    }
                }
            }
            let mut wrong = vec![0.0; 5];
            assert!(patches_into(&image, 1, &win, 0..oh, &mut wrong).is_none());
            assert!(patches_into(&image, 2, &win, 0..1, &mut vec![0.0; ow * win.rows()]).is_none());
        }
    }
}
