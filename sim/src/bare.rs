//! A bare turmoil world of the same shape as a gameday world, for measuring gameday's own
//! overhead: five hosts, the same HTTP stack, the same agents' answers and service times and
//! the same arrivals, but a client that just chains the four calls of each trade: no
//! pipeline, no call policy, no journal, no fault timeline, no recorder, no checker.

use std::rc::Rc;
use std::time::Duration;

use gameday_orchestrator::agent::{AgentClient, AgentInput, AgentOutput, AgentRequest};
use gameday_orchestrator::domain::{ExceptionReason, ExceptionRequest, IdempotencyKey, MatchResult, Stage};
use gameday_orchestrator::http::client::HttpAgentClient;
use gameday_orchestrator::http::server::{Reply, serve_connection};
use gameday_orchestrator::reference::generator::Generator;
use gameday_orchestrator::reference::service::AgentService;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::{Cell, RefCell};

use crate::agents::service_time;
use crate::workload::arrivals;
use crate::world::{AGENT_PORT, ORCHESTRATOR, TurmoilConnector, builder};

/// Runs the bare world for `duration` of simulated time at `rate` trades per second and
/// `tick` resolution; returns the trades completed.
pub fn run_bare(seed: u64, rate: f64, duration: Duration, tick: Duration) -> u64 {
    let mut sim = builder(seed, duration + Duration::from_secs(60), tick).build();
    let generator = Generator::new(seed, 0.1).expect("a valid ratio");
    for stage in Stage::ALL {
        let service = Rc::new(RefCell::new(AgentService::new(stage, generator)));
        sim.host(stage.name(), move || {
            let service = service.clone();
            async move {
                let listener = turmoil::net::TcpListener::bind(("0.0.0.0", AGENT_PORT)).await?;
                loop {
                    let (stream, _) = listener.accept().await?;
                    let service = service.clone();
                    tokio::task::spawn_local(async move {
                        let _ = serve_connection(stream, move |req: AgentRequest| {
                            let service = service.clone();
                            async move {
                                let mut rng = ChaCha8Rng::seed_from_u64(req.key.trade.0);
                                let (typical, spread) = service_time(req.key.stage);
                                let jitter = rng.random_range(0..=2 * spread.as_micros() as u64);
                                tokio::time::sleep(typical + Duration::from_micros(jitter) - spread).await;
                                Reply::Answer(service.borrow_mut().handle(&req))
                            }
                        })
                        .await;
                    });
                }
            }
        });
    }
    let done = Rc::new(Cell::new(0u64));
    let schedule = arrivals(seed, rate, duration);
    let counter = done.clone();
    sim.host(ORCHESTRATOR, move || {
        let schedule = schedule.clone();
        let done = counter.clone();
        async move {
            let client = Rc::new(HttpAgentClient::new(TurmoilConnector));
            let start = tokio::time::Instant::now();
            for (at, trade) in schedule {
                tokio::time::sleep_until(start + at).await;
                let client = client.clone();
                let done = done.clone();
                tokio::task::spawn_local(async move {
                    let call = |stage, input| {
                        let client = client.clone();
                        async move {
                            let key = IdempotencyKey { trade, stage };
                            let req = AgentRequest {
                                key,
                                correlation_id: String::new(),
                                attempt: 1,
                                input,
                            };
                            client.invoke(req).await
                        }
                    };
                    let doc = generator.document(trade);
                    let Ok(AgentOutput::Text(text)) =
                        call(Stage::PdfAdapter, AgentInput::Document(doc)).await
                    else {
                        return;
                    };
                    let Ok(AgentOutput::Record(record)) =
                        call(Stage::TradeExtraction, AgentInput::Text(text)).await
                    else {
                        return;
                    };
                    let Ok(AgentOutput::Match(result)) =
                        call(Stage::TradeMatching, AgentInput::Record(record.clone())).await
                    else {
                        return;
                    };
                    if result != MatchResult::Matched {
                        let reason = match result {
                            MatchResult::Mismatched { fields } => ExceptionReason::Mismatch { fields },
                            _ => ExceptionReason::Unmatched,
                        };
                        let req = ExceptionRequest {
                            trade,
                            reason,
                            record: Some(record),
                        };
                        let _ = call(Stage::ExceptionManagement, AgentInput::Exception(req)).await;
                    }
                    done.set(done.get() + 1);
                });
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    // Step through the workload and a short drain, as a gameday run of the same scenario does.
    let end = duration + Duration::from_secs(2);
    while sim.elapsed() < end {
        if sim.step().is_err() {
            break;
        }
    }
    done.get()
}
