//! A small stand-in for the FIS REST-JSON API on loopback, for tests of the client path:
//! CreateExperimentTemplate, StartExperiment, GetExperiment and StopExperiment, with a
//! scripted progression of states and injectable API errors. It binds an ephemeral port on
//! 127.0.0.1, answers at most a bounded number of requests, and stops when dropped or after
//! its deadline, so a failing test cannot leave it running.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// An error the fake answers with, as FIS would (status, `x-amzn-ErrorType`, message).
#[derive(Debug, Clone)]
pub struct FakeError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl FakeError {
    pub fn throttling() -> Self {
        FakeError {
            status: 400,
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        }
    }
    pub fn validation(message: &str) -> Self {
        FakeError {
            status: 400,
            code: "ValidationException".into(),
            message: message.into(),
        }
    }
}

/// One state of the experiment: its status and each action's.
#[derive(Debug, Clone)]
pub struct FakeStep {
    pub status: String,
    pub actions: Vec<(String, String)>,
}

impl FakeStep {
    pub fn new(status: &str, actions: &[(&str, &str)]) -> Self {
        FakeStep {
            status: status.into(),
            actions: actions
                .iter()
                .map(|(a, s)| (a.to_string(), s.to_string()))
                .collect(),
        }
    }
}

/// What the fake does.
#[derive(Debug, Clone, Default)]
pub struct FakeScript {
    pub create_error: Option<FakeError>,
    pub start_error: Option<FakeError>,
    /// Each GetExperiment answers the next step; the last one repeats.
    pub steps: Vec<FakeStep>,
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Debug, Default)]
struct State {
    script: FakeScript,
    gets: usize,
    stopped: Option<usize>,
    seen: Vec<Seen>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeFis {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeFis {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const EXPERIMENT_ID: &str = "EXPfake0001";
pub const TEMPLATE_ID: &str = "EXTfake0001";
const MAX_REQUESTS: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(120);

impl FakeFis {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn start(script: FakeScript) -> std::io::Result<FakeFis> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            script,
            ..State::default()
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            let serve = async {
                for _ in 0..MAX_REQUESTS {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            };
            let _ = tokio::time::timeout(DEADLINE, serve).await;
        });
        Ok(FakeFis { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).seen.clone()
    }
}

fn reply(status: u16, body: Value, error_code: Option<&str>) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(code) = error_code {
        b = b.header("x-amzn-ErrorType", code);
    }
    b.body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

fn error(e: &FakeError) -> Response<Full<Bytes>> {
    reply(e.status, json!({ "message": e.message }), Some(&e.code))
}

fn experiment(status: &str, actions: &[(String, String)]) -> Value {
    let actions: serde_json::Map<String, Value> = actions
        .iter()
        .map(|(name, s)| (name.clone(), json!({ "actionId": "aws:fis:wait", "state": { "status": s, "reason": format!("action is {s}") } })))
        .collect();
    json!({ "experiment": { "id": EXPERIMENT_ID, "experimentTemplateId": TEMPLATE_ID, "state": { "status": status, "reason": format!("experiment is {status}") }, "actions": actions } })
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    s.seen.push(Seen {
        method: method.clone(),
        path: path.clone(),
        body,
    });
    let experiment_path = format!("/experiments/{EXPERIMENT_ID}");
    let response = match (method.as_str(), path.as_str()) {
        ("POST", "/experimentTemplates") => match &s.script.create_error {
            Some(e) => error(e),
            None => reply(200, json!({ "experimentTemplate": { "id": TEMPLATE_ID } }), None),
        },
        ("POST", "/experiments") => match &s.script.start_error {
            Some(e) => error(e),
            None => reply(
                200,
                json!({ "experiment": { "id": EXPERIMENT_ID, "state": { "status": "initiating" } } }),
                None,
            ),
        },
        ("GET", p) if p == experiment_path => {
            s.gets += 1;
            let step = s
                .script
                .steps
                .get(s.gets - 1)
                .or(s.script.steps.last())
                .cloned()
                .unwrap_or(FakeStep::new("running", &[]));
            match s.stopped {
                // After a stop: one poll in `stopping`, then `stopped`, running actions cancelled.
                Some(at) => {
                    let status = if s.gets <= at + 1 { "stopping" } else { "stopped" };
                    let actions: Vec<(String, String)> = step
                        .actions
                        .iter()
                        .map(|(a, st)| {
                            (
                                a.clone(),
                                if st == "completed" {
                                    st.clone()
                                } else if status == "stopped" {
                                    "stopped".into()
                                } else {
                                    st.clone()
                                },
                            )
                        })
                        .collect();
                    reply(200, experiment(status, &actions), None)
                }
                None => reply(200, experiment(&step.status, &step.actions), None),
            }
        }
        ("DELETE", p) if p == experiment_path => {
            s.stopped = Some(s.gets);
            reply(
                200,
                json!({ "experiment": { "id": EXPERIMENT_ID, "state": { "status": "stopping" } } }),
                None,
            )
        }
        _ => reply(
            404,
            json!({ "message": format!("no such resource {method} {path}") }),
            Some("ResourceNotFoundException"),
        ),
    };
    Ok(response)
}
