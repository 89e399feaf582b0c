//! Patches of an NCHW image as matrix columns (`im2col`) and back (`col2im`),
//! on host `f32` slices: the two data moves of a convolution's backward pass
//! written as matrix products (see [`super::flex_conv`]).
//!
//! Column layout: row `(c, ky, kx)` (`c·kh·kw + ky·kw + kx`), column
//! `(n, oy, ox)` (`n·P + oy·ow + ox`, `P = oh·ow`), so rows are long and
//! written contiguously. The `_rows` forms take a block of output rows, so
//! that large convolutions never hold the whole matrix.

use std::ops::Range;

/// Where a convolution's window goes over an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Channels of the image.
    pub channels: usize,
    /// Image height and width.
    pub size: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Zero padding on each side (the same before and after).
    pub padding: [usize; 2],
    /// Dilation.
    pub dilation: [usize; 2],
}

impl Window {
    /// A window over a `channels`-channel image of `size`, with `kernel` and
    /// `[stride, padding, dilation]`.
    pub fn new(
        channels: usize,
        size: [usize; 2],
        kernel: [usize; 2],
        [stride, padding, dilation]: [[usize; 2]; 3],
    ) -> Self {
        Window {
            channels,
            size,
            kernel,
            stride,
            padding,
            dilation,
        }
    }

    /// Output positions per axis, or `None` where the kernel does not fit or a
    /// stride or dilation is 0.
    pub fn out(&self) -> Option<[usize; 2]> {
        let axis = |a: usize| {
            let span = self.dilation[a] * (self.kernel[a].checked_sub(1)?) + 1;
            let padded = self.size[a] + 2 * self.padding[a];
            if self.stride[a] == 0 || self.dilation[a] == 0 || padded < span {
                return None;
            }
            Some((padded - span) / self.stride[a] + 1)
        };
        Some([axis(0)?, axis(1)?])
    }

    /// Rows of the column matrix: `channels · kh · kw`.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Output positions `o < out` whose input index `o·stride + offset - pad`
    /// lies inside the image, on axis `a`, for kernel tap `k`.
    pub(super) fn valid(&self, a: usize, k: usize, out: usize) -> (usize, usize) {
        let (offset, pad, stride) = (k * self.dilation[a], self.padding[a], self.stride[a]);
        let lo = pad.saturating_sub(offset).div_ceil(stride);
        let hi = (self.size[a] + pad)
            .saturating_sub(offset)
            .div_ceil(stride)
            .min(out);
        (lo.min(hi), hi)
    }
}

/// The whole column matrix `[channels·kh·kw, batch·oh·ow]` of `image`
/// (`[batch, channels, h, w]`, row-major); `None` when sizes disagree.
#[cfg(test)]
fn im2col(image: &[f32], batch: usize, win: &Window) -> Option<Vec<f32>> {
    let [oh, _] = win.out()?;
    im2col_rows(image, batch, win, 0..batch * oh)
}

/// The columns of output rows `rows` (row `n·oh + oy`) of `image`
/// (`[batch, channels, h, w]`, row-major): `[channels·kh·kw, rows.len()·ow]`,
/// a block of the whole column matrix; `None` when sizes disagree.
pub fn im2col_rows(
    image: &[f32],
    batch: usize,
    win: &Window,
    rows: Range<usize>,
) -> Option<Vec<f32>> {
    let [oh, ow] = win.out()?;
    if image.len() != win.image_len(batch) || rows.end > batch * oh {
        return None;
    }
    let mut cols = vec![0.0f32; win.rows() * rows.len() * ow];
    win.runs(rows, |run| {
        let dst = &mut cols[run.column..][..run.count];
        match win.stride[1] {
            1 => dst.copy_from_slice(&image[run.pixel..][..run.count]),
            // Pairs: every other value, as a loop the compiler vectorises.
            2 => {
                let src = &image[run.pixel..][..2 * run.count - 1];
                for (d, pair) in dst.iter_mut().zip(src.chunks(2)) {
                    *d = pair[0];
                }
            }
            s => {
                for (d, v) in dst.iter_mut().zip(image[run.pixel..].iter().step_by(s)) {
                    *d = *v;
                }
            }
        }
    });
    Some(cols)
}

