//! The fast engine: the same world in one tokio runtime on a paused clock.
//!
//! turmoil steps every tick whether anything happens or not, which caps a five-host world
//! at about 150× real time. Here time jumps straight to the next timer when every task is
//! idle, so an idle second costs nothing. The orchestrator, the pipeline, the fault timeline,
//! the agents' logic and the checker are the very same code; only the transport differs:
//! calls go to the agent hosts over in-process channels instead of HTTP over simulated TCP,
//! and crashes and partitions are modelled on what turmoil does to TCP:
//!
//! - crash of an agent: calls in flight fail at once (the connection resets); new calls
//!   wait until the host is back, then fail (the connection was refused while it booted);
//! - partition: new calls fail at once (connection refused); calls in flight never get
//!   their answer (the segments are dropped), so the caller's timeout ends them;
//! - crash of the orchestrator: every task of that host is dropped; the journal and the
//!   inbox survive and the next boot resumes from them.
//!
//! Each host runs in its own `LocalSet` inside a task of the runtime; a crash aborts that
//! task, which drops the `LocalSet` and with it every task the host had spawned.
//!
//! Known differences from the turmoil engine, which the cross-check tolerates: no network
//! latency (turmoil adds 0.2–0.8 ms per segment), no dead pooled connections after a
//! partition is repaired, and no HTTP framing of answers (an answer's class is carried as is).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use gameday_orchestrator::agent::{AgentClient, AgentError, AgentOutput, AgentRequest};
use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::http::server::Reply;
use gameday_scenario::Target;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::{JoinHandle, LocalSet};
use tokio::time::Instant;

use crate::agents::AgentSide;
use crate::clock::Clock;
use crate::run::{Engine, World, WorldError};
use crate::timeline::Action;

type Call = (AgentRequest, oneshot::Sender<Reply>);

/// The link from the orchestrator to one agent host, as the client sees it.
struct Link {
    /// The running host's inbox; `None` while the host is down.
    host: RefCell<Option<mpsc::UnboundedSender<Call>>>,
    /// Signalled at every restart, so callers waiting on a down host wake up. A `Notify`
    /// rather than a `watch` channel: `watch` spreads its waiters over several queues picked
    /// by tokio's unseeded thread RNG, so the order in which the callers woke (and so the
    /// trace) changed from one process to the next; `Notify` wakes them in a fixed order.
    boots: Notify,
    /// Signalled at every partition, so answers to calls sent before it are never delivered.
    partitions: Notify,
    partitioned: Cell<bool>,
}

impl Link {
    fn new() -> Link {
        Link {
            host: RefCell::new(None),
            boots: Notify::new(),
            partitions: Notify::new(),
            partitioned: Cell::new(false),
        }
    }
}

/// The in-process `AgentClient`: what the orchestrator's HTTP client would have observed.
#[derive(Clone)]
pub struct LocalClient {
    links: Rc<[Link; 4]>,
}

impl AgentClient for LocalClient {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        let link = &self.links[request.key.stage.index()];
        if link.partitioned.get() {
            return Err(AgentError::Connect("connection refused (partition)".into()));
        }
        let sender = link.host.borrow().clone();
        let Some(sender) = sender else {
            // The host is down: the connect hangs until it boots, then is refused.
            link.boots.notified().await;
            return Err(AgentError::Connect("connection refused (host restarting)".into()));
        };
        // Created before the send, so a partition from now on wakes it even before it is polled.
        let partitioned = link.partitions.notified();
        let (tx, rx) = oneshot::channel();
        if sender.send((request, tx)).is_err() {
            return Err(AgentError::Connect("connection refused".into()));
        }
        let reply = tokio::select! {
            biased;
            // A partition after the send: the answer is lost on the way back.
            _ = partitioned => std::future::pending().await,
            reply = rx => reply,
        };
        match reply {
            Ok(Reply::Answer(result)) => result,
            Ok(Reply::Malformed(body)) => Err(AgentError::Protocol(format!(
                "answer is not valid JSON: {}",
                truncate(&body)
            ))),
            Ok(Reply::Hang) => std::future::pending().await,
            // The host crashed with the call in flight: the connection reset.
            Err(_) => Err(AgentError::Connect("connection reset by peer".into())),
        }
    }
}

