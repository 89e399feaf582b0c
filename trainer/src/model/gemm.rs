//! Matrix products on host `f32` slices through the `gemm` crate (the kernels
//! burn-flex's own matmul uses), with any row and column strides and the
//! option to add into the destination.
//!
//! Which operand is contiguous along which axis changes gemm's speed by up to
//! 3× (measured on the 2-vCPU machine for the up-convolution's shapes: 300
//! GFLOP/s with a row-major `[4096, 1024] · [1024, 64]`, 110 with the same
//! product stored transposed). The callers in [`super::flex_conv`] pick their
//! layouts for the fast case; this module only checks bounds and calls.

/// A strided view of a matrix: element `(i, j)` at `offset + i·row_stride +
/// j·col_stride` of `data`.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    data: &'a [f32],
    shape: [usize; 2],
    strides: [usize; 2],
}

impl<'a> View<'a> {
    /// `data` as a row-major `[rows, cols]` matrix.
    pub fn rows(data: &'a [f32], shape: [usize; 2]) -> Self {
        View {
            data,
            shape,
            strides: [shape[1], 1],
        }
    }

    /// The transpose of `data` taken as a row-major `[cols, rows]` matrix:
    /// a `[rows, cols]` view, column-major in memory.
    pub fn transposed(data: &'a [f32], shape: [usize; 2]) -> Self {
        View {
            data,
            shape,
            strides: [1, shape[0]],
        }
    }

    /// `data` as a `[rows, cols]` matrix with element `(i, j)` at
    /// `i·strides[0] + j·strides[1]`.
    pub fn strided(data: &'a [f32], shape: [usize; 2], strides: [usize; 2]) -> Self {
        View {
            data,
            shape,
            strides,
        }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        fits(self.data.len(), self.shape, self.strides)
    }
}

fn fits(len: usize, [rows, cols]: [usize; 2], [rs, cs]: [usize; 2]) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    (rows - 1)
        .checked_mul(rs)
        .zip((cols - 1).checked_mul(cs))
        .and_then(|(a, b)| a.checked_add(b))
        .is_some_and(|last| last < len)
}

/// Which threads a product runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// rayon's pool, split over the output.
    Pool,
    /// The calling thread alone (for callers that are already one task of
    /// many).
    Caller,
}

/// `dst = a · b` (or `dst += a · b` where `add`), with `dst` row-major
/// `[m, n]`, on rayon's pool; `None` (nothing written) where the shapes
/// disagree or a view reaches past its slice.
pub fn matmul(dst: &mut [f32], a: View<'_>, b: View<'_>, add: bool) -> Option<()> {
    let n = b.shape[1];
    if dst.len() != a.shape[0] * n {
        return None;
    }
    matmul_strided(dst, [n, 1], a, b, add, Threads::Pool)
}

