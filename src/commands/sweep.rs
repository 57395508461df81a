//! `gameday sweep`: every scenario over many seeds, on every core, shardable across machines.
//!
//! Exit codes: 0 every run passed, 1 any run failed, 2 bad input or usage (a bad shard spec,
//! an invalid scenario, merge inputs that are unreadable or belong to different sweeps).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;
use gameday_sim::sweep::junit::to_junit;
use gameday_sim::sweep::{
    Finished, Shard, SweepPlan, SweepResult, SweepScenario, merge, parse_result, run_sweep,
};

use super::run::{EngineKind, default_jobs, expand, load_all};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Scenario files or directories (their `*.toml` files, in name order); with `--merge`,
    /// the JSON results of `gameday sweep --json` to combine.
    #[arg(required = true, value_name = "SCENARIO|DIR|RESULT")]
    pub paths: Vec<PathBuf>,
    /// Seeds per scenario: the runs use seeds first, first+1, …, first+N-1.
    #[arg(long, required_unless_present = "merge", value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: Option<u64>,
    /// The first seed of every scenario (default: each scenario's own `seed`).
    #[arg(long, value_name = "SEED")]
    pub first_seed: Option<u64>,
    /// Run only shard K of M (1-based): the seeds whose index in the sweep has index % M == K-1.
    #[arg(long, value_name = "K/M")]
    pub shard: Option<String>,
    /// Combine the JSON results of sharded sweeps (given as paths) into one result.
    #[arg(long, conflicts_with_all = ["seeds", "first_seed", "shard", "jobs", "engine"])]
    pub merge: bool,
    /// Runs simulated at once (default: the number of cores). The result does not depend on it.
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// The engine. `fast` (tokio's paused clock, in-process transport: hundreds of times
    /// quicker, the engine for sweeps and searches) or `turmoil` (HTTP over simulated TCP,
    /// the reference). Replay commands name the engine used.
    #[arg(long, value_enum, default_value_t = EngineKind::Fast)]
    pub engine: EngineKind,
    /// Simulation tick in milliseconds for the turmoil engine.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub tick_ms: u64,
    /// Print the sweep result as JSON on stdout (the input of `--merge`).
    #[arg(long)]
    pub json: bool,
    /// Also write the result as JUnit XML (one test case per scenario and seed).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<u8> {
    let result = if args.merge {
        match merge_files(&args.paths) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_BAD_INPUT);
            }
        }
    } else {
        let shard = match args.shard.as_deref().map(str::parse::<Shard>).transpose() {
            Ok(s) => s.unwrap_or(Shard::ALL),
            Err(e) => {
                eprintln!("error: --shard {e}");
                return Ok(EXIT_BAD_INPUT);
            }
        };
        let files = expand(&args.paths)?;
        let Some(loaded) = load_all(&files) else {
            return Ok(EXIT_BAD_INPUT);
        };
        let scenarios: Vec<SweepScenario> = loaded
            .into_iter()
            .map(|(path, scenario)| SweepScenario {
                scenario,
                file: Some(path.display().to_string()),
            })
            .collect();
        let plan = SweepPlan {
            seeds: args.seeds.context("--seeds is required")?,
            first_seed: args.first_seed,
            shard,
        };
        let engine = args.engine.engine(Duration::from_millis(args.tick_ms));
        let jobs = args.jobs.unwrap_or_else(default_jobs);
        let progress = Progress::new(&scenarios, &plan);
        let result = run_sweep(&scenarios, engine.as_ref(), &plan, jobs, &|f| {
            progress.finished(f)
        });
        progress.finish();
        result?
    };
    if let Some(path) = &args.junit {
        std::fs::write(path, to_junit(&result))
            .with_context(|| format!("writing JUnit XML to {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", result.to_json())?;
    } else {
        write!(out, "{}", result.to_text())?;
    }
    Ok(if result.all_passed() { EXIT_OK } else { EXIT_FAILED })
}

fn merge_files(paths: &[PathBuf]) -> anyhow::Result<SweepResult> {
    let mut inputs = Vec::new();
    for p in paths {
        let label = p.display().to_string();
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {label}"))?;
        inputs.push((label.clone(), parse_result(&label, &text)?));
    }
    Ok(merge(&inputs)?)
}

/// Progress on stderr: a bar on a terminal; otherwise one line per scenario once all its
/// runs are done, so CI logs stay short.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Per scenario: name, runs planned, runs done, runs failed.
    counts: Mutex<Vec<(String, u64, u64, u64)>>,
}

impl Progress {
    fn new(scenarios: &[SweepScenario], plan: &SweepPlan) -> Progress {
        let per = plan.indices().count() as u64;
        let total = per * scenarios.len() as u64;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {msg} [{elapsed_precise}, eta {eta}]",
            ) {
                bar.set_style(style);
            }
            bar.set_message("0 failed");
            bar
        });
        let counts = scenarios
            .iter()
            .map(|s| (s.scenario.name.clone(), per, 0, 0))
            .collect();
        Progress {
            bar,
            counts: Mutex::new(counts),
        }
    }

    fn finished(&self, f: Finished) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let c = &mut counts[f.scenario];
        c.2 += 1;
        if !f.passed {
            c.3 += 1;
        }
        let line =
            (c.2 == c.1).then(|| format!("{}: {} runs, {} passed, {} failed", c.0, c.1, c.1 - c.3, c.3));
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if !f.passed {
                    let failed: u64 = counts.iter().map(|c| c.3).sum();
                    bar.set_message(format!("{failed} failed"));
                }
                if let Some(line) = line {
                    bar.println(line);
                }
            }
            None => {
                if let Some(line) = line {
                    eprintln!("{line}");
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
