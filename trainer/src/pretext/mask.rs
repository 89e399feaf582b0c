//! Inpainting masks (Pathak et al.): the central square or random blocks.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which region the context encoder must fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskMode {
    /// The central square of half the side (a quarter of the area).
    Centre,
    /// Random squares of ⅛–¼ of the side until a quarter of the area is covered.
    Blocks,
}

/// A `size×size` mask, 1 inside the hole, row-major.
pub fn mask<R: Rng>(size: usize, mode: MaskMode, rng: &mut R) -> Vec<f32> {
    let mut m = vec![0.0f32; size * size];
    let fill = |y0: usize, x0: usize, side: usize, m: &mut Vec<f32>| {
        for y in y0..(y0 + side).min(size) {
            for x in x0..(x0 + side).min(size) {
                m[y * size + x] = 1.0;
            }
        }
    };
    match mode {
        MaskMode::Centre => fill(size / 4, size / 4, size / 2, &mut m),
        MaskMode::Blocks => {
            let (lo, hi) = ((size / 8).max(1), (size / 4).max(1));
            while m.iter().sum::<f32>() < (size * size) as f32 / 4.0 {
                let side = rng.random_range(lo..=hi);
                let y = rng.random_range(0..=size - side);
                let x = rng.random_range(0..=size - side);
                fill(y, x, side, &mut m);
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_centre_mask_covers_exactly_the_central_half_square() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = mask(64, MaskMode::Centre, &mut rng);
        for y in 0..64 {
            for x in 0..64 {
                let inside = (16..48).contains(&y) && (16..48).contains(&x);
                assert_eq!(m[y * 64 + x], if inside { 1.0 } else { 0.0 }, "({y}, {x})");
            }
        }
    }

    #[test]
    fn random_blocks_cover_a_quarter_and_vary() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let a = mask(64, MaskMode::Blocks, &mut rng);
        let b = mask(64, MaskMode::Blocks, &mut rng);
        for m in [&a, &b] {
            let covered = m.iter().sum::<f32>() / 4096.0;
            assert!((0.25..0.40).contains(&covered), "{covered}");
        }
        assert_ne!(a, b);
    }
}
