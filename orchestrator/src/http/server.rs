//! Hosting an agent over HTTP: one connection served with a request handler.
//!
//! The caller accepts connections (tokio or turmoil TCP) and hands each to
//! [`serve_connection`] with the agent's handler. The handler sees decoded
//! [`AgentRequest`]s only; requests that do not decode are answered 4xx here (see
//! [`wire::decode_request`]). A handler's [`Reply`] can also be a deliberate fault: a
//! malformed 200 body, or no answer at all.
//!
//! The connection is built with hyper-util's `TokioTimer` (without a timer, hyper silently
//! disables its header-read timeout) and without the automatic `Date` header, which reads
//! the real clock and would make simulated runs differ byte for byte.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::agent::{AgentError, AgentOutput, AgentRequest};
use crate::http::wire;

/// What the agent does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Answer with the output (200) or the error's status (see [`wire::error_response`]).
    Answer(Result<AgentOutput, AgentError>),
    /// Answer 200 with this body, which need not be valid JSON: a malformed answer.
    Malformed(String),
    /// Never answer. The request stays pending until the client gives up and the
    /// connection closes.
    Hang,
}

/// Serves HTTP/1.1 calls on one connection until the client closes it.
pub async fn serve_connection<I, H, F>(io: I, handler: H) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + 'static,
    H: Fn(AgentRequest) -> F,
    F: Future<Output = Reply>,
{
    let handler = &handler;
    let service = service_fn(move |request: Request<Incoming>| async move {
        Ok::<_, Infallible>(respond(handler, request).await)
    });
    http1::Builder::new()
        .timer(TokioTimer::new())
        .auto_date_header(false)
        .serve_connection(TokioIo::new(io), service)
        .await
}

async fn respond<H, F>(handler: &H, request: Request<Incoming>) -> Response<Full<Bytes>>
where
    H: Fn(AgentRequest) -> F,
    F: Future<Output = Reply>,
{
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let err = AgentError::Rejected {
                status: 400,
                reason: format!("reading the body: {e}"),
            };
            return wire::error_response(&err).map(Full::new);
        }
    };
    let decoded = wire::decode_request(&parts.method, parts.uri.path(), &parts.headers, &body);
    let response = match decoded {
        Err(rejection) => wire::error_response(&rejection),
        Ok(call) => match handler(call).await {
            Reply::Answer(Ok(output)) => wire::output_response(&output),
            Reply::Answer(Err(err)) => wire::error_response(&err),
            Reply::Malformed(text) => wire::raw_ok_response(text),
            Reply::Hang => std::future::pending().await,
        },
    };
    response.map(Full::new)
}
