//! The turmoil world: five hosts speaking HTTP over simulated TCP, and the fault controller.
//!
//! Hosts: one per agent (port [`AGENT_PORT`]) and `orchestrator`. Everything that must
//! survive a crash (the journal, the inbox, the agents' books, the recorder) is created
//! before the hosts and shared into them, the way a disk outlives a process. The controller
//! steps the world one tick at a time and applies each timeline action at its exact instant:
//! crash and restart of a host, partition and repair of a link. Agent-level faults need no
//! switching: the agent hosts consult the timeline on every call; the controller only
//! traces them.

use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::http::client::{Connector, HttpAgentClient};
use gameday_orchestrator::http::server::serve_connection;
use gameday_scenario::Target;

use crate::agents::AgentSide;
use crate::clock::Clock;
use crate::run::{Engine, World, WorldError};
use crate::timeline::Action;

/// The port every agent host listens on.
pub const AGENT_PORT: u16 = 9000;
/// The orchestrator's host name.
pub const ORCHESTRATOR: &str = "orchestrator";

/// Connects to agent hosts by name over turmoil TCP.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurmoilConnector;

impl Connector for TurmoilConnector {
    type Io = turmoil::net::TcpStream;

    fn connect(&self, agent: Stage) -> impl Future<Output = std::io::Result<Self::Io>> {
        turmoil::net::TcpStream::connect((agent.name(), AGENT_PORT))
    }
}

fn host_name(target: Target) -> &'static str {
    match target {
        Target::Agent(a) => a.name(),
        Target::Orchestrator => ORCHESTRATOR,
    }
}

/// The turmoil configuration of every gameday world: seeded, on a fixed epoch, with a
/// sub-millisecond network.
pub fn builder(seed: u64, limit: Duration, tick: Duration) -> turmoil::Builder {
    let mut b = turmoil::Builder::new();
    b.rng_seed(seed)
        // A fixed epoch: nothing in the run may depend on the real date.
        .epoch(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        .simulation_duration(limit)
        .tick_duration(tick)
        .min_message_latency(Duration::from_micros(200))
        .max_message_latency(Duration::from_micros(800))
        // Room for every connection a burst of retries opens at once; turmoil panics when a
        // listen backlog overflows, where a real kernel would drop the SYN.
        .tcp_capacity(65_536);
    b
}

/// Runs `world` in turmoil at `tick` resolution until it has drained or hit its limit.
pub fn run(world: &World, tick: Duration) -> Result<Duration, WorldError> {
    let limit = world.limit();
    let mut sim = builder(world.seed, limit + Duration::from_secs(1), tick).build();

    let clock: Clock = Rc::new(|| turmoil::sim_elapsed().unwrap_or_default());

    for stage in Stage::ALL {
        let side = Rc::new(AgentSide {
            stage,
            seed: world.seed,
            timeline: world.timeline.clone(),
            service: world.services[stage.index()].clone(),
            recorder: world.recorder.clone(),
            clock: clock.clone(),
        });
        sim.host(stage.name(), move || {
            let side = side.clone();
            async move {
                let listener = turmoil::net::TcpListener::bind(("0.0.0.0", AGENT_PORT)).await?;
                loop {
                    let (stream, _) = listener.accept().await?;
                    let side = side.clone();
                    tokio::task::spawn_local(async move {
                        let _ = serve_connection(stream, move |req| {
                            let side = side.clone();
                            async move { side.handle(req).await }
                        })
                        .await;
                    });
                }
            }
        });
    }

    let orchestrator = world.orchestrator(clock.clone());
    sim.host(ORCHESTRATOR, move || {
        let side = orchestrator.clone();
        async move {
            let client = HttpAgentClient::new(TurmoilConnector);
            side.run(client).await.map_err(|e| e.into())
        }
    });

    let actions = world.timeline.actions().to_vec();
    let mut next = 0;
    let mut steps: u64 = 0;
    loop {
        let now = sim.elapsed();
        while next < actions.len() && actions[next].0 <= now {
            let (at, action) = actions[next];
            world.trace_action(at, action);
            match action {
                Action::Crash(t) => sim.crash(host_name(t)),
                Action::Restart(t) => sim.bounce(host_name(t)),
                Action::Partition(a) => sim.partition(ORCHESTRATOR, a.name()),
                Action::Repair(a) => sim.repair(ORCHESTRATOR, a.name()),
                Action::FaultOn(_) | Action::FaultOff(_) => {}
            }
            next += 1;
        }
        if now >= limit || (next == actions.len() && steps.is_multiple_of(100) && world.drained(now)) {
            return Ok(now);
        }
        sim.step().map_err(|e| WorldError::Host(e.to_string()))?;
        steps += 1;
    }
}

impl Engine for TurmoilEngine {
    fn name(&self) -> &'static str {
        "turmoil"
    }

    fn replay_flags(&self) -> String {
        if self.tick == Duration::from_millis(1) {
            String::new()
        } else {
            format!(" --tick-ms {}", self.tick.as_millis())
        }
    }

    fn run(&self, world: &World) -> Result<Duration, WorldError> {
        run(world, self.tick)
    }
}

/// The turmoil engine at a given tick.
#[derive(Debug, Clone, Copy)]
pub struct TurmoilEngine {
    pub tick: Duration,
}

impl Default for TurmoilEngine {
    fn default() -> Self {
        TurmoilEngine {
            tick: Duration::from_millis(1),
        }
    }
}
