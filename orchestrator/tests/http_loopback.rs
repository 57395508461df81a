//! The HTTP client and server over real tokio TCP on 127.0.0.1: reference agents served by
//! `serve_connection`, called through `HttpAgentClient`. Every server listens on an ephemeral
//! port inside the test's `LocalSet` and stops with it; every test is bounded by a timeout.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use gameday_orchestrator::agent::{AgentClient, AgentError, AgentInput, AgentOutput, AgentRequest};
use gameday_orchestrator::domain::{
    ExceptionReason, ExceptionRequest, IdempotencyKey, MatchResult, NormalisedText, Stage, TradeId,
};
use gameday_orchestrator::http::{HttpAgentClient, Reply, TcpConnector, serve_connection};
use gameday_orchestrator::reference::{AgentService, Generator};
use tokio::net::TcpListener;
use tokio::task::LocalSet;

/// Runs a test body on this current-thread runtime inside a `LocalSet`, bounded in time.
async fn local<F: Future<Output = ()>>(body: F) {
    LocalSet::new()
        .run_until(async {
            tokio::time::timeout(Duration::from_secs(20), body)
                .await
                .expect("test finished in time")
        })
        .await
}

/// A server on an ephemeral loopback port; `accepted` counts connections it accepted,
/// `closed` those whose serving has ended.
struct Server {
    addr: SocketAddr,
    accepted: Rc<Cell<usize>>,
    closed: Rc<Cell<usize>>,
}

async fn spawn_server<H, F>(handler: H) -> Server
where
    H: Fn(AgentRequest) -> F + Clone + 'static,
    F: Future<Output = Reply> + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let accepted = Rc::new(Cell::new(0));
    let closed = Rc::new(Cell::new(0));
    let (count, ended) = (Rc::clone(&accepted), Rc::clone(&closed));
    tokio::task::spawn_local(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.set(count.get() + 1);
            let handler = handler.clone();
            let ended = Rc::clone(&ended);
            tokio::task::spawn_local(async move {
                let _ = serve_connection(stream, handler).await;
                ended.set(ended.get() + 1);
            });
        }
    });
    Server {
        addr,
        accepted,
        closed,
    }
}

/// One server hosting all four reference agents; returns it with the services for inspection.
async fn reference_server(generator: Generator) -> (Server, Rc<RefCell<BTreeMap<Stage, AgentService>>>) {
    let services: BTreeMap<Stage, AgentService> = Stage::ALL
        .into_iter()
        .map(|s| (s, AgentService::new(s, generator)))
        .collect();
    let services = Rc::new(RefCell::new(services));
    let shared = Rc::clone(&services);
    let server = spawn_server(move |req: AgentRequest| {
        let answer = match shared.borrow_mut().get_mut(&req.stage()) {
            Some(service) => service.handle(&req),
            None => Err(AgentError::Rejected {
                status: 404,
                reason: "no such agent".into(),
            }),
        };
        async move { Reply::Answer(answer) }
    })
    .await;
    (server, services)
}

fn request(trade: TradeId, stage: Stage, attempt: u32, input: AgentInput) -> AgentRequest {
    AgentRequest {
        key: IdempotencyKey { trade, stage },
        correlation_id: format!("{trade}-corr"),
        attempt,
        input,
    }
}

fn text_request(attempt: u32) -> AgentRequest {
    let trade = TradeId(1);
    request(
        trade,
        Stage::TradeExtraction,
        attempt,
        AgentInput::Text(NormalisedText {
            trade,
            text: String::new(),
        }),
    )
}

/// A call to trade-matching, whose answers are match results.
fn matching_request(attempt: u32) -> AgentRequest {
    let trade = TradeId(1);
    let record = Generator::new(1, 0.0).expect("valid ratio").booked(trade);
    request(trade, Stage::TradeMatching, attempt, AgentInput::Record(record))
}

