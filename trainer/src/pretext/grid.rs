//! Patch geometry shared by jigsaw and relative position: an image split into
//! a grid of cells, one patch per cell at a random offset inside it, so the gap
//! between neighbouring patches varies and their edges do not line up.

use rand::Rng;

/// The eight neighbours of the centre cell as `(row, column)` offsets, in the
/// order of relative position's labels (Doersch et al.): top-left, top,
/// top-right, left, right, bottom-left, bottom, bottom-right.
pub const NEIGHBOURS: [(i32, i32); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// Side of one grid cell of a `size` image split `grid` ways.
pub fn cell(size: usize, grid: usize) -> usize {
    size / grid.max(1)
}

/// The top-left corner `(y, x)` of a `patch` placed at a random offset inside
/// cell `(row, col)` of a `size` image split `grid` ways (`patch` ≤ the cell).
pub fn corner<R: Rng>(
    size: usize,
    grid: usize,
    patch: usize,
    (row, col): (usize, usize),
    rng: &mut R,
) -> (usize, usize) {
    let c = cell(size, grid);
    let slack = c.saturating_sub(patch);
    let jitter = |rng: &mut R| {
        if slack == 0 {
            0
        } else {
            rng.random_range(0..=slack)
        }
    };
    (row * c + jitter(rng), col * c + jitter(rng))
}

/// The corners of every cell's patch, row by row.
pub fn corners<R: Rng>(size: usize, grid: usize, patch: usize, rng: &mut R) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(grid * grid);
    for row in 0..grid {
        for col in 0..grid {
            out.push(corner(size, grid, patch, (row, col), rng));
        }
    }
    out
}

/// The cell of relative-position label `label` in a 3×3 grid.
pub fn neighbour_cell(label: usize) -> (usize, usize) {
    let (dy, dx) = NEIGHBOURS[label % 8];
    ((1 + dy) as usize, (1 + dx) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn relative_position_labels_match_the_patch_geometry() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (size, patch) = (96, 16);
        for _ in 0..50 {
            let (cy, cx) = corner(size, 3, patch, (1, 1), &mut rng);
            for (label, (dy, dx)) in NEIGHBOURS.iter().enumerate() {
                let (ny, nx) = corner(size, 3, patch, neighbour_cell(label), &mut rng);
                // The neighbour's cell lies at the label's offset from the centre cell.
                let cell_of = |v: usize| (v / cell(size, 3)) as i32;
                assert_eq!(
                    (cell_of(ny) - cell_of(cy), cell_of(nx) - cell_of(cx)),
                    (*dy, *dx),
                    "label {label}"
                );
                // Patches never overlap: neighbours are at least a patch apart on their axis.
                if *dy != 0 {
                    assert!(ny.abs_diff(cy) >= patch);
                }
                if *dx != 0 {
                    assert!(nx.abs_diff(cx) >= patch);
                }
                assert!(ny + patch <= size && nx + patch <= size);
            }
        }
    }

    #[test]
    fn jitter_moves_patches_inside_their_cells() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let all: Vec<_> = (0..20).map(|_| corners(64, 3, 16, &mut rng)).collect();
        assert!(all.windows(2).any(|w| w[0] != w[1]));
        for set in &all {
            for (k, (y, x)) in set.iter().enumerate() {
                let (row, col) = (k / 3, k % 3);
                assert!((row * 21..=row * 21 + 5).contains(y));
                assert!((col * 21..=col * 21 + 5).contains(x));
            }
        }
    }
}
