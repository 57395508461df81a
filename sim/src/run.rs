//! One simulated run: the world's shared state, the engine that drives it, and the verdict.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use gameday_orchestrator::domain::{MatchResult, OutcomeKind, Stage, TradeId};
use gameday_orchestrator::journal::{Journal, MemoryJournal};
use gameday_orchestrator::reference::generator::Generator;
use gameday_orchestrator::reference::service::AgentService;
use gameday_scenario::Scenario;

use crate::checker::{self, RunFacts, Verdict};
use crate::clock::Clock;
use crate::defects::{PlantedDefect, policy_defects};
use crate::orchestrator::OrchestratorSide;
use crate::recorder::Recorder;
use crate::report::{Report, RunInfo, Trades, count_outcomes};
use crate::timeline::{Action, Timeline};
use crate::workload::{Inbox, arrivals};

/// After the workload stops, the run goes on until every trade has finished, but no longer
/// than this: a trade still unfinished then counts as lost.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    #[error("a simulated host failed: {0}")]
    Host(String),
    #[error("the world cannot be set up: {0}")]
    Setup(String),
}

/// Something that can drive a world to its end: turmoil, or tokio's paused clock.
pub trait Engine {
    fn name(&self) -> &'static str;
    /// The `gameday run` flags that select this engine as configured (empty for the default),
    /// so a replay command runs the same engine.
    fn replay_flags(&self) -> String {
        format!(" --engine {}", self.name())
    }
    /// Runs the world; returns the simulated time at which it stopped.
    fn run(&self, world: &World) -> Result<Duration, WorldError>;
}

/// The state of one run that outlives every host: journal, inbox, agents' books, recorder.
pub struct World {
    pub scenario: Rc<Scenario>,
    pub seed: u64,
    pub timeline: Rc<Timeline>,
    pub recorder: Rc<RefCell<Recorder>>,
    pub journal: Arc<MemoryJournal>,
    pub inbox: Rc<Inbox>,
    pub services: [Rc<RefCell<AgentService>>; 4],
    pub generator: Generator,
    pub planted: Vec<PlantedDefect>,
    orchestrator: RefCell<Option<Rc<OrchestratorSide>>>,
}

