//! The k-nearest-neighbour probe (Wu et al., CVPR 2018; the protocol of
//! DINO): no training and nothing to tune. Features are L2-normalised; each
//! test image takes the `k` training images of highest cosine similarity,
//! each voting for its class with weight `exp(similarity / T)`, and is
//! classified as the class with the most weight.

use super::linear::Examples;
use crate::model::gemm::{self, View};

/// Neighbours per vote (20, as in Wu et al. and DINO).
pub const K: usize = 20;
/// Temperature of the vote weights.
pub const TEMPERATURE: f32 = 0.07;
/// Test rows compared with the training set at once (bounds the similarity block).
const BLOCK: usize = 256;

/// Rows of `x` scaled to unit length (zero rows stay zero).
fn normalised(x: &Examples) -> Vec<f32> {
    let mut out = x.features.clone();
    for row in out.chunks_mut(x.dims.max(1)) {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}

/// The training rows, L2-normalised once, against which test rows are
/// classified as they come.
#[derive(Clone, Debug)]
pub struct KnnIndex {
    rows: Vec<f32>,
    labels: Vec<u32>,
    dims: usize,
    classes: usize,
}

impl KnnIndex {
    /// The index of `train` over `classes` classes.
    pub fn new(train: &Examples, classes: usize) -> Self {
        KnnIndex {
            rows: normalised(train),
            labels: train.labels.clone(),
            dims: train.dims,
            classes,
        }
    }

    /// Rows of `test` that their `k` most similar training rows classify
    /// correctly; 0 when either set is empty or their dimensions differ.
    pub fn correct(&self, test: &Examples, k: usize) -> usize {
        let (n, m, d) = (self.labels.len(), test.labels.len(), self.dims);
        if n == 0 || m == 0 || d == 0 || test.dims != d {
            return 0;
        }
        let k = k.clamp(1, n);
        let b = normalised(test);
        let mut correct = 0usize;
        let mut sims = vec![0.0f32; BLOCK.min(m) * n];
        let mut order: Vec<usize> = Vec::with_capacity(n);
        for start in (0..m).step_by(BLOCK) {
            let rows = BLOCK.min(m - start);
            let block = &b[start * d..(start + rows) * d];
            let dst = &mut sims[..rows * n];
            // [rows, d] · [d, n]: the training rows, read as columns.
            if gemm::matmul(
                dst,
                View::rows(block, [rows, d]),
                View::transposed(&self.rows, [d, n]),
                false,
            )
            .is_none()
            {
                return 0;
            }
            for (r, row) in dst.chunks(n).enumerate() {
                order.clear();
                order.extend(0..n);
                let by_similarity =
                    |&i: &usize, &j: &usize| row[j].total_cmp(&row[i]).then(i.cmp(&j));
                if k < n {
                    order.select_nth_unstable_by(k - 1, by_similarity);
                }
                let mut votes = vec![0.0f64; self.classes.max(1)];
                for &i in &order[..k] {
                    if let Some(v) = votes.get_mut(self.labels[i] as usize) {
                        *v += f64::from((row[i] / TEMPERATURE).exp());
                    }
                }
                let best = votes
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (c, &v)| if v > b.1 { (c, v) } else { b },
                    )
                    .0;
                if best as u32 == test.labels[start + r] {
                    correct += 1;
                }
            }
        }
        correct
    }
}

/// Share of `test` rows that the `k` most similar `train` rows classify
/// correctly; 0 when either set is empty or their dimensions differ.
pub fn knn_top1(train: &Examples, test: &Examples, classes: usize, k: usize) -> f64 {
    let correct = KnnIndex::new(train, classes).correct(test, k);
    correct as f64 / test.labels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(rows: &[([f32; 3], u32)]) -> Examples {
        Examples {
            features: rows.iter().flat_map(|(f, _)| *f).collect(),
            labels: rows.iter().map(|(_, l)| *l).collect(),
            dims: 3,
        }
    }

    #[test]
    fn directions_decide_not_lengths() {
        // Class 0 along x, class 1 along y, at many lengths.
        let train = examples(&[
            ([1.0, 0.1, 0.0], 0),
            ([9.0, 0.5, 0.0], 0),
            ([0.2, 1.0, 0.0], 1),
            ([0.1, 7.0, 0.3], 1),
        ]);
        let test = examples(&[([100.0, 1.0, 0.0], 0), ([0.01, 0.2, 0.0], 1)]);
        assert_eq!(knn_top1(&train, &test, 2, 2), 1.0);
        // With k = all, every vote counts, but the nearer weigh far more.
        assert_eq!(knn_top1(&train, &test, 2, 50), 1.0);
        let wrong = examples(&[([100.0, 1.0, 0.0], 1)]);
        assert_eq!(knn_top1(&train, &wrong, 2, 2), 0.0);
    }

    #[test]
    fn the_majority_of_neighbours_wins_and_bad_shapes_score_zero() {
        // Two neighbours of class 1 slightly less similar than one of class 0.
        let train = examples(&[
            ([1.0, 0.0, 0.0], 0),
            ([0.95, 0.3, 0.0], 1),
            ([0.95, -0.3, 0.0], 1),
        ]);
        let test = examples(&[([1.0, 0.0, 0.0], 1)]);
        assert_eq!(knn_top1(&train, &test, 2, 3), 1.0);
        assert_eq!(knn_top1(&train, &test, 2, 1), 0.0);
        let empty = Examples::default();
        assert_eq!(knn_top1(&empty, &test, 2, 3), 0.0);
        let mut other = test.clone();
        other.dims = 1;
        assert_eq!(knn_top1(&train, &other, 2, 3), 0.0);
        // Zero features are no error.
        let zero = examples(&[([0.0; 3], 0)]);
        assert!((0.0..=1.0).contains(&knn_top1(&train, &zero, 2, 3)));
    }

    #[test]
    fn blocks_of_test_rows_give_the_same_answer_as_one() {
        // More test rows than one block: every row is still scored.
        let rows: Vec<([f32; 3], u32)> = (0..600)
            .map(|i| {
                let c = (i % 3) as u32;
                let mut f = [0.05 * (i % 7) as f32; 3];
                f[c as usize] = 1.0;
                (f, c)
            })
            .collect();
        let train = examples(&rows[..90]);
        let test = examples(&rows);
        assert_eq!(knn_top1(&train, &test, 3, 20), 1.0);
    }
}
