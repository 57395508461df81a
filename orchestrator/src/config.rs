//! The `ConfigSource` boundary: runtime configuration read by key, from wherever it lives.
//!
//! Production reads AWS Systems Manager Parameter Store (agent addresses under
//! `/agentcore/agents/<agent>/arn`, fault flags under the game day's prefix); the simulation
//! and the tests use [`MemoryConfigSource`]. Callers cache what they read with their own TTL,
//! so a source is free to be slow or rate-limited: it only answers one key at a time.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

/// Why a key could not be read. A missing key is not an error: `get` answers `Ok(None)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The source could not be reached or answered with a transient failure.
    #[error("configuration source unavailable for `{key}`: {reason}")]
    Unavailable { key: String, reason: String },
    /// The caller may not read this key.
    #[error("access to configuration key `{key}` denied: {reason}")]
    AccessDenied { key: String, reason: String },
    /// The key is not a valid name for this source.
    #[error("invalid configuration key `{key}`: {reason}")]
    InvalidKey { key: String, reason: String },
}

/// Reads one configuration value by key.
pub trait ConfigSource {
    /// The value stored under `key`, or `None` when nothing is stored there.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, ConfigError>>;
}

impl<T: ConfigSource + ?Sized> ConfigSource for &T {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, ConfigError>> {
        (**self).get(key)
    }
}

impl<T: ConfigSource + ?Sized> ConfigSource for std::sync::Arc<T> {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, ConfigError>> {
        (**self).get(key)
    }
}

impl<T: ConfigSource + ?Sized> ConfigSource for std::rc::Rc<T> {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, ConfigError>> {
        (**self).get(key)
    }
}

/// An in-process source over an ordered map, settable while in use.
///
/// It also counts reads, so callers' caching can be checked.
#[derive(Debug, Default)]
pub struct MemoryConfigSource {
    values: Mutex<BTreeMap<String, String>>,
    reads: Mutex<u64>,
}

impl MemoryConfigSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn set(&self, key: impl Into<String>, value: impl Into<String>) {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.into(), value.into());
    }

    /// Removes `key`; answers whether it was there.
    pub fn remove(&self, key: &str) -> bool {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
            .is_some()
    }

    /// How many times `get` has been called.
    pub fn reads(&self) -> u64 {
        *self.reads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ConfigSource for MemoryConfigSource {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, ConfigError>> {
        *self.reads.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let value = self
            .values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned();
        std::future::ready(Ok(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_source_sets_replaces_and_removes() {
        let source = MemoryConfigSource::new();
        assert_eq!(source.get("/a").await, Ok(None));
        source.set("/a", "1");
        source.set("/a", "2");
        assert_eq!(source.get("/a").await, Ok(Some("2".to_string())));
        assert!(source.remove("/a"));
        assert!(!source.remove("/a"));
        assert_eq!(source.get("/a").await, Ok(None));
        assert_eq!(source.reads(), 3);
    }
}