/// `dst = a · b` (or `+=` where `add`) with element `(i, j)` of the `[m, n]`
/// result at `dst[i·strides[0] + j·strides[1]]`; the rows (or the columns)
/// must not overlap, and `dst` may hold other values between them, which
/// are left as they are. `None` (nothing written) where the shapes disagree,
/// a view reaches past its slice or the destination's elements overlap.
pub fn matmul_strided(
    dst: &mut [f32],
    strides: [usize; 2],
    a: View<'_>,
    b: View<'_>,
    add: bool,
    threads: Threads,
) -> Option<()> {
    let ([m, k], [k2, n]) = (a.shape, b.shape);
    let [rs, cs] = strides;
    let disjoint = (cs >= 1 && rs >= n * cs) || (rs >= 1 && cs >= m * rs) || m * n <= 1;
    if k != k2 || !disjoint || !fits(dst.len(), [m, n], strides) || !a.fits() || !b.fits() {
        return None;
    }
    if m == 0 || n == 0 {
        return Some(());
    }
    if k == 0 {
        if !add {
            for i in 0..m {
                for j in 0..n {
                    dst[i * rs + j * cs] = 0.0;
                }
            }
        }
        return Some(());
    }
    let parallelism = match (threads, rayon::current_num_threads()) {
        (Threads::Caller, _) | (_, 0 | 1) => gemm::Parallelism::None,
        (Threads::Pool, t) => gemm::Parallelism::Rayon(t),
    };
    let stride = |s: usize| s as isize;
    // SAFETY: every element of `a`, `b` and the `[m, n]` destination lies
    // inside its slice (`fits`), no two destination elements share an
    // address (`disjoint`), and `dst` is a unique borrow, so it overlaps
    // neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            stride(cs),
            stride(rs),
            add,
            a.data.as_ptr(),
            stride(a.strides[1]),
            stride(a.strides[0]),
            b.data.as_ptr(),
            stride(b.strides[1]),
            stride(b.strides[0]),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], [m, k]: [usize; 2], b: &[f32], n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        out
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 31 + seed * 7) % 17) as f32 - 8.0)
            .collect()
    }

    #[test]
    fn every_layout_gives_the_product_and_add_accumulates() {
        let (m, k, n) = (5, 7, 3);
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let want = naive(&a, [m, k], &b, n);
        let transpose = |v: &[f32], [r, c]: [usize; 2]| -> Vec<f32> {
            (0..c)
                .flat_map(|j| (0..r).map(move |i| v[i * c + j]))
                .collect()
        };
        let (at, bt) = (transpose(&a, [m, k]), transpose(&b, [k, n]));
        for (va, vb) in [
            (View::rows(&a, [m, k]), View::rows(&b, [k, n])),
            (View::transposed(&at, [m, k]), View::rows(&b, [k, n])),
            (View::rows(&a, [m, k]), View::transposed(&bt, [k, n])),
            (View::transposed(&at, [m, k]), View::transposed(&bt, [k, n])),
        ] {
            let mut out = vec![1.0; m * n];
            assert_eq!(matmul(&mut out, va, vb, false), Some(()));
            assert_eq!(out, want);
            assert_eq!(matmul(&mut out, va, vb, true), Some(()));
            assert_eq!(out, want.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
        }
    }

    /// A strided destination gets the product in its elements and keeps the
    /// values between them; overlapping rows are refused.
    #[test]
    fn a_strided_destination_keeps_the_values_between_its_elements() {
        let (m, k, n) = (4, 3, 2);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let want = naive(&a, [m, k], &b, n);
        let (va, vb) = (View::rows(&a, [m, k]), View::rows(&b, [k, n]));
        for threads in [Threads::Pool, Threads::Caller] {
            // Rows 5 apart, the two values one apart: three untouched between.
            let mut out = vec![-1.0; 5 * (m - 1) + n + 1];
            assert_eq!(
                matmul_strided(&mut out[1..], [5, 1], va, vb, false, threads),
                Some(())
            );
            for (at, v) in out.iter().enumerate() {
                let (i, j) = ((at.max(1) - 1) / 5, (at.max(1) - 1) % 5);
                match (at >= 1 && j < n).then_some(()) {
                    Some(()) => assert_eq!(*v, want[i * n + j]),
                    None => assert_eq!(*v, -1.0),
                }
            }
            // Column-major with gaps.
            let mut cols = vec![0.0; (n - 1) * 6 + m];
            assert_eq!(
                matmul_strided(&mut cols, [1, 6], va, vb, false, threads),
                Some(())
            );
            assert_eq!(cols[6 + 3], want[3 * n + 1]);
        }
        let mut out = vec![0.0; 16];
        assert!(matmul_strided(&mut out, [1, 1], va, vb, false, Threads::Pool).is_none());
        assert_eq!(out, vec![0.0; 16]);
    }

    #[test]
    fn shapes_that_disagree_or_overrun_are_refused() {
        let a = values(6, 0);
        let mut out = vec![0.0; 4];
        let short = View::rows(&a[..5], [2, 3]);
        assert!(matmul(&mut out, short, View::rows(&a, [3, 2]), false).is_none());
        assert!(
            matmul(
                &mut out,
                View::rows(&a, [2, 3]),
                View::rows(&a, [2, 3]),
                false
            )
            .is_none()
        );
        assert!(
            matmul(
                &mut out[..3],
                View::rows(&a, [2, 3]),
                View::rows(&a, [3, 2]),
                false
            )
            .is_none()
        );
        assert_eq!(out, vec![0.0; 4]);
    }
}