fn truncate(s: &str) -> &str {
    let end = s.char_indices().nth(60).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end]
}

/// The paused-clock engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastEngine;

impl Engine for FastEngine {
    fn name(&self) -> &'static str {
        "fast"
    }

    fn run(&self, world: &World) -> Result<Duration, WorldError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| WorldError::Setup(e.to_string()))?;
        let local = LocalSet::new();
        local.block_on(&rt, drive(world))
    }
}

/// Starts one agent host: a task running its own `LocalSet` that serves calls.
fn boot_agent(link: &Link, side: Rc<AgentSide>) -> JoinHandle<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Call>();
    *link.host.borrow_mut() = Some(tx);
    link.boots.notify_waiters();
    tokio::task::spawn_local(async move {
        let host = LocalSet::new();
        host.run_until(async move {
            while let Some((request, reply)) = rx.recv().await {
                let side = side.clone();
                tokio::task::spawn_local(async move {
                    let answer = side.handle(request).await;
                    let _ = reply.send(answer);
                });
            }
        })
        .await;
    })
}

fn boot_orchestrator(world: &World, clock: &Clock, client: LocalClient) -> JoinHandle<()> {
    let side = world.orchestrator(clock.clone());
    tokio::task::spawn_local(async move {
        let host = LocalSet::new();
        host.run_until(async move {
            let _ = side.run(client).await;
        })
        .await;
    })
}

async fn drive(world: &World) -> Result<Duration, WorldError> {
    let start = Instant::now();
    let clock: Clock = Rc::new(move || Instant::now() - start);
    let links: Rc<[Link; 4]> = Rc::new([Link::new(), Link::new(), Link::new(), Link::new()]);
    let sides: Vec<Rc<AgentSide>> = Stage::ALL
        .iter()
        .map(|s| {
            Rc::new(AgentSide {
                stage: *s,
                seed: world.seed,
                timeline: world.timeline.clone(),
                service: world.services[s.index()].clone(),
                recorder: world.recorder.clone(),
                clock: clock.clone(),
            })
        })
        .collect();
    let mut agents: Vec<Option<JoinHandle<()>>> = Stage::ALL
        .iter()
        .map(|s| Some(boot_agent(&links[s.index()], sides[s.index()].clone())))
        .collect();
    let client = LocalClient { links: links.clone() };
    let mut orchestrator = Some(boot_orchestrator(world, &clock, client.clone()));

    let limit = world.limit();
    let actions = world.timeline.actions().to_vec();
    for (at, action) in actions {
        tokio::time::sleep_until(start + at).await;
        world.trace_action(at, action);
        match action {
            Action::Crash(Target::Agent(a)) => {
                let link = &links[a.index()];
                link.host.borrow_mut().take();
                if let Some(h) = agents[a.index()].take() {
                    h.abort();
                }
            }
            Action::Restart(Target::Agent(a)) => {
                if agents[a.index()].is_none() {
                    agents[a.index()] = Some(boot_agent(&links[a.index()], sides[a.index()].clone()));
                }
            }
            Action::Crash(Target::Orchestrator) => {
                if let Some(h) = orchestrator.take() {
                    h.abort();
                }
            }
            Action::Restart(Target::Orchestrator) => {
                if orchestrator.is_none() {
                    orchestrator = Some(boot_orchestrator(world, &clock, client.clone()));
                }
            }
            Action::Partition(a) => {
                let link = &links[a.index()];
                link.partitioned.set(true);
                link.partitions.notify_waiters();
            }
            Action::Repair(a) => links[a.index()].partitioned.set(false),
            Action::FaultOn(_) | Action::FaultOff(_) => {}
        }
        // Let the hosts react to the action before the next one.
        tokio::task::yield_now().await;
    }
    // Poll for the end every 100 ms of simulated time: cheap, and precise enough for a
    // drain that is judged in seconds.
    loop {
        let now = clock();
        if now >= limit || world.drained(now) {
            for h in agents.into_iter().flatten().chain(orchestrator) {
                h.abort();
            }
            return Ok(now);
        }
        let step = Duration::from_millis(100).as_nanos();
        let next = Duration::from_nanos(((now.as_nanos() / step + 1) * step) as u64);
        tokio::time::sleep_until(start + next).await;
    }
}
