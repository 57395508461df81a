//! The HTTP transport between the orchestrator and its agents (hyper 1, HTTP/1.1).
//!
//! [`wire`] defines the format and the pure classification of answers into
//! [`crate::agent::AgentError`] classes; [`client`] is the pooled [`client::HttpAgentClient`]
//! over any [`client::Connector`]; [`server`] serves an agent's handler on one connection.
//! Client and server are generic over the byte stream, so the same HTTP code runs over tokio
//! TCP in production and tests and over turmoil TCP in the simulation.

pub mod client;
pub mod server;
pub mod wire;

pub use client::{Connector, HttpAgentClient, TcpConnector};
pub use server::{Reply, serve_connection};
