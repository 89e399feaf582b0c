//! Jigsaw's permutation set: permutations of the grid's tiles chosen greedily
//! for maximal Hamming distance (Noroozi & Favaro's "maximal" set).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::PretextError;

/// Candidates are every permutation up to this many tiles (9! = 362,880), a
/// random sample of this many beyond.
const MAX_CANDIDATES: usize = 362_880;

/// A fixed set of tile permutations; `perms[k][i]` is the tile placed at
/// position `i` by permutation `k`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermutationSet {
    /// Tiles per permutation (grid²).
    pub tiles: usize,
    /// The permutations.
    pub perms: Vec<Vec<u8>>,
}

/// `n!`, saturating.
pub fn factorial(n: usize) -> usize {
    (1..=n).fold(1usize, |a, k| a.saturating_mul(k))
}

/// Every permutation of `0..n` in lexicographic order.
fn all_permutations(n: usize) -> Vec<Vec<u8>> {
    let mut p: Vec<u8> = (0..n as u8).collect();
    let mut out = vec![p.clone()];
    loop {
        // Next lexicographic permutation.
        let Some(i) = (1..n).rev().find(|&i| p[i - 1] < p[i]) else {
            return out;
        };
        let j = (i..n).rev().find(|&j| p[j] > p[i - 1]).unwrap_or(i);
        p.swap(i - 1, j);
        p[i..].reverse();
        out.push(p.clone());
    }
}

/// Positions at which `a` and `b` differ.
pub fn hamming(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

impl PermutationSet {
    /// `count` permutations of `tiles` tiles: the first at random, each next
    /// one the candidate farthest (in minimum Hamming distance) from those
    /// already chosen, ties broken at random. Deterministic for a seed.
    pub fn maximal(tiles: usize, count: usize, seed: u64) -> Result<Self, PretextError> {
        let allowed = factorial(tiles);
        if count == 0 || count > allowed {
            return Err(PretextError::Invalid {
                field: "pretext.jigsaw.permutations",
                message: format!(
                    "must lie in 1..={allowed} ({tiles} tiles have {allowed} orders), got {count}"
                ),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let candidates = if allowed <= MAX_CANDIDATES {
            all_permutations(tiles)
        } else {
            (0..MAX_CANDIDATES)
                .map(|_| {
                    let mut p: Vec<u8> = (0..tiles as u8).collect();
                    for i in (1..tiles).rev() {
                        p.swap(i, rng.random_range(0..=i));
                    }
                    p
                })
                .collect()
        };
        let mut nearest = vec![usize::MAX; candidates.len()];
        let mut chosen = Vec::with_capacity(count);
        let mut next = rng.random_range(0..candidates.len());
        for _ in 0..count {
            let pick = candidates[next].clone();
            for (d, c) in nearest.iter_mut().zip(&candidates) {
                *d = (*d).min(hamming(c, &pick));
            }
            chosen.push(pick);
            let best = nearest.iter().copied().max().unwrap_or(0);
            let ties: Vec<usize> = (0..candidates.len())
                .filter(|&i| nearest[i] == best)
                .collect();
            next = ties[rng.random_range(0..ties.len())];
        }
        Ok(PermutationSet {
            tiles,
            perms: chosen,
        })
    }

    /// The smallest Hamming distance between two permutations of the set
    /// (`tiles` for a set of one).
    pub fn min_distance(&self) -> usize {
        let mut best = self.tiles;
        for (i, a) in self.perms.iter().enumerate() {
            for b in &self.perms[i + 1..] {
                best = best.min(hamming(a, b));
            }
        }
        best
    }
}

/// Tiles reordered by `perm`: position `i` receives `tiles[perm[i]]`.
pub fn apply<T: Clone>(perm: &[u8], tiles: &[T]) -> Vec<T> {
    perm.iter().map(|&p| tiles[p as usize].clone()).collect()
}

/// Undoes [`apply`]: `invert(perm, &apply(perm, t)) == t`.
pub fn invert<T: Clone>(perm: &[u8], shuffled: &[T]) -> Vec<T> {
    let mut out = shuffled.to_vec();
    for (i, &p) in perm.iter().enumerate() {
        out[p as usize] = shuffled[i].clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicographic_enumeration_is_complete() {
        let all = all_permutations(4);
        assert_eq!(all.len(), 24);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 24);
    }

    #[test]
    fn applying_then_inverting_restores_the_tile_order() {
        let set = PermutationSet::maximal(9, 10, 3).unwrap();
        let tiles: Vec<usize> = (0..9).collect();
        for p in &set.perms {
            let shuffled = apply(p, &tiles);
            assert_eq!(invert(p, &shuffled), tiles);
        }
    }

    #[test]
    fn the_set_is_spread_out_and_reproducible() {
        let a = PermutationSet::maximal(9, 100, 7).unwrap();
        assert_eq!(a.perms.len(), 100);
        // Noroozi & Favaro's maximal set of 100 has a minimum distance of at least 6.
        assert!(a.min_distance() >= 6, "{}", a.min_distance());
        assert_eq!(a, PermutationSet::maximal(9, 100, 7).unwrap());
        assert_ne!(a, PermutationSet::maximal(9, 100, 8).unwrap());
        // Every permutation is one.
        for p in &a.perms {
            let mut s = p.clone();
            s.sort();
            assert_eq!(s, (0..9).collect::<Vec<u8>>());
        }
    }

    #[test]
    fn more_permutations_than_orders_is_an_error() {
        let e = PermutationSet::maximal(4, 25, 0).unwrap_err().to_string();
        assert!(e.contains("1..=24") && e.contains("got 25"), "{e}");
        assert!(PermutationSet::maximal(4, 24, 0).is_ok());
    }
}
