//! `gameday fis ...`: the AWS FIS lane. Lint, render, run and watch an experiment, and check
//! or stop one by id. Guardrails run before every `render` and `run`.
//!
//! Exit codes: 0 the command did what was asked (a run completed), 1 a run ended in any other
//! state (stopped, failed, cancelled), 2 bad input, a guardrail refusal or an FIS API error.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use gameday_fis::render::{Prediction, Quantiles, RenderError, plan, render};
use gameday_fis::run::{RunStage, Runner, StateChange, Timeline, client_from_env};
use gameday_fis::{Bindings, Refusal};
use gameday_orchestrator::fault_flags::{SystemWallClock, WallClock};
use gameday_scenario::Scenario;
use gameday_sim::FastEngine;
use gameday_sim::sweep::{Distribution, Shard, SweepPlan, SweepScenario, run_sweep};

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: FisCommand,
}

#[derive(Debug, Subcommand)]
pub enum FisCommand {
    /// Check a scenario against its bindings and FIS limits (exit 2 with every refusal).
    Lint(Target),
    /// Write the experiment template, automation document, IAM policies and runbook.
    Render {
        #[command(flatten)]
        target: Target,
        /// Directory to write the artifacts into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The simulation's prediction for the runbook (JSON: seeds, pass_rate, matched_ratio,
        /// mttd_ms and mttr_ms as {p50, p99} or null). Without it, render sweeps the scenario
        /// over `--predict-seeds` seeds on the fast engine and quotes that.
        #[arg(long, value_name = "FILE", conflicts_with = "no_predict")]
        prediction: Option<PathBuf>,
        /// Render the runbook without a prediction (no simulation is run).
        #[arg(long)]
        no_predict: bool,
        /// Seeds of the prediction sweep (from the scenario's own seed).
        #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
        predict_seeds: u32,
    },
    /// Create the experiment template, start it and watch it to the end (Ctrl-C stops it).
    Run {
        #[command(flatten)]
        target: Target,
        /// `preview` resolves targets and injects nothing; `live` injects faults.
        #[arg(long, value_enum)]
        stage: StageArg,
        /// Required with `--stage live`: confirms faults will be injected.
        #[arg(long)]
        yes: bool,
        /// Where to write the observed timeline (JSON).
        #[arg(long, value_name = "FILE", default_value = "fis-timeline.json")]
        timeline: PathBuf,
        /// How often to poll the experiment's state.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime_duration)]
        poll: Duration,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Print an experiment's state and its actions' states.
    Status {
        id: String,
        #[command(flatten)]
        endpoint: Endpoint,
        /// Region of the experiment.
        #[arg(long)]
        region: String,
    },
    /// Stop an experiment.
    Stop {
        id: String,
        #[command(flatten)]
        endpoint: Endpoint,
        /// Region of the experiment.
        #[arg(long)]
        region: String,
    },
}

#[derive(Debug, ClapArgs)]
pub struct Target {
    /// The scenario file.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// The bindings file mapping the scenario onto a deployment.
    #[arg(long, value_name = "FILE")]
    pub bindings: PathBuf,
}

#[derive(Debug, ClapArgs)]
pub struct Endpoint {
    /// Send FIS calls to this endpoint instead of the region's (VPC endpoints, testing).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StageArg {
    Preview,
    Live,
}

fn humantime_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        Err("must be above zero".into())
    } else {
        Ok(d)
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("expected a duration such as 500ms, 5s or 1m, found `{s}`"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!(
            "expected a duration such as 500ms, 5s or 1m, found `{s}`"
        )),
    }
}

fn load(target: &Target) -> anyhow::Result<(Scenario, Bindings)> {
    let scenario = gameday_scenario::load(&target.scenario).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bindings = Bindings::load(&target.bindings).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((scenario, bindings))
}

