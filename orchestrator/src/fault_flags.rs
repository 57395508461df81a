//! The fault-flag decorator: agent-level faults injected by the orchestrator itself.
//!
//! AWS FIS has no action for Bedrock AgentCore, so on a game day agent-level faults
//! (throttle, error, latency, hang, malformed) are switched on by writing a flag to the
//! configuration source (Parameter Store), under `<prefix>/<agent>`, as JSON
//! `{"fault": <AgentFault>, "expires_at": <unix ms>}`. [`FaultFlagClient`] wraps any
//! [`AgentClient`], reads the flag for the called agent (cached for a short TTL on tokio time),
//! ignores it once expired (so a failed automation cannot leave a fault behind), and decides
//! each call with [`decide`] seeded by [`call_rng`]: exactly what the simulation's agent hosts
//! do, so a flag means the same thing in both worlds.
//!
//! The decorator is inert unless its configuration enables it. A flag that cannot be read or
//! parsed injects nothing: the decorator fails open, because a broken game-day switch must
//! never become an outage of its own.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::agent::{AgentClient, AgentError, AgentOutput, AgentRequest};
use crate::config::ConfigSource;
use crate::domain::Stage;
use crate::faults::{AgentFault, Effect, call_rng, decide};

/// How long a flag read is trusted before it is read again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// The value stored under `<prefix>/<agent>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultFlag {
    pub fault: AgentFault,
    /// Unix time in milliseconds after which the flag is ignored.
    pub expires_at: u64,
}

/// Configuration of the decorator. Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultFlagConfig {
    /// Nothing is read and nothing is injected unless this is true.
    pub enabled: bool,
    /// Parameter path under which flags live, e.g. `/gameday/faults`.
    pub prefix: String,
    /// How long a read flag is cached.
    pub ttl: Duration,
    /// Seed of the per-call fault draws; the simulation uses the run's seed.
    pub seed: u64,
}

impl Default for FaultFlagConfig {
    fn default() -> Self {
        FaultFlagConfig {
            enabled: false,
            prefix: "/gameday/faults".into(),
            ttl: DEFAULT_TTL,
            seed: 0,
        }
    }
}

impl FaultFlagConfig {
    /// The key of `agent`'s flag.
    pub fn key(&self, agent: Stage) -> String {
        format!("{}/{}", self.prefix.trim_end_matches('/'), agent.name())
    }
}

/// The wall clock flag expiry is compared against. Injected so the core never reads it itself.
pub trait WallClock {
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> u64;
}

/// The operating system's clock, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now_unix_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to, for tests and the simulation.
#[derive(Debug, Default)]
pub struct ManualWallClock(AtomicU64);

impl ManualWallClock {
    pub fn new(now_unix_ms: u64) -> Self {
        ManualWallClock(AtomicU64::new(now_unix_ms))
    }
    pub fn set(&self, now_unix_ms: u64) {
        self.0.store(now_unix_ms, Ordering::SeqCst);
    }
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl WallClock for ManualWallClock {
    fn now_unix_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl<T: WallClock + ?Sized> WallClock for std::sync::Arc<T> {
    fn now_unix_ms(&self) -> u64 {
        (**self).now_unix_ms()
    }
}

impl<T: WallClock + ?Sized> WallClock for &T {
    fn now_unix_ms(&self) -> u64 {
        (**self).now_unix_ms()
    }
}

/// The error an agent's HTTP status is classified as, exactly as `http::wire::classify` does
/// (the tests hold the two together):
/// 429 throttled, 401/403 access denied, 408/504 timeout, other 4xx rejected, 5xx
/// unavailable, anything else a protocol error.
pub fn status_error(status: u16) -> AgentError {
    match status {
        429 => AgentError::Throttled { retry_after: None },
        401 | 403 => AgentError::AccessDenied { status },
        408 | 504 => AgentError::Timeout,
        400..=499 => AgentError::Rejected {
            status,
            reason: format!("status {status}"),
        },
        500..=599 => AgentError::Unavailable { status },
        _ => AgentError::Protocol(format!("unexpected status {status}")),
    }
}

/// `Retry-After` travels in whole seconds, rounded up; the decorator reports what the wire
/// would have carried.
pub fn wire_retry_after(retry_after: Option<Duration>) -> Option<Duration> {
    retry_after.map(|d| Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0)))
}

/// What the caller observes for an effect other than `Pass` and `Hang`.
pub fn effect_error(effect: Effect) -> Option<AgentError> {
    match effect {
        Effect::Pass | Effect::Hang => None,
        Effect::Throttle { retry_after } => Some(AgentError::Throttled {
            retry_after: wire_retry_after(retry_after),
        }),
        Effect::Error { status } => Some(status_error(status)),
        Effect::Malformed => Some(AgentError::Protocol("malformed answer (fault flag)".into())),
    }
}

#[derive(Debug, Clone)]
struct Cached {
    read_at: Instant,
    flag: Option<FaultFlag>,
}

/// An [`AgentClient`] that injects the faults its flags say, then calls the inner client.
pub struct FaultFlagClient<C, S, W = SystemWallClock> {
    inner: C,
    source: S,
    clock: W,
    config: FaultFlagConfig,
    cache: Mutex<BTreeMap<Stage, Cached>>,
}

impl<C, S, W> FaultFlagClient<C, S, W> {
    pub fn new(inner: C, source: S, clock: W, config: FaultFlagConfig) -> Self {
        FaultFlagClient {
            inner,
            source,
            clock,
            config,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn config(&self) -> &FaultFlagConfig {
        &self.config
    }

    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C: AgentClient, S: ConfigSource, W: WallClock> FaultFlagClient<C, S, W> {
    /// The unexpired fault flagged for `agent`, if any; `None` when the decorator is off.
    pub async fn active_fault(&self, agent: Stage) -> Option<AgentFault> {
        if !self.config.enabled {
            return None;
        }
        let now = Instant::now();
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&agent)
            .cloned();
        let flag = match cached {
            Some(c) if now.duration_since(c.read_at) < self.config.ttl => c.flag,
            _ => {
                let key = self.config.key(agent);
                let flag = match self.source.get(&key).await {
                    Ok(Some(raw)) => match serde_json::from_str::<FaultFlag>(&raw) {
                        Ok(flag) => Some(flag),
                        Err(e) => {
                            tracing::warn!(%key, error = %e, "unreadable fault flag ignored");
                            None
                        }
                    },
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(%key, error = %e, "fault flag could not be read; no fault injected");
                        None
                    }
                };
                self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    agent,
                    Cached {
                        read_at: now,
                        flag: flag.clone(),
                    },
                );
                flag
            }
        };
        flag.filter(|f| f.expires_at > self.clock.now_unix_ms())
            .map(|f| f.fault)
    }
}

impl<C: AgentClient, S: ConfigSource, W: WallClock> AgentClient for FaultFlagClient<C, S, W> {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        let Some(fault) = self.active_fault(request.stage()).await else {
            return self.inner.invoke(request).await;
        };
        let mut rng = call_rng(self.config.seed, request.key, request.attempt);
        let verdict = decide(std::slice::from_ref(&fault), &mut rng);
        if !verdict.delay.is_zero() {
            tokio::time::sleep(verdict.delay).await;
        }
        match verdict.effect {
            Effect::Pass => self.inner.invoke(request).await,
            // The pipeline's call timeout ends the wait, as it would for an agent that never answers.
            Effect::Hang => std::future::pending().await,
            effect => Err(effect_error(effect).unwrap_or(AgentError::Protocol("fault flag".into()))),
        }
    }
}
