//! Durations on the wire as people write them (`"250ms"`, `"1m 30s"`), for serde.
//!
//! Fault flags are read and written by operators and by automation documents; serde's
//! default `{"secs": 1, "nanos": 0}` is neither readable nor what scenario files use.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_duration(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!(
            "expected a duration such as \"250ms\" or \"2m\", found {text:?}: {e}"
        ))
    })
}

/// The same for `Option<Duration>` (absent or `null` is `None`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => humantime::parse_duration(&text).map(Some).map_err(|e| {
                serde::de::Error::custom(format!(
                    "expected a duration such as \"250ms\" or \"2m\", found {text:?}: {e}"
                ))
            }),
        }
    }
}