fn print_refusals(refusals: &[Refusal]) -> u8 {
    eprintln!("refused by {} guardrail(s):", refusals.len());
    for r in refusals {
        eprintln!("  - {r}");
    }
    EXIT_BAD_INPUT
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn exec(args: Args) -> anyhow::Result<u8> {
    match args.command {
        FisCommand::Lint(target) => {
            let (scenario, bindings) = load(&target)?;
            match plan(&scenario, &bindings) {
                Ok(p) => {
                    println!(
                        "{}: ok ({} actions, {} stop conditions)",
                        target.scenario.display(),
                        p.template.actions.len(),
                        p.template.stop_conditions.len()
                    );
                    Ok(EXIT_OK)
                }
                Err(refusals) => Ok(print_refusals(&refusals)),
            }
        }
        FisCommand::Render {
            target,
            out,
            prediction,
            no_predict,
            predict_seeds,
        } => {
            let (scenario, bindings) = load(&target)?;
            let prediction: Option<Prediction> = match prediction {
                None if no_predict => None,
                None => {
                    // Refuse before spending time on a simulation whose plan would be refused.
                    if let Err(refusals) = plan(&scenario, &bindings) {
                        return Ok(print_refusals(&refusals));
                    }
                    Some(predict(&scenario, &target.scenario, predict_seeds)?)
                }
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    Some(
                        serde_json::from_str(&text)
                            .with_context(|| format!("{}: not a prediction", path.display()))?,
                    )
                }
            };
            match render(&scenario, &bindings, prediction.as_ref()) {
                Ok(artifacts) => {
                    for path in artifacts.write_to(&out)? {
                        println!("wrote {}", path.display());
                    }
                    Ok(EXIT_OK)
                }
                Err(RenderError::Refused(refusals)) => Ok(print_refusals(&refusals)),
                Err(e) => Err(e.into()),
            }
        }
        FisCommand::Run {
            target,
            stage,
            yes,
            timeline,
            poll,
            endpoint,
        } => {
            let (scenario, bindings) = load(&target)?;
            let stage = match stage {
                StageArg::Preview => RunStage::Preview,
                StageArg::Live if yes => RunStage::Live,
                StageArg::Live => bail!(
                    "--stage live injects faults into {} in {}: add --yes to confirm (and run --stage preview first)",
                    bindings.account,
                    bindings.region
                ),
            };
            let plan = match plan(&scenario, &bindings) {
                Ok(p) => p,
                Err(refusals) => return Ok(print_refusals(&refusals)),
            };
            runtime()?.block_on(run(
                plan.template,
                &bindings,
                stage,
                &timeline,
                poll,
                endpoint.endpoint_url.as_deref(),
            ))
        }
        FisCommand::Status { id, endpoint, region } => runtime()?.block_on(async {
            let runner = Runner::new(
                client_from_env(&region, endpoint.endpoint_url.as_deref()).await,
                SystemWallClock,
                Duration::from_secs(5),
            );
            let s = runner.status(&id).await?;
            println!(
                "{id}: {}{}",
                s.status,
                s.reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
            for (name, (state, reason)) in &s.actions {
                println!(
                    "  {name}: {state}{}",
                    reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                );
            }
            Ok(EXIT_OK)
        }),
        FisCommand::Stop { id, endpoint, region } => runtime()?.block_on(async {
            let runner = Runner::new(
                client_from_env(&region, endpoint.endpoint_url.as_deref()).await,
                SystemWallClock,
                Duration::from_secs(5),
            );
            let s = runner.stop(&id).await?;
            println!("{id}: {}", s.status);
            Ok(EXIT_OK)
        }),
    }
}

/// The runbook's prediction: a sweep of the scenario over `seeds` seeds on the fast engine.
fn predict(scenario: &Scenario, path: &Path, seeds: u32) -> anyhow::Result<Prediction> {
    eprintln!(
        "predicting: {} over {seeds} seeds on the fast engine (--no-predict skips this)",
        scenario.name
    );
    let input = [SweepScenario {
        scenario: scenario.clone(),
        file: Some(path.display().to_string()),
    }];
    let plan = SweepPlan {
        seeds: u64::from(seeds),
        first_seed: None,
        shard: Shard::ALL,
    };
    let result = run_sweep(&input, &FastEngine, &plan, super::run::default_jobs(), &|_| {})
        .context("prediction sweep failed")?;
    let s = &result.scenarios[0].summary;
    let quantiles = |d: &Option<Distribution>| {
        d.as_ref().map(|d| Quantiles {
            p50: d.p50.round() as u64,
            p99: d.p99.round() as u64,
        })
    };
    Ok(Prediction {
        seeds,
        pass_rate: s.pass_rate,
        matched_ratio: s.matched_ratio,
        mttd_ms: quantiles(&s.mttd_ms),
        mttr_ms: quantiles(&s.mttr_ms),
    })
}

/// Progress: a spinner on a terminal, plain lines otherwise.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new() -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress(Some(bar))
        } else {
            Progress(None)
        }
    }

    fn change(&self, c: &StateChange) {
        let line = format!(
            "{} {}{}",
            c.subject,
            c.state,
            c.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        match &self.0 {
            Some(bar) => {
                bar.println(&line);
                if c.subject == "experiment" {
                    bar.set_message(format!("experiment {}", c.state));
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

async fn run(
    template: gameday_fis::ExperimentTemplate,
    bindings: &Bindings,
    stage: RunStage,
    timeline_path: &Path,
    poll: Duration,
    endpoint_url: Option<&str>,
) -> anyhow::Result<u8> {
    let client = client_from_env(&bindings.region, endpoint_url).await;
    let runner = Runner::new(client, SystemWallClock, poll);
    let progress = Progress::new();
    let cancel = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a signal handler there is no Ctrl-C to honour; never cancel.
            std::future::pending::<()>().await;
        }
        eprintln!("interrupted: stopping the experiment");
    };
    let token = format!(
        "gameday-{}-{}",
        template.client_token.trim_start_matches("gameday-"),
        SystemWallClock.now_unix_ms()
    );
    let timeline: Timeline = runner
        .run(&template, stage, &token, cancel, |c| progress.change(c))
        .await?;
    if let Some(bar) = &progress.0 {
        bar.finish_and_clear();
    }
    let json = serde_json::to_string_pretty(&timeline)? + "\n";
    std::fs::write(timeline_path, json)
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    eprintln!(
        "experiment {} ended {}; timeline written to {}",
        timeline.experiment_id,
        timeline.final_state,
        timeline_path.display()
    );
    Ok(if timeline.succeeded() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
