//! Seed sweeps: every scenario over many seeds, on every core, summarised per scenario.
//!
//! One simulated run says what happened under one seed; a sweep says how often the
//! expectations hold and how MTTD, MTTR, end-to-end latency and amplification spread over
//! seeds. The seeds of a scenario are `first, first + 1, …, first + N - 1`, where `first` is
//! the scenario's own seed unless the plan overrides it, so a sweep's first run is the run
//! `gameday run` does by default and every run is named by a seed that replays it.
//!
//! A sweep can be split into shards ([`Shard`]) run on different machines and [`merge`]d
//! back: the merged result of all shards is identical to the unsharded one. Results never
//! depend on the number of threads: runs are stored by their index, and every summary is
//! computed from runs in seed order.

pub mod junit;
pub mod merge;
pub mod shard;
pub mod stats;
pub mod text;

use gameday_scenario::Scenario;
use serde::{Deserialize, Serialize};

use crate::parallel::run_parallel;
use crate::report::Report;
use crate::run::{Engine, RunOptions, WorldError, run_scenario};

pub use merge::{MergeError, merge, parse_result};
pub use shard::{Shard, ShardError};
pub use stats::Distribution;

/// The version of the sweep result's JSON model; `merge` refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Which seeds to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepPlan {
    /// Seeds per scenario in the whole sweep (over all shards).
    pub seeds: u64,
    /// The first seed of every scenario; `None` takes each scenario's own seed.
    pub first_seed: Option<u64>,
    /// The part of the sweep to run.
    pub shard: Shard,
}

impl SweepPlan {
    /// The seed indices this plan's shard runs, in order.
    pub fn indices(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.seeds).filter(|i| self.shard.takes(*i))
    }

    /// The first seed of `scenario` under this plan.
    pub fn first_seed_of(&self, scenario: &Scenario) -> u64 {
        self.first_seed.unwrap_or(scenario.seed)
    }
}

/// A scenario to sweep, and the file it came from (for replay commands).
#[derive(Debug, Clone)]
pub struct SweepScenario {
    pub scenario: Scenario,
    pub file: Option<String>,
}

/// A sweep's result: the JSON that `--json` prints and `merge` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub version: u32,
    /// The engine the runs used (`fast` or `turmoil`).
    pub engine: String,
    /// Seeds per scenario in the whole sweep (over all shards).
    pub seeds: u64,
    /// The shards this result holds; `None` when it holds the whole sweep.
    pub shards: Option<ShardSet>,
    pub scenarios: Vec<ScenarioSweep>,
}

/// Some shards of a sweep split `count` ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSet {
    pub count: u32,
    /// 1-based shard indices held, ascending.
    pub indices: Vec<u32>,
}

/// One scenario over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSweep {
    pub scenario: String,
    pub file: Option<String>,
    pub first_seed: u64,
    pub summary: Summary,
    /// The runs, by ascending seed index.
    pub runs: Vec<SeedRun>,
}

/// How a scenario fared over the runs held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    /// `passed / runs`; 0 with no runs.
    pub pass_rate: f64,
    /// Mean share of trades matched over the runs.
    pub matched_ratio: f64,
    pub mttd_ms: Option<Distribution>,
    pub mttr_ms: Option<Distribution>,
    /// The distribution over seeds of each run's end-to-end p99 latency.
    pub end_to_end_p99_ms: Option<Distribution>,
    pub amplification: Option<Distribution>,
}

/// One run of a sweep: the figures a sweep aggregates, and how to replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// Position of the seed in the sweep: `seed = first_seed + index`.
    pub index: u64,
    pub seed: u64,
    pub pass: bool,
    pub trace_hash: String,
    pub mttd_ms: Option<u64>,
    pub mttr_ms: Option<u64>,
    pub end_to_end_p99_ms: f64,
    pub amplification: f64,
    pub matched_ratio: f64,
    /// Each failed invariant or expectation: `name: expected …, observed …`.
    pub failed_checks: Vec<String>,
    /// The command that replays this run.
    pub replay: String,
}

impl SeedRun {
    pub fn from_report(index: u64, r: &Report) -> SeedRun {
        SeedRun {
            index,
            seed: r.seed,
            pass: r.passed(),
            trace_hash: r.trace_hash.clone(),
            mttd_ms: r.mttd_ms,
            mttr_ms: r.mttr_ms,
            end_to_end_p99_ms: r.end_to_end_ms.p99,
            amplification: r.amplification,
            matched_ratio: r.matched_ratio,
            failed_checks: r
                .invariants
                .iter()
                .chain(&r.expectations)
                .filter(|c| !c.pass)
                .map(|c| format!("{}: expected {}, observed {}", c.name, c.expected, c.observed))
                .collect(),
            replay: r.replay.clone(),
        }
    }
}

