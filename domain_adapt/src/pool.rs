//! The history pool (Shrivastava et al., CVPR 2017; the "image pool" of
//! CycleGAN and of Ren & Lee's code): the discriminator sees a mix of the
//! newest features and features from earlier steps, which steadies the
//! adversarial game.

use rand::Rng;

/// Holds up to `capacity` past items. Each new item is, with probability
/// `probability` (once the pool is full), swapped for a random stored one,
/// which is returned in its place; otherwise it is returned itself.
#[derive(Clone, Debug)]
pub struct HistoryPool<T> {
    capacity: usize,
    probability: f64,
    items: Vec<T>,
}

impl<T: Clone> HistoryPool<T> {
    /// An empty pool of `capacity` items (0: a pass-through) that returns a
    /// stored item with probability ½, as in the reference code.
    pub fn new(capacity: usize) -> Self {
        Self::with_probability(capacity, 0.5)
    }

    /// An empty pool returning a stored item with `probability` once full.
    pub fn with_probability(capacity: usize, probability: f64) -> Self {
        HistoryPool {
            capacity,
            probability: probability.clamp(0.0, 1.0),
            items: Vec::with_capacity(capacity),
        }
    }

    /// Items stored now.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True before anything was stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The batch to use in place of `new`, item by item: while the pool fills,
    /// new items are stored and returned; once full, each is swapped for a
    /// random stored one with the pool's probability.
    pub fn query<R: Rng>(&mut self, new: Vec<T>, rng: &mut R) -> Vec<T> {
        let mut out = Vec::with_capacity(new.len());
        for item in new {
            if self.capacity == 0 {
                out.push(item);
            } else if self.items.len() < self.capacity {
                self.items.push(item.clone());
                out.push(item);
            } else if rng.random::<f64>() < self.probability {
                let i = rng.random_range(0..self.items.len());
                out.push(std::mem::replace(&mut self.items[i], item));
            } else {
                out.push(item);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fills_then_mixes_at_the_stated_rate_and_never_grows() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut pool = HistoryPool::new(128);
        // Filling: everything comes straight back.
        let first: Vec<u32> = (0..128).collect();
        assert_eq!(pool.query(first.clone(), &mut rng), first);
        assert_eq!(pool.len(), 128);
        let (mut old, mut total) = (0usize, 0usize);
        for round in 0..200u32 {
            let new: Vec<u32> = (0..16).map(|i| 1000 + round * 16 + i).collect();
            let out = pool.query(new.clone(), &mut rng);
            assert_eq!(out.len(), new.len());
            old += out.iter().filter(|v| !new.contains(v)).count();
            total += out.len();
            assert_eq!(pool.len(), 128);
        }
        let rate = old as f64 / total as f64;
        assert!(
            (rate - 0.5).abs() < 0.04,
            "stored items returned at rate {rate}"
        );
    }

    #[test]
    fn zero_capacity_passes_through() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut pool = HistoryPool::new(0);
        assert_eq!(pool.query(vec![1, 2, 3], &mut rng), vec![1, 2, 3]);
        assert!(pool.is_empty());
    }
}
