//! `gameday run`: simulate scenarios and report on each.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;
use gameday_scenario::Scenario;
use gameday_sim::parallel::run_parallel;
use gameday_sim::{Engine, FastEngine, RunOptions, RunOutput, TurmoilEngine, run_scenario};

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Scenario files, or directories whose `*.toml` files are run in name order.
    #[arg(required = true, value_name = "SCENARIO|DIR")]
    pub paths: Vec<PathBuf>,
    /// Overrides every scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the report as JSON on stdout (an object for one scenario, an array for several).
    #[arg(long)]
    pub json: bool,
    /// Write the event trace (one line per event) to this file; one scenario only.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Scenarios simulated at once (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// The engine: `turmoil` (HTTP over simulated TCP, the reference) or `fast` (the same
    /// orchestrator on tokio's paused clock, in-process transport; for sweeps and searches).
    #[arg(long, value_enum, default_value_t = EngineKind::Turmoil)]
    pub engine: EngineKind,
    /// Plant a known defect (tests of the checkers; the replay command of such a run has it).
    #[arg(long, value_name = "DEFECT", hide = true)]
    pub plant: Vec<gameday_sim::PlantedDefect>,
    /// Simulation tick in milliseconds for the turmoil engine (1 gives exact backoff and breaker timing).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub tick_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    Turmoil,
    Fast,
}

impl EngineKind {
    pub fn engine(self, tick: Duration) -> Box<dyn Engine + Sync> {
        match self {
            EngineKind::Turmoil => Box::new(TurmoilEngine { tick }),
            EngineKind::Fast => Box::new(FastEngine),
        }
    }
}

/// Expands directories into their `*.toml` files, sorted by name.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(super::scenario_files(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?);
    }
    Ok(out)
}

/// Loads every scenario; prints each error and returns `None` if any file is bad.
pub fn load_all(files: &[PathBuf]) -> Option<Vec<(PathBuf, Scenario)>> {
    let mut ok = Vec::new();
    let mut bad = false;
    for f in files {
        match gameday_scenario::parse::load(f) {
            Ok(s) => ok.push((f.clone(), s)),
            Err(e) => {
                eprintln!("{e}");
                bad = true;
            }
        }
    }
    (!bad).then_some(ok)
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn exec(args: Args) -> anyhow::Result<u8> {
    let files = expand(&args.paths)?;
    if args.trace.is_some() && files.len() != 1 {
        eprintln!(
            "error: --trace takes exactly one scenario ({} given)",
            files.len()
        );
        return Ok(EXIT_BAD_INPUT);
    }
    let Some(scenarios) = load_all(&files) else {
        return Ok(EXIT_BAD_INPUT);
    };
    let engine = args.engine.engine(Duration::from_millis(args.tick_ms));
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let results: Vec<anyhow::Result<RunOutput>> = run_parallel(
        &scenarios,
        jobs,
        |(path, scenario)| {
            let options = RunOptions {
                seed: args.seed,
                keep_trace: args.trace.is_some(),
                file: Some(display_path(path)),
                planted: args.plant.clone(),
            };
            run_scenario(scenario, engine.as_ref(), &options)
                .with_context(|| format!("{}: simulation failed", path.display()))
        },
        |_, _| {},
    );

    let mut reports = Vec::new();
    for r in results {
        reports.push(r?);
    }
    if let Some(trace) = &args.trace {
        let mut text = reports[0].trace.join("\n");
        text.push('\n');
        std::fs::write(trace, text).with_context(|| format!("writing trace to {}", trace.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let values: Vec<&gameday_sim::report::Report> = reports.iter().map(|r| &r.report).collect();
        let text = if values.len() == 1 {
            serde_json::to_string_pretty(values[0])?
        } else {
            serde_json::to_string_pretty(&values)?
        };
        writeln!(out, "{text}")?;
    } else {
        for r in &reports {
            writeln!(out, "{}", r.report.to_text())?;
        }
        let failed = reports.iter().filter(|r| !r.report.passed()).count();
        writeln!(
            out,
            "scenarios: {} passed, {} failed",
            reports.len() - failed,
            failed
        )?;
    }
    Ok(if reports.iter().all(|r| r.report.passed()) {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Paths as the user would type them again in a replay command.
fn display_path(p: &Path) -> String {
    p.display().to_string()
}