#[tokio::test(flavor = "current_thread")]
async fn four_stage_trades_by_hand_over_keep_alive_connections() {
    local(async {
        let generator = Generator::new(2024, 0.5).expect("valid ratio");
        let (server, services) = reference_server(generator).await;
        let client = HttpAgentClient::new(TcpConnector::single(server.addr));
        let mut outcomes = BTreeMap::new();
        for id in 0..24 {
            let trade = TradeId(id);
            let doc = generator.document(trade);
            let Ok(AgentOutput::Text(text)) = client
                .invoke(request(trade, Stage::PdfAdapter, 1, AgentInput::Document(doc)))
                .await
            else {
                panic!("pdf-adapter failed for {trade}")
            };
            let Ok(AgentOutput::Record(record)) = client
                .invoke(request(trade, Stage::TradeExtraction, 1, AgentInput::Text(text)))
                .await
            else {
                panic!("extraction failed for {trade}")
            };
            assert_eq!(record, generator.booked(trade));
            let matching = request(trade, Stage::TradeMatching, 1, AgentInput::Record(record.clone()));
            let Ok(AgentOutput::Match(result)) = client.invoke(matching.clone()).await else {
                panic!("matching failed for {trade}")
            };
            assert_eq!(result, generator.expected(trade), "{trade}");
            // A retry of the same key over the wire gets the same answer, not a second match.
            let mut retry = matching;
            retry.attempt = 2;
            assert_eq!(client.invoke(retry).await, Ok(AgentOutput::Match(result.clone())));

            let reason = match &result {
                MatchResult::Matched => None,
                MatchResult::Mismatched { fields } => Some(ExceptionReason::Mismatch {
                    fields: fields.clone(),
                }),
                MatchResult::Unmatched => Some(ExceptionReason::Unmatched),
            };
            if let Some(reason) = reason {
                let exception = ExceptionRequest {
                    trade,
                    reason: reason.clone(),
                    record: Some(record),
                };
                let answer = client
                    .invoke(request(
                        trade,
                        Stage::ExceptionManagement,
                        1,
                        AgentInput::Exception(exception),
                    ))
                    .await;
                let Ok(AgentOutput::Case(case)) = answer else {
                    panic!("exception-management failed: {answer:?}")
                };
                assert_eq!((case.trade, case.reason), (trade, reason));
                assert!(case.queue.starts_with("ops-"), "{}", case.queue);
            }
            outcomes.insert(trade, result);
        }
        assert!(outcomes.values().any(|r| *r == MatchResult::Matched));
        assert!(outcomes.values().any(|r| *r != MatchResult::Matched));
        let services = services.borrow();
        for service in services.values() {
            assert!(
                service.applied().values().all(|&n| n == 1),
                "{} applied twice",
                service.stage()
            );
        }
        let opened_cases = services[&Stage::ExceptionManagement].cases().len();
        assert_eq!(
            opened_cases,
            outcomes.values().filter(|r| **r != MatchResult::Matched).count()
        );
        // One keep-alive connection per agent (the pool is per agent), reused for every trade.
        assert_eq!(
            server.accepted.get(),
            4,
            "sequential calls share one connection per agent"
        );
        assert_eq!(client.connections_opened(), 4);
        for stage in Stage::ALL {
            assert_eq!(client.idle_connections(stage), 1, "{stage}");
        }
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn every_error_class_round_trips() {
    local(async {
        let errors = vec![
            AgentError::Throttled {
                retry_after: Some(Duration::from_secs(3)),
            },
            AgentError::Throttled { retry_after: None },
            AgentError::Unavailable { status: 503 },
            AgentError::Unavailable { status: 500 },
            AgentError::Timeout,
            AgentError::AccessDenied { status: 401 },
            AgentError::AccessDenied { status: 403 },
            AgentError::Rejected {
                status: 422,
                reason: "line 6: field `NOTIONAL`".into(),
            },
            AgentError::Rejected {
                status: 409,
                reason: String::new(),
            },
        ];
        let table = Rc::new(errors.clone());
        let server = spawn_server(move |req: AgentRequest| {
            let answer = Err(table[req.attempt as usize].clone());
            async move { Reply::Answer(answer) }
        })
        .await;
        let client = HttpAgentClient::new(TcpConnector::single(server.addr));
        for (i, expected) in errors.into_iter().enumerate() {
            assert_eq!(client.invoke(text_request(i as u32)).await, Err(expected));
        }
        assert_eq!(
            server.accepted.get(),
            1,
            "error answers keep the connection alive"
        );
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_or_mistyped_answers_are_protocol_errors() {
    local(async {
        let server = spawn_server(|req: AgentRequest| async move {
            if req.attempt == 1 {
                Reply::Malformed("{\"type\": \"record\", \"payload\": ".into())
            } else {
                Reply::Answer(Ok(AgentOutput::Match(MatchResult::Matched)))
            }
        })
        .await;
        let client = HttpAgentClient::new(TcpConnector::single(server.addr));
        assert!(matches!(
            client.invoke(text_request(1)).await,
            Err(AgentError::Protocol(_))
        ));
        assert!(matches!(
            client.invoke(text_request(2)).await,
            Err(AgentError::Protocol(_))
        ));
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn connections_are_reused_and_concurrent_calls_get_their_own() {
    local(async {
        let server = spawn_server(|_req: AgentRequest| async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Reply::Answer(Ok(AgentOutput::Match(MatchResult::Unmatched)))
        })
        .await;
        let client = HttpAgentClient::new(TcpConnector::single(server.addr));
        let ok = Ok(AgentOutput::Match(MatchResult::Unmatched));
        let (a, b, c) = tokio::join!(
            client.invoke(matching_request(1)),
            client.invoke(matching_request(2)),
            client.invoke(matching_request(3)),
        );
        assert_eq!((&a, &b, &c), (&ok, &ok, &ok));
        assert_eq!(server.accepted.get(), 3);
        tokio::task::yield_now().await;
        assert_eq!(client.idle_connections(Stage::TradeMatching), 3);
        for attempt in 4..14 {
            assert_eq!(client.invoke(matching_request(attempt)).await, ok);
        }
        assert_eq!(
            server.accepted.get(),
            3,
            "sequential calls reuse pooled connections"
        );
        assert_eq!(client.connections_opened(), 3);
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_dropped_mid_request_is_a_connect_error() {
    local(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::task::spawn_local(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Read part of the request, then hang up without answering.
                let _ = stream.readable().await;
                let mut buf = [0u8; 64];
                let _ = stream.try_read(&mut buf);
                drop(stream);
            }
        });
        let client = HttpAgentClient::new(TcpConnector::single(addr));
        for attempt in 1..=2 {
            let result = client.invoke(text_request(attempt)).await;
            assert!(matches!(result, Err(AgentError::Connect(_))), "{result:?}");
        }
        assert_eq!(client.idle_connections(Stage::TradeExtraction), 0);

        // Nobody listening: the connect itself fails.
        let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let closed_addr = closed.local_addr().expect("addr");
        drop(closed);
        let client = HttpAgentClient::new(TcpConnector::single(closed_addr));
        assert!(matches!(
            client.invoke(text_request(1)).await,
            Err(AgentError::Connect(_))
        ));
        // An agent the connector has no address for.
        let client = HttpAgentClient::new(TcpConnector::new(BTreeMap::new()));
        assert!(matches!(
            client.invoke(text_request(1)).await,
            Err(AgentError::Connect(_))
        ));
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn after_a_hang_and_a_caller_timeout_the_next_call_uses_a_fresh_connection() {
    local(async {
        let server = spawn_server(|req: AgentRequest| async move {
            if req.attempt == 2 {
                Reply::Hang
            } else {
                Reply::Answer(Ok(AgentOutput::Match(MatchResult::Matched)))
            }
        })
        .await;
        let client = HttpAgentClient::new(TcpConnector::single(server.addr));
        let ok = Ok(AgentOutput::Match(MatchResult::Matched));
        assert_eq!(client.invoke(matching_request(1)).await, ok);
        assert_eq!(server.accepted.get(), 1);
        let hung = tokio::time::timeout(Duration::from_millis(150), client.invoke(matching_request(2))).await;
        assert!(hung.is_err(), "the hanging call must not answer");
        assert_eq!(
            client.idle_connections(Stage::TradeMatching),
            0,
            "the hung connection is not pooled"
        );
        // The client closed the hung connection, and the server noticed: a hung request
        // does not pin its connection forever.
        for _ in 0..100 {
            if server.closed.get() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.closed.get(), 1);
        assert_eq!(client.invoke(matching_request(3)).await, ok);
        assert_eq!(server.accepted.get(), 2);
        assert_eq!(client.invoke(matching_request(4)).await, ok);
        assert_eq!(server.accepted.get(), 2);
    })
    .await
}
