//! The wire format between the orchestrator and an agent, and its classification rules.
//!
//! A call is `POST /v1/agents/<agent-name>/invoke` with the JSON of an [`AgentRequest`] as
//! its body and three headers: `idempotency-key: <trade>/<stage>`, `x-correlation-id` and
//! `x-attempt`. The body is authoritative; the headers let proxies, logs and the agent's own
//! deduplication see the call's identity without parsing JSON.
//!
//! The answer is `200` with the JSON of an [`AgentOutput`], or an error status:
//!
//! | status | classified as | note |
//! |---|---|---|
//! | 200, body the stage's output type | the output | |
//! | 200, anything else in the body | `Protocol` | garbage, or another stage's output |
//! | 429 | `Throttled` | `Retry-After` in whole seconds when present |
//! | 408, 504 | `Timeout` | the agent (or its gateway) gave up waiting: same class as our own timeout |
//! | 401, 403 | `AccessDenied` | |
//! | other 4xx | `Rejected` | reason from the body's JSON `reason`, else the body text |
//! | other 5xx | `Unavailable` | |
//! | anything else (1xx, other 2xx, 3xx) | `Protocol` | agents never redirect |
//!
//! 408 and 504 are classified as `Timeout` rather than `Unavailable` because they say the
//! same thing our call timeout says (the work did not finish in time, it may still finish),
//! and the retry budget charges timeouts more than plain errors.
//!
//! `Retry-After` is honoured in its delta-seconds form only: the HTTP-date form needs the
//! wall clock, which nothing in the orchestrator reads, so it is ignored (the retry policy's
//! own backoff applies).
//!
//! Encoding an error ([`error_response`]) is the inverse: every error a server sends is
//! classified back to itself, provided its status lies in its class (an `Unavailable` 5xx
//! other than 504, a `Rejected` 4xx outside 401/403/408/429) and a throttle's delay is whole
//! seconds. Out-of-class statuses are replaced by the class's canonical one (503, 403, 400)
//! and delays round up to a second. `Connect` and `Protocol` describe what a caller observed,
//! not something an agent answers; an agent that reports them (say, of its own upstream)
//! answers 502, which the caller sees as `Unavailable`.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::agent::{AgentError, AgentOutput, AgentRequest};
use crate::domain::Stage;

pub const HEADER_IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const HEADER_CORRELATION_ID: &str = "x-correlation-id";
pub const HEADER_ATTEMPT: &str = "x-attempt";
const JSON: &str = "application/json";
/// The longest body excerpt kept in a rejection's reason.
const REASON_LIMIT: usize = 200;

/// The path an agent is invoked at.
pub fn path(stage: Stage) -> String {
    format!("/v1/agents/{}/invoke", stage.name())
}

/// The agent a request path names, if it is an invoke path.
pub fn parse_path(path: &str) -> Option<Stage> {
    let name = path.strip_prefix("/v1/agents/")?.strip_suffix("/invoke")?;
    Stage::from_name(name)
}

/// The output variant each agent answers with, as named in [`AgentOutput`]'s JSON `type`.
pub fn output_fits(stage: Stage, output: &AgentOutput) -> bool {
    output.fits(stage)
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error class, as [`crate::agent::ErrorKind::name`].
    pub error: String,
    pub reason: String,
}

/// Builds the HTTP request for one call. Fails (as `Protocol`) only when the correlation id
/// cannot be carried in a header.
pub fn build_request(req: &AgentRequest) -> Result<Request<Bytes>, AgentError> {
    let body = serde_json::to_vec(req).map_err(|e| AgentError::Protocol(format!("encoding request: {e}")))?;
    let correlation = HeaderValue::from_str(&req.correlation_id)
        .map_err(|_| AgentError::Protocol("correlation id is not a valid header value".into()))?;
    Request::builder()
        .method(Method::POST)
        .uri(path(req.stage()))
        .header(HOST, req.stage().name())
        .header(CONTENT_TYPE, JSON)
        .header(HEADER_IDEMPOTENCY_KEY, req.key.to_string())
        .header(HEADER_CORRELATION_ID, correlation)
        .header(HEADER_ATTEMPT, req.attempt.to_string())
        .body(Bytes::from(body))
        .map_err(|e| AgentError::Protocol(format!("building request: {e}")))
}

