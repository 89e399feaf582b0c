//! The layout of a run: which scene and view each sample index renders, and
//! which samples each shard holds. Everything is a pure function of the plan,
//! so any shard can be produced alone, on any machine, in any order.

use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::sample::sample_key;

/// One frame to render: sample `index` of the run is view `view` of scene `scene_seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameId {
    /// Position of the sample in the run.
    pub index: u64,
    /// Seed of the scene (`scenes::scene_seed(run_seed, index / views)`).
    pub scene_seed: u64,
    /// View of that scene.
    pub view: u32,
}

impl FrameId {
    /// The sample's key.
    pub fn key(&self) -> String {
        sample_key(self.scene_seed, self.view)
    }
}

/// How a run's samples map to scenes, views and shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Base seed of the run.
    pub seed: u64,
    /// Views rendered of each scene.
    pub views: u32,
    /// Total samples (unbounded streams use `u64::MAX`).
    pub count: u64,
    /// Samples per shard.
    pub shard_size: u64,
}

impl Plan {
    /// The frame of sample `index`.
    pub fn frame(&self, index: u64) -> FrameId {
        let views = u64::from(self.views.max(1));
        FrameId {
            index,
            scene_seed: scenes::scene_seed(self.seed, index / views),
            view: (index % views) as u32,
        }
    }

    /// Number of shards the run fills.
    pub fn num_shards(&self) -> u64 {
        self.count.div_ceil(self.shard_size.max(1))
    }

    /// Sample indices held by shard `shard`.
    pub fn shard_range(&self, shard: u64) -> Range<u64> {
        let size = self.shard_size.max(1);
        let start = shard.saturating_mul(size).min(self.count);
        start..start.saturating_add(size).min(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_sample_once() {
        let p = Plan {
            seed: 1,
            views: 3,
            count: 10,
            shard_size: 4,
        };
        assert_eq!(p.num_shards(), 3);
        let all: Vec<u64> = (0..p.num_shards()).flat_map(|s| p.shard_range(s)).collect();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(p.frame(4).view, 1);
        assert_eq!(p.frame(4).scene_seed, p.frame(3).scene_seed);
        assert_ne!(p.frame(2).scene_seed, p.frame(3).scene_seed);
    }
}
