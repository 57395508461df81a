//! The HTTP agent client: the real HTTP/1.1 code path over any byte stream.
//!
//! It is generic over a [`Connector`], so the same code runs over tokio TCP in production and
//! in loopback tests, and over turmoil TCP in the simulation. Each agent has a small pool of
//! idle keep-alive connections. A connection goes back to the pool only after its response
//! was read to the end; a connection whose call was dropped (the caller's timeout fired) or
//! failed is discarded. That matters: after a network partition a connection can stay
//! silently dead, and only a fresh connection gets through.
//!
//! Runtime: connection drivers are spawned with `tokio::task::spawn_local`, because the
//! simulation's streams and futures are not `Send`. The client must therefore run on a
//! current-thread runtime inside a `LocalSet` (turmoil hosts do; tests use a `LocalSet`).
//!
//! The client applies no timeouts and no retries: the call policy around it does. Dropping
//! an `invoke` future at any point is clean: hyper closes the connection it was using.
//! A request is re-sent on a fresh connection only when hyper reports it was never written
//! to a pooled connection (that connection had closed while idle); once written, a failure
//! is the caller's to handle, since only the call policy knows whether to retry.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::agent::{AgentClient, AgentError, AgentOutput, AgentRequest};
use crate::domain::Stage;
use crate::http::wire;

/// Opens a byte stream to an agent. Address resolution is the connector's business.
pub trait Connector {
    type Io: AsyncRead + AsyncWrite + Unpin + 'static;
    fn connect(&self, agent: Stage) -> impl Future<Output = io::Result<Self::Io>>;
}

/// Connects over tokio TCP to a fixed address per agent.
#[derive(Debug, Clone, Default)]
pub struct TcpConnector {
    addrs: BTreeMap<Stage, SocketAddr>,
}

impl TcpConnector {
    pub fn new(addrs: BTreeMap<Stage, SocketAddr>) -> TcpConnector {
        TcpConnector { addrs }
    }

    /// Every agent at the same address (one server hosting all four).
    pub fn single(addr: SocketAddr) -> TcpConnector {
        TcpConnector {
            addrs: Stage::ALL.into_iter().map(|s| (s, addr)).collect(),
        }
    }
}

impl Connector for TcpConnector {
    type Io = tokio::net::TcpStream;

    fn connect(&self, agent: Stage) -> impl Future<Output = io::Result<Self::Io>> {
        let addr = self.addrs.get(&agent).copied();
        async move {
            let addr = addr
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {agent}")))?;
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(stream)
        }
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// Idle connections kept per agent unless configured otherwise.
pub const DEFAULT_MAX_IDLE_PER_AGENT: usize = 8;

/// An [`AgentClient`] speaking HTTP/1.1 through a [`Connector`].
pub struct HttpAgentClient<C: Connector> {
    connector: C,
    idle: Rc<Pool>,
    opened: Cell<u64>,
}

impl<C: Connector> HttpAgentClient<C> {
    pub fn new(connector: C) -> HttpAgentClient<C> {
        HttpAgentClient {
            connector,
            idle: Rc::new(Pool {
                idle: RefCell::new(BTreeMap::new()),
                max_per_agent: DEFAULT_MAX_IDLE_PER_AGENT,
            }),
            opened: Cell::new(0),
        }
    }

    /// Keeps at most `n` idle connections per agent (0 disables keep-alive reuse).
    pub fn with_max_idle_per_agent(mut self, n: usize) -> HttpAgentClient<C> {
        self.idle = Rc::new(Pool {
            idle: RefCell::new(BTreeMap::new()),
            max_per_agent: n,
        });
        self
    }

    /// Connections opened so far, over all agents.
    pub fn connections_opened(&self) -> u64 {
        self.opened.get()
    }

    /// Idle connections currently pooled for `agent`.
    pub fn idle_connections(&self, agent: Stage) -> usize {
        self.idle.idle.borrow().get(&agent).map_or(0, Vec::len)
    }

    async fn open(&self, agent: Stage) -> Result<Sender, AgentError> {
        let io = self
            .connector
            .connect(agent)
            .await
            .map_err(|e| AgentError::Connect(format!("connecting to {agent}: {e}")))?;
        self.opened.set(self.opened.get() + 1);
        let (sender, connection) = http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| AgentError::Connect(format!("handshake with {agent}: {e}")))?;
        // The driver ends when the connection closes or every sender is dropped.
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn call(&self, request: &AgentRequest) -> Result<AgentOutput, AgentError> {
        let agent = request.stage();
        let template = wire::build_request(request)?;
        let make = || template.clone().map(Full::new);

        let (mut sender, response) = 'sent: {
            while let Some(mut sender) = self.idle.take(agent) {
                match sender.try_send_request(make()).await {
                    Ok(response) => break 'sent (sender, response),
                    // Never written: the idle connection had closed; try another.
                    Err(e) if e.message().is_some() => continue,
                    Err(e) => return Err(transport_error(agent, e.error())),
                }
            }
            let mut sender = self.open(agent).await?;
            match sender.send_request(make()).await {
                Ok(response) => (sender, response),
                Err(e) => return Err(transport_error(agent, &e)),
            }
        };

        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| transport_error(agent, &e))?
            .to_bytes();
        // The response is complete, so the connection may carry the next call as soon as
        // its driver has wound the exchange up; usually it already has.
        if sender.is_ready() {
            self.idle.put(agent, sender);
        } else {
            let pool = Rc::clone(&self.idle);
            tokio::task::spawn_local(async move {
                if sender.ready().await.is_ok() {
                    pool.put(agent, sender);
                }
            });
        }
        wire::classify(parts.status, &parts.headers, &body, agent)
    }
}

impl<C: Connector> AgentClient for HttpAgentClient<C> {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        self.call(&request).await
    }
}

/// Idle connections per agent, each ready to send.
struct Pool {
    idle: RefCell<BTreeMap<Stage, Vec<Sender>>>,
    max_per_agent: usize,
}

impl Pool {
    /// The most recently used idle connection that is still open and ready.
    fn take(&self, agent: Stage) -> Option<Sender> {
        let mut idle = self.idle.borrow_mut();
        let pool = idle.get_mut(&agent)?;
        while let Some(sender) = pool.pop() {
            if !sender.is_closed() && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    fn put(&self, agent: Stage, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        let pool = idle.entry(agent).or_default();
        if pool.len() < self.max_per_agent {
            pool.push(sender);
        }
    }
}

/// An unparseable response is a protocol failure; everything else (I/O errors, EOF before the
/// response was complete, a closed connection) means the connection broke.
fn transport_error(agent: Stage, e: &hyper::Error) -> AgentError {
    if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
        AgentError::Protocol(format!("unreadable response from {agent}: {e}"))
    } else {
        AgentError::Connect(format!("connection to {agent} broke: {e}"))
    }
}