impl World {
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        keep_trace: bool,
        planted: &[PlantedDefect],
    ) -> Result<World, WorldError> {
        let generator = Generator::new(seed, scenario.workload.mismatch_ratio)
            .map_err(|e| WorldError::Setup(e.to_string()))?;
        let services = Stage::ALL.map(|s| {
            let mut service = AgentService::new(s, generator);
            if s == Stage::TradeMatching && planted.contains(&PlantedDefect::NonIdempotentMatching) {
                service.set_idempotent(false);
            }
            Rc::new(RefCell::new(service))
        });
        let recorder = Rc::new(RefCell::new(Recorder::new(keep_trace, &scenario.policy.budget)));
        {
            let mut r = recorder.borrow_mut();
            r.line(
                Duration::ZERO,
                "run",
                format_args!("scenario {} seed {seed}", scenario.name),
            );
            for d in planted {
                r.line(Duration::ZERO, "run", format_args!("planted defect {d}"));
            }
        }
        Ok(World {
            scenario: Rc::new(scenario.clone()),
            seed,
            timeline: Rc::new(Timeline::new(scenario)),
            recorder,
            journal: Arc::new(MemoryJournal::new()),
            inbox: Rc::new(Inbox::new(arrivals(
                seed,
                scenario.workload.rate,
                scenario.duration,
            ))),
            services,
            generator,
            planted: planted.to_vec(),
            orchestrator: RefCell::new(None),
        })
    }

    /// The latest simulated instant the run may reach.
    pub fn limit(&self) -> Duration {
        self.scenario.duration.max(self.timeline.last_fault_end()) + DRAIN_LIMIT
    }

    /// The orchestrator's durable side, made once per run.
    pub fn orchestrator(&self, clock: Clock) -> Rc<OrchestratorSide> {
        self.orchestrator
            .borrow_mut()
            .get_or_insert_with(|| {
                Rc::new(OrchestratorSide {
                    scenario: self.scenario.clone(),
                    seed: self.seed,
                    journal: self.journal.clone(),
                    inbox: self.inbox.clone(),
                    recorder: self.recorder.clone(),
                    generator: self.generator,
                    defects: policy_defects(&self.planted),
                    clock,
                    boots: std::cell::Cell::new(0),
                })
            })
            .clone()
    }

    /// Traces a controller action.
    pub fn trace_action(&self, at: Duration, action: Action) {
        let mut r = self.recorder.borrow_mut();
        match action {
            Action::FaultOn(i) | Action::FaultOff(i) => {
                let f = self.timeline.fault(i);
                let on = if matches!(action, Action::FaultOn(_)) {
                    "on"
                } else {
                    "off"
                };
                r.line(
                    at,
                    "faults",
                    format_args!("{} {} {on} (fault {i})", f.kind.name(), f.target.name()),
                );
            }
            Action::Crash(t) => r.line(at, "faults", format_args!("crash {}", t.name())),
            Action::Restart(t) => r.line(at, "faults", format_args!("restart {}", t.name())),
            Action::Partition(a) => r.line(at, "faults", format_args!("partition orchestrator {a}")),
            Action::Repair(a) => r.line(at, "faults", format_args!("repair orchestrator {a}")),
        }
    }

    /// Whether the run can stop: the workload is over, every fault has ended and every
    /// arrived trade has finished.
    pub fn drained(&self, now: Duration) -> bool {
        now >= self.scenario.duration
            && now >= self.timeline.last_fault_end()
            && self.inbox.is_drained()
            && self.recorder.borrow().finished as usize >= self.inbox.all().len()
    }

    /// Judges the run and builds its report.
    pub fn finish(&self, end: Duration, replay: String, file: Option<String>) -> RunOutput {
        self.recorder.borrow_mut().line(end, "run", format_args!("end"));
        let outcomes: BTreeMap<TradeId, OutcomeKind> = self
            .journal
            .outcomes()
            .into_iter()
            .map(|(t, o)| (t, o.kind()))
            .collect();
        let mut applied = BTreeMap::new();
        for s in &self.services {
            for (k, n) in s.borrow().applied() {
                applied.insert(*k, *n);
            }
        }
        let submitted: Vec<(TradeId, Duration)> = self.inbox.all().iter().map(|(at, t)| (*t, *at)).collect();
        let needed_calls = submitted
            .iter()
            .map(|(t, _)| {
                if self.generator.expected(*t) == MatchResult::Matched {
                    3
                } else {
                    4
                }
            })
            .sum();
        let recorder = self.recorder.borrow();
        let facts = RunFacts {
            scenario: &self.scenario,
            recorder: &recorder,
            submitted: &submitted,
            outcomes: &outcomes,
            applied: &applied,
            needed_calls,
            end,
        };
        let verdict = checker::check(&facts);
        let (matched, exception, dead_letter) =
            count_outcomes(submitted.iter().filter_map(|(t, _)| outcomes.get(t)));
        let lost = submitted
            .iter()
            .filter(|(t, _)| !outcomes.contains_key(t))
            .count() as u64;
        let duplicated = recorder.trades.values().filter(|l| l.finished.len() > 1).count() as u64;
        let info = RunInfo {
            scenario: self.scenario.name.clone(),
            file,
            seed: self.seed,
            simulated_ms: end.as_millis() as u64,
            trades: Trades {
                submitted: submitted.len() as u64,
                matched,
                exception,
                dead_letter,
                lost,
                duplicated,
            },
            replay,
        };
        let report = Report::build(info, &recorder, &verdict);
        RunOutput {
            report,
            verdict,
            trace: recorder.lines().to_vec(),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub report: Report,
    pub verdict: Verdict,
    /// The trace lines, when asked for.
    pub trace: Vec<String>,
}

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the trace text (for `--trace`).
    pub keep_trace: bool,
    /// The file the scenario came from, for the report and the replay command.
    pub file: Option<String>,
    /// Defects to plant (tests of the checkers).
    pub planted: Vec<PlantedDefect>,
}

/// Runs a scenario in `engine` and judges it.
pub fn run_scenario(
    scenario: &Scenario,
    engine: &dyn Engine,
    options: &RunOptions,
) -> Result<RunOutput, WorldError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let world = World::new(scenario, seed, options.keep_trace, &options.planted)?;
    let end = engine.run(&world)?;
    let file = options
        .file
        .as_deref()
        .map(shell_word)
        .unwrap_or_else(|| format!("<{}>", scenario.name));
    let engine_flag = engine.replay_flags();
    let plants: String = options.planted.iter().map(|d| format!(" --plant {d}")).collect();
    let replay = format!("gameday run {file} --seed {seed}{engine_flag}{plants}");
    Ok(world.finish(end, replay, options.file.clone()))
}

/// `word` as one shell word: unchanged when it has nothing a shell would split or expand,
/// single-quoted otherwise, so a printed replay command can be pasted as is.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn replay_paths_survive_a_shell() {
        assert_eq!(
            shell_word("scenarios/catalog/01-baseline.toml"),
            "scenarios/catalog/01-baseline.toml"
        );
        assert_eq!(shell_word("my scenarios/a b.toml"), "'my scenarios/a b.toml'");
        assert_eq!(shell_word("it's.toml"), "'it'\\''s.toml'");
        assert_eq!(shell_word(""), "''");
    }
}
