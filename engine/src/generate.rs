//! `generate`: render a run's missing shards and write them, resumable.
//!
//! The renderer fills a bounded channel; PNG encoding runs on worker threads;
//! one writer thread puts encoded samples back in order and writes shards
//! atomically. Shards already complete are skipped, so rerunning an
//! interrupted command finishes it, with identical bytes.

use crossbeam_channel::{bounded, unbounded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::dataset::{DatasetError, DatasetWriter, EncodedSample, Layout, Manifest, encode_sample};
use crate::plan::Plan;
use crate::render::{RenderError, RenderJob, RenderSettings, render};
use crate::stats::{FrameStats, StatsAccumulator, StatsSummary};

/// Everything `generate` needs.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Tar shards or folders.
    pub layout: Layout,
    /// Seed, views, count, shard size.
    pub plan: Plan,
    /// Scene randomisation and render quality.
    pub config: scenes::Config,
    /// Render settings (size, labels).
    pub settings: RenderSettings,
    /// `(index, count)` of this worker among many filling one folder.
    pub worker: (u64, u64),
    /// PNG encoder threads.
    pub encode_threads: usize,
    /// Stop after writing this many samples, leaving the shard in progress
    /// unfinished (as a kill would): a hook for resume tests.
    pub abort_after: Option<u64>,
    /// Asked after each written sample: `true` stops the run, removing the
    /// shard in progress (complete shards and the manifest stay), with
    /// [`GenerateError::Stopped`]. For SIGTERM / SIGINT.
    pub stop: Option<fn() -> bool>,
}

/// Errors of a generation run.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Reading or writing the dataset failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The renderer failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A sample could not be encoded.
    #[error("cannot encode sample {key}: {message}")]
    Encode {
        /// Its key.
        key: String,
        /// Why.
        message: String,
    },
    /// Stopped on purpose by `abort_after`.
    #[error("stopped after {0} samples as asked (--abort-after)")]
    Aborted(u64),
    /// Stopped because `stop` said so; the shard in progress was removed.
    #[error("stopped after {0} samples on request")]
    Stopped(u64),
}

/// Progress report passed to the caller after each written sample.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Samples written by this run.
    pub done: u64,
    /// Samples this run has to write.
    pub total: u64,
    /// Samples already complete before this run.
    pub skipped: u64,
}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct GenerateReport {
    /// Shards written now.
    pub shards_written: u64,
    /// Shards that were already complete.
    pub shards_kept: u64,
    /// Samples written now.
    pub samples: u64,
    /// Wall time of rendering and writing, seconds (start-up included).
    pub seconds: f64,
    /// Seconds from the first written sample to the last (steady state, start-up excluded).
    pub steady_seconds: f64,
    /// Name of the GPU adapter used (empty when nothing was rendered).
    pub adapter: String,
    /// What the frames written now show (object share, visible objects, …).
    pub stats: StatsSummary,
}