/// The adjoint of `im2col`: sums each column entry back into the pixel it
/// came from, giving `[batch, channels, h, w]`; `None` when sizes disagree.
#[cfg(test)]
fn col2im(cols: &[f32], batch: usize, win: &Window) -> Option<Vec<f32>> {
    let [h, w] = win.size;
    let [oh, _] = win.out()?;
    let mut image = vec![0.0f32; batch * win.channels * h * w];
    col2im_rows_add(cols, batch, win, 0..batch * oh, &mut image)?;
    Some(image)
}

/// The adjoint of [`im2col_rows`]: adds a block of columns (output rows
/// `rows`) back into the pixels they came from in `image`; `None` when sizes
/// disagree.
pub fn col2im_rows_add(
    cols: &[f32],
    batch: usize,
    win: &Window,
    rows: Range<usize>,
    image: &mut [f32],
) -> Option<()> {
    let [oh, ow] = win.out()?;
    if cols.len() != win.rows() * rows.len() * ow
        || image.len() != win.image_len(batch)
        || rows.end > batch * oh
    {
        return None;
    }
    win.runs(rows, |run| {
        let src = &cols[run.column..][..run.count];
        for (d, v) in image[run.pixel..]
            .iter_mut()
            .step_by(win.stride[1])
            .zip(src)
        {
            *d += *v;
        }
    });
    Some(())
}

/// Consecutive entries of one column-matrix row that read pixels of one
/// image row: `count` entries from `column` (an index into the block), and
/// their pixels from `pixel` (an index into the image), `stride[1]` apart.
struct Run {
    column: usize,
    pixel: usize,
    count: usize,
}

impl Window {
    /// Values of a `[batch, channels, h, w]` image.
    fn image_len(&self, batch: usize) -> usize {
        batch * self.channels * self.size[0] * self.size[1]
    }

