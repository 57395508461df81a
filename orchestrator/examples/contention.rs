//! Backoff under contention: N clients race to update one row with optimistic concurrency.
//!
//! Each client reads the row's version and writes it back with a compare-and-swap; a call
//! occupies `SERVICE` of simulated time, and its write succeeds only if no other write
//! committed since it read. On a conflict the client asks our [`Backoff`] for a delay and
//! tries again. The run ends when every client has written once. The simulation is
//! event-driven (a binary heap of wake-ups ordered by time, then by scheduling order) and
//! seeded, so every figure printed here is reproducible.
//!
//! Run: `cargo run --release -p gameday-orchestrator --example contention`
//! (prints markdown tables: mean calls and mean completion time per strategy and client count).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use gameday_orchestrator::resilience::{Backoff, Jitter, RetryConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Time one call holds between its read and its write.
const SERVICE: Duration = Duration::from_millis(10);
const BASE: Duration = Duration::from_millis(10);
const CAP: Duration = Duration::from_secs(10);
/// Runs averaged per cell.
const SEEDS: u64 = 50;

#[derive(Clone, Copy)]
enum Strategy {
    /// Retry at once.
    NoBackoff,
    Backoff(Jitter),
}

impl Strategy {
    const ALL: [Strategy; 5] = [
        Strategy::NoBackoff,
        Strategy::Backoff(Jitter::None),
        Strategy::Backoff(Jitter::Equal),
        Strategy::Backoff(Jitter::Full),
        Strategy::Backoff(Jitter::Decorrelated),
    ];

    fn name(self) -> &'static str {
        match self {
            Strategy::NoBackoff => "no backoff",
            Strategy::Backoff(Jitter::None) => "exponential (no jitter)",
            Strategy::Backoff(j) => j.name(),
        }
    }

    fn config(self) -> RetryConfig {
        let (base, jitter) = match self {
            Strategy::NoBackoff => (Duration::ZERO, Jitter::None),
            Strategy::Backoff(j) => (BASE, j),
        };
        RetryConfig {
            max_attempts: u32::MAX,
            base_delay: base,
            max_delay: CAP,
            jitter,
            max_retry_after: Duration::ZERO,
        }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// The client reads the version and sends its write.
    Start,
    /// The write arrives: compare-and-swap against the version read at start.
    Finish { read: u64 },
}

struct Outcome {
    calls: u64,
    completion: Duration,
}

fn run(strategy: Strategy, clients: usize, seed: u64) -> Outcome {
    let config = strategy.config();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut backoffs: Vec<Backoff> = (0..clients).map(|_| Backoff::new(&config)).collect();
    let mut retries = vec![0u32; clients];
    // (time, scheduling order, client, step): ties in time resolve in scheduling order.
    let mut heap = BinaryHeap::new();
    let mut order = 0u64;
    for c in 0..clients {
        heap.push(Reverse((Duration::ZERO, order, c, Step::Start)));
        order += 1;
    }
    let (mut version, mut calls, mut done, mut completion) = (0u64, 0u64, 0usize, Duration::ZERO);
    while let Some(Reverse((t, _, c, step))) = heap.pop() {
        let next = match step {
            Step::Start => {
                calls += 1;
                (t + SERVICE, Step::Finish { read: version })
            }
            Step::Finish { read } if read == version => {
                version += 1;
                done += 1;
                completion = t;
                continue;
            }
            Step::Finish { .. } => {
                retries[c] += 1;
                (
                    t + backoffs[c].next_delay(retries[c], None, &mut rng),
                    Step::Start,
                )
            }
        };
        heap.push(Reverse((next.0, order, c, next.1)));
        order += 1;
    }
    assert_eq!(done, clients, "every client writes once");
    Outcome { calls, completion }
}

fn main() {
    let counts: Vec<usize> = (1..=10).map(|i| i * 10).collect();
    let mut calls = vec![vec![0f64; Strategy::ALL.len()]; counts.len()];
    let mut times = vec![vec![0f64; Strategy::ALL.len()]; counts.len()];
    for (i, &n) in counts.iter().enumerate() {
        for (j, &s) in Strategy::ALL.iter().enumerate() {
            for seed in 0..SEEDS {
                let o = run(s, n, seed);
                calls[i][j] += o.calls as f64 / SEEDS as f64;
                times[i][j] += o.completion.as_secs_f64() * 1e3 / SEEDS as f64;
            }
        }
    }
    println!(
        "Model: all clients start at once; one call = {SERVICE:?} between read and compare-and-swap; \
         base {BASE:?}, cap {CAP:?}; mean of {SEEDS} seeds.\n"
    );
    let header: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
    for (title, table, digits) in [
        ("Total calls", &calls, 0),
        ("Completion time (ms, simulated)", &times, 0),
    ] {
        println!("{title}\n");
        println!("| clients | {} |", header.join(" | "));
        println!("|---:|{}", "---:|".repeat(header.len()));
        for (i, n) in counts.iter().enumerate() {
            let cells: Vec<String> = table[i].iter().map(|v| format!("{v:.digits$}")).collect();
            println!("| {n} | {} |", cells.join(" | "));
        }
        println!();
    }
}
