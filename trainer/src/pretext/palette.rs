//! iGPT's colour palette: k-means cluster centres of RGB pixels, and
//! quantisation to the nearest centre.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::PretextError;

/// A learnt palette of RGB colours in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Palette {
    /// The colours; a pixel's class is the index of its nearest colour.
    pub colours: Vec<[f32; 3]>,
}

fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|c| (a[c] - b[c]).powi(2)).sum()
}

impl Palette {
    /// `k` colours by k-means (k-means++ seeding, then `iterations` Lloyd steps).
    pub fn kmeans(
        pixels: &[[f32; 3]],
        k: usize,
        iterations: usize,
        seed: u64,
    ) -> Result<Self, PretextError> {
        if k == 0 {
            return Err(PretextError::Invalid {
                field: "pretext.next_pixel.palette",
                message: "must be at least 1, got 0".into(),
            });
        }
        if pixels.is_empty() {
            return Err(PretextError::NoImages("learning the next-pixel palette"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut centres = vec![pixels[rng.random_range(0..pixels.len())]];
        let mut near: Vec<f32> = pixels.iter().map(|p| dist2(*p, centres[0])).collect();
        while centres.len() < k {
            let total: f32 = near.iter().sum();
            let pick = if total > 0.0 {
                let mut r = rng.random_range(0.0..total);
                near.iter()
                    .position(|d| {
                        r -= d;
                        r <= 0.0
                    })
                    .unwrap_or(pixels.len() - 1)
            } else {
                rng.random_range(0..pixels.len())
            };
            let c = pixels[pick];
            centres.push(c);
            for (d, p) in near.iter_mut().zip(pixels) {
                *d = d.min(dist2(*p, c));
            }
        }
        let mut palette = Palette { colours: centres };
        for _ in 0..iterations {
            let mut sum = vec![[0.0f64; 3]; k];
            let mut count = vec![0usize; k];
            for p in pixels {
                let i = palette.nearest(*p);
                for c in 0..3 {
                    sum[i][c] += f64::from(p[c]);
                }
                count[i] += 1;
            }
            for i in 0..k {
                if count[i] > 0 {
                    palette.colours[i] = [0, 1, 2].map(|c| (sum[i][c] / count[i] as f64) as f32);
                }
            }
        }
        Ok(palette)
    }

    /// Number of colours.
    pub fn len(&self) -> usize {
        self.colours.len()
    }

    /// True for an empty palette.
    pub fn is_empty(&self) -> bool {
        self.colours.is_empty()
    }

    /// Index of the colour nearest to `rgb` (the first one on ties).
    pub fn nearest(&self, rgb: [f32; 3]) -> usize {
        let mut best = (0, f32::MAX);
        for (i, c) in self.colours.iter().enumerate() {
            let d = dist2(*c, rgb);
            if d < best.1 {
                best = (i, d);
            }
        }
        best.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_palette_colour_quantises_to_itself() {
        let pixels: Vec<[f32; 3]> = (0..500)
            .map(|i| {
                let t = i as f32 / 500.0;
                [t, (t * 7.0).fract(), (t * 13.0).fract()]
            })
            .collect();
        let p = Palette::kmeans(&pixels, 16, 10, 1).unwrap();
        assert_eq!(p.len(), 16);
        for (i, c) in p.colours.iter().enumerate() {
            assert_eq!(p.nearest(*c), i);
        }
        assert_eq!(p, Palette::kmeans(&pixels, 16, 10, 1).unwrap());
    }

    #[test]
    fn kmeans_finds_separated_clusters() {
        let mut pixels = vec![[0.1, 0.1, 0.1]; 50];
        pixels.extend(vec![[0.9, 0.2, 0.2]; 50]);
        let p = Palette::kmeans(&pixels, 2, 5, 0).unwrap();
        assert_ne!(p.nearest([0.1; 3]), p.nearest([0.9, 0.2, 0.2]));
    }

    #[test]
    fn palette_size_zero_is_an_error() {
        let e = Palette::kmeans(&[[0.0; 3]], 0, 1, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("palette") && e.contains("got 0"), "{e}");
    }
}