    /// Calls `f` for every [`Run`] of the block of output rows `rows`: the one
    /// walk over the image that `im2col_rows` and `col2im_rows_add` share, so
    /// they stay each other's adjoint. Output rows must lie in the batch.
    fn runs(&self, rows: Range<usize>, mut f: impl FnMut(Run)) {
        let ([kh, kw], [h, w]) = (self.kernel, self.size);
        let Some([oh, ow]) = self.out() else {
            return;
        };
        let len = rows.len() * ow;
        for k in 0..self.rows() {
            let (c, ky, kx) = (k / (kh * kw), k / kw % kh, k % kw);
            let (ylo, yhi) = self.valid(0, ky, oh);
            let (xlo, xhi) = self.valid(1, kx, ow);
            if ylo == yhi || xlo == xhi {
                continue;
            }
            for (i, r) in rows.clone().enumerate() {
                let (n, oy) = (r / oh, r % oh);
                if oy < ylo || oy >= yhi {
                    continue;
                }
                let iy = oy * self.stride[0] + ky * self.dilation[0] - self.padding[0];
                let ix = xlo * self.stride[1] + kx * self.dilation[1] - self.padding[1];
                f(Run {
                    column: k * len + i * ow + xlo,
                    pixel: ((n * self.channels + c) * h + iy) * w + ix,
                    count: xhi - xlo,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column matrix by definition, with bounds checks at every tap.
    fn naive(image: &[f32], batch: usize, win: &Window) -> Vec<f32> {
        let [h, w] = win.size;
        let [oh, ow] = win.out().unwrap_or([0, 0]);
        let np = batch * oh * ow;
        let mut cols = vec![0.0; win.rows() * np];
        for c in 0..win.channels {
            for ky in 0..win.kernel[0] {
                for kx in 0..win.kernel[1] {
                    let row = (c * win.kernel[0] + ky) * win.kernel[1] + kx;
                    for n in 0..batch {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let iy = (oy * win.stride[0] + ky * win.dilation[0]) as isize
                                    - win.padding[0] as isize;
                                let ix = (ox * win.stride[1] + kx * win.dilation[1]) as isize
                                    - win.padding[1] as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    cols[row * np + (n * oh + oy) * ow + ox] =
                                        image[((n * win.channels + c) * h + iy as usize) * w
                                            + ix as usize];
                                }
                            }
                        }
                    }
                }
            }
        }
        cols
    }

    fn windows() -> Vec<Window> {
        let mut all = Vec::new();
        for (kernel, stride, padding, dilation) in [
            (3, 1, 1, 1),
            (3, 2, 1, 1),
            (4, 2, 1, 1),
            (1, 1, 0, 1),
            (11, 4, 2, 1),
            (3, 1, 2, 2),
            (5, 3, 0, 1),
            // Taps that land on no pixel of a small image.
            (5, 1, 2, 1),
        ] {
            for size in [[7, 9], [12, 12], [16, 5], [2, 3]] {
                all.push(Window {
                    channels: 2,
                    size,
                    kernel: [kernel, kernel],
                    stride: [stride, stride],
                    padding: [padding, padding],
                    dilation: [dilation, dilation],
                });
            }
        }
        all
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_adjoint() {
        for win in windows() {
            let Some([oh, ow]) = win.out() else {
                continue;
            };
            let batch = 3;
            let [h, w] = win.size;
            let image: Vec<f32> = (0..batch * 2 * h * w)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let cols = im2col(&image, batch, &win);
            assert_eq!(cols.as_deref(), Some(naive(&image, batch, &win).as_slice()));
            // <im2col(x), y> = <x, col2im(y)> for any y: the adjoint.
            let y: Vec<f32> = (0..win.rows() * batch * oh * ow)
                .map(|i| ((i * 13 % 29) as f32 - 14.0) / 5.0)
                .collect();
            let back = col2im(&y, batch, &win).unwrap_or_default();
            let lhs: f64 = cols
                .unwrap_or_default()
                .iter()
                .zip(&y)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            let rhs: f64 = image
                .iter()
                .zip(&back)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            // col2im sums in f32: allow its rounding, relative to the terms' size.
            let scale: f64 = image
                .iter()
                .zip(&back)
                .map(|(a, b)| (f64::from(*a) * f64::from(*b)).abs())
                .sum();
            assert!(
                (lhs - rhs).abs() < 1e-6 * scale.max(1.0),
                "{win:?}: {lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn blocks_of_rows_make_up_the_whole_matrix() {
        for win in windows() {
            let Some([oh, ow]) = win.out() else {
                continue;
            };
            let batch = 2;
            let [h, w] = win.size;
            let image: Vec<f32> = (0..batch * 2 * h * w).map(|i| i as f32).collect();
            let whole = im2col(&image, batch, &win).unwrap_or_default();
            let np = batch * oh * ow;
            let mut back = vec![0.0; image.len()];
            for start in (0..batch * oh).step_by(3) {
                let rows = start..(start + 3).min(batch * oh);
                let block = im2col_rows(&image, batch, &win, rows.clone()).unwrap_or_default();
                let len = rows.len() * ow;
                for k in 0..win.rows() {
                    assert_eq!(
                        block[k * len..(k + 1) * len],
                        whole[k * np + rows.start * ow..][..len],
                        "{win:?} rows {rows:?}"
                    );
                }
                assert!(col2im_rows_add(&block, batch, &win, rows, &mut back).is_some());
            }
            assert_eq!(Some(back), col2im(&whole, batch, &win), "{win:?}");
        }
    }

    #[test]
    fn sizes_that_disagree_are_refused() {
        let win = Window {
            channels: 1,
            size: [4, 4],
            kernel: [3, 3],
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
        };
        assert_eq!(win.out(), Some([2, 2]));
        assert!(im2col(&[0.0; 15], 1, &win).is_none());
        assert!(col2im(&[0.0; 35], 1, &win).is_none());
        let too_big = Window {
            kernel: [5, 5],
            ..win
        };
        assert_eq!(too_big.out(), None);
        assert_eq!(
            Window {
                stride: [0, 1],
                ..win
            }
            .out(),
            None
        );
    }
}