/// Renders and writes every shard of this worker that is not yet complete.
pub fn generate(
    opts: &GenerateOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<GenerateReport, GenerateError> {
    let plan = opts.plan;
    let header = Manifest {
        format: "synthfeat-webdataset".to_string(),
        format_version: 1,
        synthfeat_version: crate::VERSION.to_string(),
        layout: opts.layout,
        width: opts.settings.width,
        height: opts.settings.height,
        plan,
        num_shards: plan.num_shards(),
        config_hash: opts.config.hash_hex(),
        config: opts.config.clone(),
        shards: Vec::new(),
        updated_unix_s: 0,
    };
    let (worker, workers) = (opts.worker.0, opts.worker.1.max(1));
    let mut writer = DatasetWriter::open(&opts.out, header, (worker, workers))?;
    let mine: Vec<u64> = (0..plan.num_shards())
        .filter(|i| i % workers == worker)
        .collect();
    let todo: Vec<u64> = mine
        .iter()
        .copied()
        .filter(|&i| !writer.is_complete(i))
        .collect();
    let kept = (mine.len() - todo.len()) as u64;
    let skipped: u64 = mine
        .iter()
        .filter(|&&i| writer.is_complete(i))
        .map(|&i| plan.shard_range(i).end - plan.shard_range(i).start)
        .sum();
    let total: u64 = todo
        .iter()
        .map(|&i| plan.shard_range(i).end - plan.shard_range(i).start)
        .sum();
    let start = Instant::now();
    if todo.is_empty() {
        return Ok(GenerateReport {
            shards_written: 0,
            shards_kept: kept,
            samples: 0,
            seconds: 0.0,
            steady_seconds: 0.0,
            adapter: String::new(),
            stats: StatsSummary::default(),
        });
    }
    let indices: Vec<u64> = todo.iter().flat_map(|&i| plan.shard_range(i)).collect();
    let job = RenderJob::generated(
        opts.config.clone(),
        plan,
        opts.settings.clone(),
        indices.into_iter(),
    );
    let stream = render(job)?;
    let adapter = stream.adapter().to_string();

    // Renderer → encoders (bounded) → writer (reorders by sequence number).
    let threads = opts.encode_threads.max(1);
    let (to_encode, encode_rx) = bounded::<(u64, crate::Sample)>(threads * 2);
    type Encoded = Result<(EncodedSample, FrameStats), GenerateError>;
    let (encoded_tx, encoded_rx) = unbounded::<(u64, Encoded)>();
    let encoders: Vec<_> = (0..threads)
        .map(|_| {
            let rx = encode_rx.clone();
            let tx = encoded_tx.clone();
            std::thread::spawn(move || {
                for (seq, sample) in rx {
                    let r = encode_sample(&sample)
                        .map(|e| (e, FrameStats::of(&sample)))
                        .map_err(|message| GenerateError::Encode {
                            key: sample.meta.key.clone(),
                            message,
                        });
                    if tx.send((seq, r)).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    // Only the encoders receive: once they stop (the writer failed), sending
    // to them fails at once instead of blocking on a full channel forever.
    drop(encode_rx);
    drop(encoded_tx);

    let shard_plan: Vec<(u64, u64)> = todo
        .iter()
        .map(|&i| (i, plan.shard_range(i).end - plan.shard_range(i).start))
        .collect();
    let abort_after = opts.abort_after;
    let stop = opts.stop;
    let mut first_written: Option<Instant> = None;
    let first = &mut first_written;
    let mut stats = StatsAccumulator::default();
    let frame_stats = &mut stats;
    let write_thread = std::thread::scope(|scope| {
        let mut write_in_order = move |current: &mut Option<(crate::dataset::ShardWriter, u64)>| -> Result<u64, GenerateError> {
            let mut pending: BTreeMap<u64, (EncodedSample, FrameStats)> = BTreeMap::new();
            let mut next = 0u64;
            let mut shards = shard_plan.iter();
            let mut written = 0u64;
            for (seq, r) in encoded_rx.iter() {
                pending.insert(seq, r?);
                while let Some((sample, figures)) = pending.remove(&next) {
                    next += 1;
                    if current.is_none() {
                        let Some(&(index, len)) = shards.next() else {
                            break;
                        };
                        *current = Some((writer.begin_shard(index)?, len));
                    }
                    if let Some((shard, len)) = current.as_mut() {
                        shard.append(&sample)?;
                        frame_stats.push(figures);
                        written += 1;
                        first.get_or_insert_with(Instant::now);
                        progress(Progress {
                            done: written,
                            total,
                            skipped,
                        });
                        if abort_after.is_some_and(|k| written >= k) {
                            return Err(GenerateError::Aborted(written));
                        }
                        if stop.is_some_and(|f| f()) {
                            return Err(GenerateError::Stopped(written));
                        }
                        if shard.samples() == *len
                            && let Some((shard, _)) = current.take()
                        {
                            let entry = shard.finish()?;
                            writer.record(entry)?;
                        }
                    }
                }
            }
            Ok(written)
        };
        let handle = scope.spawn(move || -> Result<u64, GenerateError> {
            let mut current = None;
            let result = write_in_order(&mut current);
            // A shard left unfinished by a failure goes (a simulated kill,
            // `abort_after`, leaves it as a real one would).
            if let Err(e) = &result
                && !matches!(e, GenerateError::Aborted(_))
                && let Some((shard, _)) = current.take()
            {
                shard.abandon();
            }
            result
        });
        // Feed the encoders from the renderer on this thread.
        let mut render_result: Result<(), GenerateError> = Ok(());
        for (seq, item) in stream.enumerate() {
            match item {
                Ok(sample) => {
                    if to_encode.send((seq as u64, sample)).is_err() {
                        break; // The writer stopped; its error is reported below.
                    }
                }
                Err(e) => {
                    render_result = Err(e.into());
                    break;
                }
            }
        }
        drop(to_encode);
        let written = handle
            .join()
            .unwrap_or(Err(GenerateError::Render(RenderError::Crashed(
                "writer thread panicked".to_string(),
            ))));
        match (written, render_result) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(n), Ok(())) => Ok(n),
        }
    });
    for e in encoders {
        let _ = e.join();
    }
    let samples = write_thread?;
    let steady_seconds = first_written.map_or(0.0, |t| t.elapsed().as_secs_f64());
    Ok(GenerateReport {
        steady_seconds,
        shards_written: todo.len() as u64,
        shards_kept: kept,
        samples,
        seconds: start.elapsed().as_secs_f64(),
        adapter,
        stats: stats.summary(),
    })
}