/// Reads a call on the agent's side. Errors are the rejection to answer with: 405 for a
/// method other than POST, 404 for a path that names no agent, 400 for a body that is not an
/// [`AgentRequest`] or disagrees with the path or the idempotency-key header.
pub fn decode_request(
    method: &Method,
    path_text: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AgentRequest, AgentError> {
    let reject = |status: u16, reason: String| AgentError::Rejected { status, reason };
    if method != Method::POST {
        return Err(reject(405, format!("method {method} not allowed")));
    }
    let stage = parse_path(path_text).ok_or_else(|| reject(404, format!("no agent at {path_text}")))?;
    let req: AgentRequest = serde_json::from_slice(body)
        .map_err(|e| reject(400, format!("body is not an agent request: {e}")))?;
    if req.stage() != stage {
        return Err(reject(
            400,
            format!("request for {} sent to {stage}", req.stage()),
        ));
    }
    if let Some(key) = headers.get(HEADER_IDEMPOTENCY_KEY)
        && key.as_bytes() != req.key.to_string().as_bytes()
    {
        return Err(reject(
            400,
            "idempotency-key header disagrees with the body".into(),
        ));
    }
    Ok(req)
}

/// The 200 answer carrying `output`.
pub fn output_response(output: &AgentOutput) -> Response<Bytes> {
    match serde_json::to_vec(output) {
        Ok(body) => json_response(StatusCode::OK, Bytes::from(body)),
        Err(e) => error_response(&AgentError::Protocol(format!("encoding answer: {e}"))),
    }
}

/// A 200 answer with an arbitrary body (used to serve malformed answers on purpose).
pub fn raw_ok_response(body: String) -> Response<Bytes> {
    json_response(StatusCode::OK, Bytes::from(body))
}

/// The error answer for `err` (see the module docs for the mapping).
pub fn error_response(err: &AgentError) -> Response<Bytes> {
    let in_class = |status: u16, ok: bool, canonical: u16| if ok { status } else { canonical };
    let status = match err {
        AgentError::Throttled { .. } => 429,
        AgentError::Unavailable { status } => {
            in_class(*status, (500..=599).contains(status) && *status != 504, 503)
        }
        AgentError::Timeout => 504,
        AgentError::Connect(_) | AgentError::Protocol(_) => 502,
        AgentError::AccessDenied { status } => in_class(*status, matches!(status, 401 | 403), 403),
        AgentError::Rejected { status, .. } => in_class(
            *status,
            (400..=499).contains(status) && !matches!(status, 401 | 403 | 408 | 429),
            400,
        ),
    };
    let reason = match err {
        AgentError::Rejected { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    let body = ErrorBody {
        error: err.kind().name().to_string(),
        reason,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, Bytes::from(bytes));
    if let Some(delay) = err.retry_after() {
        let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// Classifies an agent's answer to a call made to `stage` (see the module docs).
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    stage: Stage,
) -> Result<AgentOutput, AgentError> {
    let code = status.as_u16();
    match code {
        200 => {
            let output: AgentOutput = serde_json::from_slice(body)
                .map_err(|e| AgentError::Protocol(format!("malformed answer from {stage}: {e}")))?;
            if output_fits(stage, &output) {
                Ok(output)
            } else {
                Err(AgentError::Protocol(format!(
                    "{stage} answered with another stage's output"
                )))
            }
        }
        429 => Err(AgentError::Throttled {
            retry_after: retry_after(headers),
        }),
        408 | 504 => Err(AgentError::Timeout),
        401 | 403 => Err(AgentError::AccessDenied { status: code }),
        400..=499 => Err(AgentError::Rejected {
            status: code,
            reason: reason(status, body),
        }),
        500..=599 => Err(AgentError::Unavailable { status: code }),
        _ => Err(AgentError::Protocol(format!(
            "unexpected status {code} from {stage}"
        ))),
    }
}

/// `Retry-After` as delta-seconds; absent, HTTP-date or garbage give `None`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    text.parse::<u64>().ok().map(Duration::from_secs)
}

/// The rejection's reason: the JSON body's `reason`, else the body text, else the status's name.
fn reason(status: StatusCode, body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return parsed.reason;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("rejected").to_string();
    }
    text.chars().take(REASON_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentInput;
    use crate::domain::{IdempotencyKey, MatchResult, NormalisedText, TradeId};
    use proptest::prelude::*;

    fn roundtrip(err: &AgentError, stage: Stage) -> Result<AgentOutput, AgentError> {
        let resp = error_response(err);
        classify(resp.status(), resp.headers(), resp.body(), stage)
    }

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).expect("valid status")
    }

    fn empty() -> HeaderMap {
        HeaderMap::new()
    }

    #[test]
    fn every_status_class() {
        let s = Stage::TradeMatching;
        let mut h = empty();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            classify(status(429), &h, b"", s),
            Err(AgentError::Throttled {
                retry_after: Some(Duration::from_secs(7))
            })
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            classify(status(429), &h, b"", s),
            Err(AgentError::Throttled { retry_after: None })
        );
        assert_eq!(
            classify(status(429), &empty(), b"", s),
            Err(AgentError::Throttled { retry_after: None })
        );
        assert_eq!(
            classify(status(503), &empty(), b"", s),
            Err(AgentError::Unavailable { status: 503 })
        );
        assert_eq!(
            classify(status(500), &empty(), b"", s),
            Err(AgentError::Unavailable { status: 500 })
        );
        assert_eq!(classify(status(504), &empty(), b"", s), Err(AgentError::Timeout));
        assert_eq!(classify(status(408), &empty(), b"", s), Err(AgentError::Timeout));
        assert_eq!(
            classify(status(401), &empty(), b"", s),
            Err(AgentError::AccessDenied { status: 401 })
        );
        assert_eq!(
            classify(status(403), &empty(), b"", s),
            Err(AgentError::AccessDenied { status: 403 })
        );
        assert_eq!(
            classify(
                status(422),
                &empty(),
                br#"{"error":"rejected","reason":"bad notional"}"#,
                s
            ),
            Err(AgentError::Rejected {
                status: 422,
                reason: "bad notional".into()
            })
        );
        assert_eq!(
            classify(status(400), &empty(), b"plain text", s),
            Err(AgentError::Rejected {
                status: 400,
                reason: "plain text".into()
            })
        );
        assert_eq!(
            classify(status(404), &empty(), b"", s),
            Err(AgentError::Rejected {
                status: 404,
                reason: "Not Found".into()
            })
        );
        for code in [101, 201, 204, 301, 302] {
            assert!(
                matches!(
                    classify(status(code), &empty(), b"", s),
                    Err(AgentError::Protocol(_))
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn ok_bodies_must_be_the_stages_output() {
        let out = AgentOutput::Match(MatchResult::Matched);
        let resp = output_response(&out);
        assert_eq!(
            classify(resp.status(), resp.headers(), resp.body(), Stage::TradeMatching),
            Ok(out)
        );
        assert!(matches!(
            classify(resp.status(), resp.headers(), resp.body(), Stage::PdfAdapter),
            Err(AgentError::Protocol(_))
        ));
        let garbage = raw_ok_response("{\"type\":\"match\",".into());
        assert!(matches!(
            classify(
                garbage.status(),
                garbage.headers(),
                garbage.body(),
                Stage::TradeMatching
            ),
            Err(AgentError::Protocol(_))
        ));
    }

    #[test]
    fn out_of_class_errors_take_the_canonical_status() {
        let s = Stage::PdfAdapter;
        assert_eq!(
            roundtrip(&AgentError::Unavailable { status: 504 }, s),
            Err(AgentError::Unavailable { status: 503 })
        );
        assert_eq!(
            roundtrip(&AgentError::Unavailable { status: 200 }, s),
            Err(AgentError::Unavailable { status: 503 })
        );
        assert_eq!(
            roundtrip(&AgentError::AccessDenied { status: 500 }, s),
            Err(AgentError::AccessDenied { status: 403 })
        );
        assert_eq!(
            roundtrip(
                &AgentError::Rejected {
                    status: 429,
                    reason: "x".into()
                },
                s
            ),
            Err(AgentError::Rejected {
                status: 400,
                reason: "x".into()
            })
        );
        assert_eq!(
            roundtrip(&AgentError::Connect("upstream".into()), s),
            Err(AgentError::Unavailable { status: 502 })
        );
        assert_eq!(
            roundtrip(&AgentError::Protocol("upstream".into()), s),
            Err(AgentError::Unavailable { status: 502 })
        );
        assert_eq!(
            roundtrip(
                &AgentError::Throttled {
                    retry_after: Some(Duration::from_millis(1500))
                },
                s
            ),
            Err(AgentError::Throttled {
                retry_after: Some(Duration::from_secs(2))
            })
        );
    }

    #[test]
    fn requests_round_trip_and_bad_ones_are_rejected() {
        let req = AgentRequest {
            key: IdempotencyKey {
                trade: TradeId(9),
                stage: Stage::TradeExtraction,
            },
            correlation_id: "T00000009-abc".into(),
            attempt: 3,
            input: AgentInput::Text(NormalisedText {
                trade: TradeId(9),
                text: "X: y".into(),
            }),
        };
        let http = build_request(&req).expect("encodable");
        assert_eq!(http.uri().path(), "/v1/agents/trade-extraction/invoke");
        assert_eq!(
            http.headers()[HEADER_IDEMPOTENCY_KEY],
            "T00000009/trade-extraction"
        );
        assert_eq!(http.headers()[HEADER_ATTEMPT], "3");
        assert_eq!(http.headers()[HEADER_CORRELATION_ID], "T00000009-abc");
        let decoded = decode_request(http.method(), http.uri().path(), http.headers(), http.body());
        assert_eq!(decoded, Ok(req.clone()));

        let status_of = |r: Result<AgentRequest, AgentError>| match r {
            Err(AgentError::Rejected { status, .. }) => status,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_eq!(
            status_of(decode_request(
                &Method::GET,
                http.uri().path(),
                http.headers(),
                http.body()
            )),
            405
        );
        assert_eq!(
            status_of(decode_request(
                http.method(),
                "/v1/agents/nobody/invoke",
                http.headers(),
                http.body()
            )),
            404
        );
        assert_eq!(
            status_of(decode_request(
                http.method(),
                &path(Stage::PdfAdapter),
                http.headers(),
                http.body()
            )),
            400
        );
        assert_eq!(
            status_of(decode_request(
                http.method(),
                http.uri().path(),
                http.headers(),
                b"{}"
            )),
            400
        );
        let mut wrong_key = http.headers().clone();
        wrong_key.insert(
            HEADER_IDEMPOTENCY_KEY,
            HeaderValue::from_static("T00000001/trade-extraction"),
        );
        assert_eq!(
            status_of(decode_request(
                http.method(),
                http.uri().path(),
                &wrong_key,
                http.body()
            )),
            400
        );

        let mut bad = req;
        bad.correlation_id = "line\nbreak".into();
        assert!(matches!(build_request(&bad), Err(AgentError::Protocol(_))));
    }

    fn cases() -> u32 {
        std::env::var("GAMEDAY_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    fn in_class_error() -> impl Strategy<Value = AgentError> {
        prop_oneof![
            proptest::option::of(0u64..100_000).prop_map(|s| AgentError::Throttled {
                retry_after: s.map(Duration::from_secs)
            }),
            (500u16..600)
                .prop_filter("504 is a timeout", |s| *s != 504)
                .prop_map(|status| AgentError::Unavailable { status }),
            Just(AgentError::Timeout),
            prop_oneof![Just(401u16), Just(403u16)].prop_map(|status| AgentError::AccessDenied { status }),
            (
                (400u16..500).prop_filter("own class", |s| !matches!(s, 401 | 403 | 408 | 429)),
                "[ -~]{0,60}"
            )
                .prop_map(|(status, reason)| AgentError::Rejected { status, reason }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn every_encoded_error_classifies_back_to_itself(err in in_class_error(), stage in 0usize..4) {
            prop_assert_eq!(roundtrip(&err, Stage::ALL[stage]), Err(err));
        }

        #[test]
        fn classify_never_panics_and_200_is_never_an_error_class_but_protocol(
            code in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..64), stage in 0usize..4,
        ) {
            let result = classify(status(code), &empty(), &body, Stage::ALL[stage]);
            if code == 200 {
                prop_assert!(matches!(result, Ok(_) | Err(AgentError::Protocol(_))));
            } else {
                prop_assert!(result.is_err());
            }
        }
    }
}
