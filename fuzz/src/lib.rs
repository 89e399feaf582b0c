//! Mutation fuzzing of every reader of outside files, on stable Rust.
//!
//! Each [`targets::Target`] is a reader with valid seed inputs; the driver
//! mutates them ([`mutate`]), runs the reader under `catch_unwind` with the
//! measuring allocator armed ([`alloc`]), and reports two kinds of finding: a
//! panic, and a single allocation larger than [`allocation_limit`] allows for
//! the input's size. With no coverage instrumentation on stable, an input
//! whose outcome (the reader's error text, digits blanked) was not seen
//! before joins the corpus, so mutations build on inputs that got further.
//!
//! This crate may depend on every library crate of the workspace (it tests
//! their readers); nothing depends on it.

pub mod alloc;
pub mod mutate;
pub mod targets;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use targets::Target;

/// Inputs are cut to this size.
pub const MAX_INPUT: usize = 64 << 10;
/// Inputs kept for mutation, at most.
const MAX_CORPUS: usize = 512;

/// The largest single allocation a reader may make for `input_len` bytes:
/// 256 MiB plus 256 bytes per input byte (a compressed image may expand that much).
pub fn allocation_limit(input_len: usize) -> usize {
    (256 << 20) + 256 * input_len
}

/// What went wrong on one input.
#[derive(Clone, Debug)]
pub enum Problem {
    /// The reader panicked, with this message.
    Panic(String),
    /// The reader allocated this many bytes at once.
    Allocation(usize),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Panic(m) => write!(f, "panic: {m}"),
            Problem::Allocation(n) => write!(f, "allocated {n} bytes at once"),
        }
    }
}

/// A finding: the problem and the input that caused it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What went wrong.
    pub problem: Problem,
    /// The input.
    pub input: Vec<u8>,
}

/// How long to fuzz one target.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// This many executions.
    Executions(u64),
    /// This much wall-clock time.
    Time(Duration),
}

/// One target's session.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Inputs run.
    pub executions: u64,
    /// Inputs kept for mutation at the end (seeds included).
    pub corpus: usize,
    /// Distinct outcomes seen.
    pub outcomes: usize,
    /// The largest single allocation of any input.
    pub largest_allocation: usize,
    /// Problems, one per distinct kind and message.
    pub findings: Vec<Finding>,
}

/// Where each input is written before it runs, so that an abort (which no
/// handler can catch) leaves the input that caused it on disk.
pub type CrashFile = Option<PathBuf>;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// The outcome's first line with digits blanked, so that "offset 17" and
/// "offset 18" count once and a parser's quoted excerpt of the input does not
/// make every input new.
fn fingerprint(outcome: &str) -> String {
    outcome
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(60)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Fuzzes `target` for `budget` from `seed`; panics are caught and reported
/// (the panic hook is silenced meanwhile and restored after).
pub fn fuzz(target: &Target, budget: Budget, seed: u64, crash_file: &CrashFile) -> Report {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut corpus: Vec<Vec<u8>> = (target.seeds)();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let Ok(scratch) = tempfile::tempdir() else {
        return Report::default();
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = Report::default();
    let mut outcomes = HashSet::new();
    let mut problems = HashSet::new();
    let start = Instant::now();
    let mut i = 0u64;
    loop {
        let done = match budget {
            Budget::Executions(n) => i >= n,
            Budget::Time(t) => start.elapsed() >= t,
        };
        if done {
            break;
        }
        // Seeds first, unchanged; then mutations of the corpus.
        let input = if (i as usize) < corpus.len() && i < 16 {
            corpus[i as usize].clone()
        } else {
            let a = &corpus[rng.random_range(0..corpus.len())];
            let b = &corpus[rng.random_range(0..corpus.len())];
            let mut m = mutate::mutate(a, b, &mut rng);
            m.truncate(MAX_INPUT);
            m
        };
        i += 1;
        if let Some(path) = crash_file {
            let _ = std::fs::write(path, &input);
        }
        alloc::arm();
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&input, scratch.path())));
        let largest = alloc::disarm();
        report.largest_allocation = report.largest_allocation.max(largest);
        let problem = match result {
            Err(payload) => Some(Problem::Panic(panic_message(payload.as_ref()))),
            Ok(_) if largest > allocation_limit(input.len()) => Some(Problem::Allocation(largest)),
            Ok(outcome) => {
                if outcomes.insert(fingerprint(&outcome)) && corpus.len() < MAX_CORPUS {
                    corpus.push(input.clone());
                }
                None
            }
        };
        if let Some(p) = problem {
            let key = match &p {
                Problem::Panic(m) => format!("panic {}", fingerprint(m)),
                Problem::Allocation(_) => "allocation".into(),
            };
            if problems.insert(key) {
                report.findings.push(Finding { problem: p, input });
            }
        }
    }
    std::panic::set_hook(hook);
    report.executions = i;
    report.corpus = corpus.len();
    report.outcomes = outcomes.len();
    report
}