impl Summary {
    /// Summarises `runs` (in any order: every figure is order-free or sorted first).
    pub fn of(runs: &[SeedRun]) -> Summary {
        let n = runs.len() as u64;
        let passed = runs.iter().filter(|r| r.pass).count() as u64;
        let ratio = |x: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
        // Sum in index order so the mean is the same float whatever order runs came in.
        let mut by_index: Vec<&SeedRun> = runs.iter().collect();
        by_index.sort_by_key(|r| r.index);
        let matched: f64 = by_index.iter().map(|r| r.matched_ratio).sum();
        Summary {
            runs: n,
            passed,
            failed: n - passed,
            pass_rate: ratio(passed),
            matched_ratio: if n == 0 { 0.0 } else { round3(matched / n as f64) },
            mttd_ms: Distribution::of(runs.iter().filter_map(|r| r.mttd_ms.map(|v| v as f64))),
            mttr_ms: Distribution::of(runs.iter().filter_map(|r| r.mttr_ms.map(|v| v as f64))),
            end_to_end_p99_ms: Distribution::of(runs.iter().map(|r| r.end_to_end_p99_ms)),
            amplification: Distribution::of(runs.iter().map(|r| r.amplification)),
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl SweepResult {
    /// Runs held, over every scenario.
    pub fn runs(&self) -> u64 {
        self.scenarios.iter().map(|s| s.summary.runs).sum()
    }

    /// Failed runs, over every scenario.
    pub fn failed(&self) -> u64 {
        self.scenarios.iter().map(|s| s.summary.failed).sum()
    }

    pub fn all_passed(&self) -> bool {
        self.failed() == 0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("sweep results serialize")
    }
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    #[error("a sweep needs at least one seed")]
    NoSeeds,
    #[error("{scenario}: {seeds} seeds from {first} run past the largest seed")]
    SeedOverflow {
        scenario: String,
        first: u64,
        seeds: u64,
    },
    #[error("{scenario} seed {seed}: {source}")]
    Run {
        scenario: String,
        seed: u64,
        #[source]
        source: WorldError,
    },
}

/// One finished run, as progress reporting sees it.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// Index of the scenario in the sweep's input.
    pub scenario: usize,
    pub seed: u64,
    /// False for a failed run and for a run that could not be simulated.
    pub passed: bool,
}

/// Runs `plan` over every scenario in `engine` on up to `jobs` threads.
///
/// Every (scenario, seed) pair is one work item, so a sweep of one scenario uses every core
/// too. `progress` is called once per finished run, in completion order.
pub fn run_sweep(
    scenarios: &[SweepScenario],
    engine: &(dyn Engine + Sync),
    plan: &SweepPlan,
    jobs: usize,
    progress: &(dyn Fn(Finished) + Sync),
) -> Result<SweepResult, SweepError> {
    if plan.seeds == 0 {
        return Err(SweepError::NoSeeds);
    }
    let mut items: Vec<(usize, u64, u64)> = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let first = plan.first_seed_of(&s.scenario);
        if first.checked_add(plan.seeds - 1).is_none() {
            return Err(SweepError::SeedOverflow {
                scenario: s.scenario.name.clone(),
                first,
                seeds: plan.seeds,
            });
        }
        items.extend(plan.indices().map(|index| (i, index, first + index)));
    }
    let results = run_parallel(
        &items,
        jobs,
        |&(i, index, seed)| {
            let s = &scenarios[i];
            let options = RunOptions {
                seed: Some(seed),
                keep_trace: false,
                file: s.file.clone(),
                planted: Vec::new(),
            };
            run_scenario(&s.scenario, engine, &options)
                .map(|out| SeedRun::from_report(index, &out.report))
                .map_err(|source| SweepError::Run {
                    scenario: s.scenario.name.clone(),
                    seed,
                    source,
                })
        },
        |k, r| {
            progress(Finished {
                scenario: items[k].0,
                seed: items[k].2,
                passed: matches!(r, Ok(run) if run.pass),
            })
        },
    );
    let mut runs: Vec<Vec<SeedRun>> = scenarios.iter().map(|_| Vec::new()).collect();
    for (&(i, _, _), r) in items.iter().zip(results) {
        runs[i].push(r?);
    }
    Ok(SweepResult {
        version: FORMAT_VERSION,
        engine: engine.name().to_string(),
        seeds: plan.seeds,
        shards: (!plan.shard.is_all()).then(|| ShardSet {
            count: plan.shard.count,
            indices: vec![plan.shard.index],
        }),
        scenarios: scenarios
            .iter()
            .zip(runs)
            .map(|(s, runs)| ScenarioSweep {
                scenario: s.scenario.name.clone(),
                file: s.file.clone(),
                first_seed: plan.first_seed_of(&s.scenario),
                summary: Summary::of(&runs),
                runs,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn seed_run(index: u64, pass: bool, mttd: Option<u64>, p99: f64) -> SeedRun {
        SeedRun {
            index,
            seed: 100 + index,
            pass,
            trace_hash: format!("h{index}"),
            mttd_ms: mttd,
            mttr_ms: None,
            end_to_end_p99_ms: p99,
            amplification: 1.0 + index as f64 / 10.0,
            matched_ratio: 0.9,
            failed_checks: if pass {
                vec![]
            } else {
                vec!["p99_latency: expected <= 1ms, observed 40ms".into()]
            },
            replay: format!("gameday run s.toml --seed {} --engine fast", 100 + index),
        }
    }

    #[test]
    fn plan_indices_follow_the_shard() {
        let plan = SweepPlan {
            seeds: 7,
            first_seed: None,
            shard: Shard::new(2, 3).unwrap(),
        };
        assert_eq!(plan.indices().collect::<Vec<_>>(), vec![1, 4]);
        let all = SweepPlan {
            shard: Shard::ALL,
            ..plan
        };
        assert_eq!(all.indices().count(), 7);
    }

    #[test]
    fn summary_counts_and_spreads() {
        let runs = vec![
            seed_run(0, true, Some(300), 40.0),
            seed_run(1, false, None, 900.0),
            seed_run(2, true, Some(100), 20.0),
        ];
        let s = Summary::of(&runs);
        assert_eq!((s.runs, s.passed, s.failed), (3, 2, 1));
        assert!((s.pass_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.matched_ratio, 0.9);
        let mttd = s.mttd_ms.clone().unwrap();
        assert_eq!((mttd.runs, mttd.p50, mttd.max), (2, 100.0, 300.0));
        assert_eq!(s.mttr_ms, None);
        let p99 = s.end_to_end_p99_ms.clone().unwrap();
        assert_eq!((p99.p50, p99.p90, p99.max), (40.0, 900.0, 900.0));
        let mut reversed = runs.clone();
        reversed.reverse();
        assert_eq!(Summary::of(&reversed), s);
    }

    fn tiny(seed: u64) -> SweepScenario {
        let text = format!(
            "name = \"tiny\"\ndescription = \"d\"\nseed = {seed}\nduration = \"5s\"\n[workload]\nrate = 5\n"
        );
        let scenario =
            gameday_scenario::parse(&text, std::path::Path::new("tiny.toml")).expect("a valid scenario");
        SweepScenario {
            scenario,
            file: Some("tiny.toml".into()),
        }
    }

    #[test]
    fn refuses_no_seeds_and_seeds_past_the_last() {
        let plan = SweepPlan {
            seeds: 0,
            first_seed: None,
            shard: Shard::ALL,
        };
        assert!(matches!(
            run_sweep(&[tiny(1)], &crate::FastEngine, &plan, 1, &|_| {}),
            Err(SweepError::NoSeeds)
        ));
        let plan = SweepPlan {
            seeds: 3,
            first_seed: None,
            shard: Shard::ALL,
        };
        let err = run_sweep(&[tiny(u64::MAX - 1)], &crate::FastEngine, &plan, 1, &|_| {}).unwrap_err();
        assert!(matches!(err, SweepError::SeedOverflow { .. }), "{err}");
    }

    #[test]
    fn a_sharded_sweep_runs_its_seeds_and_merges_into_the_whole() {
        let plan = SweepPlan {
            seeds: 3,
            first_seed: Some(9),
            shard: Shard::ALL,
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let whole = run_sweep(&[tiny(1)], &crate::FastEngine, &plan, 2, &|f| {
            seen.lock().unwrap().push(f.seed)
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, vec![9, 10, 11]);
        assert_eq!(
            whole.scenarios[0].runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
            vec![9, 10, 11]
        );
        assert!(whole.all_passed(), "{}", whole.to_text());
        assert_eq!(
            whole.scenarios[0].runs[1].replay,
            "gameday run tiny.toml --seed 10 --engine fast"
        );
        let parts: Vec<(String, SweepResult)> = (1..=2)
            .map(|k| {
                let plan = SweepPlan {
                    shard: Shard::new(k, 2).unwrap(),
                    ..plan
                };
                (
                    format!("{k}"),
                    run_sweep(&[tiny(1)], &crate::FastEngine, &plan, 1, &|_| {}).unwrap(),
                )
            })
            .collect();
        assert_eq!(parts[0].1.scenarios[0].runs.len(), 2);
        assert_eq!(merge(&parts).unwrap(), whole);
    }

    #[test]
    fn empty_summary_has_no_distributions() {
        let s = Summary::of(&[]);
        assert_eq!((s.runs, s.pass_rate), (0, 0.0));
        assert!(s.mttd_ms.is_none() && s.amplification.is_none());
    }
}
