//! The production [`ConfigSource`]: AWS Systems Manager Parameter Store, through `aws-sdk-ssm`
//! and the standard credential chain. Compiled only with the `ssm` feature, so builds that
//! never talk to AWS (the simulation, the test suite) do not pay for the SDK.
//!
//! Each `get` is one `GetParameter` call (decrypting `SecureString`s); callers cache. A missing
//! parameter is `Ok(None)`; access denials and invalid names are told apart from transient
//! failures, so a caller can tell "not configured" from "cannot read the configuration".

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;

use crate::config::{ConfigError, ConfigSource};

/// Parameter Store as a configuration source.
#[derive(Debug, Clone)]
pub struct SsmConfigSource {
    client: Client,
}

impl SsmConfigSource {
    pub fn new(client: Client) -> Self {
        SsmConfigSource { client }
    }

    /// A source from the standard credential chain and region resolution.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        SsmConfigSource {
            client: Client::new(&config),
        }
    }
}

impl ConfigSource for SsmConfigSource {
    async fn get(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let result = self
            .client
            .get_parameter()
            .name(key)
            .with_decryption(true)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
            Err(e) => {
                let key = key.to_string();
                if let Some(service) = e.as_service_error() {
                    if matches!(service, GetParameterError::ParameterNotFound(_)) {
                        return Ok(None);
                    }
                    let reason = service.message().unwrap_or("no message").to_string();
                    return Err(match service.code() {
                        Some("AccessDeniedException") => ConfigError::AccessDenied { key, reason },
                        Some("ValidationException") | Some("InvalidKeyId") => {
                            ConfigError::InvalidKey { key, reason }
                        }
                        code => ConfigError::Unavailable {
                            key,
                            reason: format!("{}: {reason}", code.unwrap_or("error")),
                        },
                    });
                }
                Err(ConfigError::Unavailable {
                    key,
                    reason: DisplayErrorContext(&e).to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against a loopback stand-in for the SSM JSON 1.1 API.
    use super::*;
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;

    async fn fake_ssm() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..16 {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |req: hyper::Request<hyper::body::Incoming>| async move {
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let input: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                            let (status, reply) = match input["Name"].as_str().unwrap_or("") {
                                "/agentcore/agents/pdf-adapter/arn" => (
                                    200,
                                    serde_json::json!({"Parameter": {"Name": "/agentcore/agents/pdf-adapter/arn", "Type": "String", "Value": "arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/pdf"}}),
                                ),
                                "/secret" => (
                                    400,
                                    serde_json::json!({"__type": "AccessDeniedException", "message": "not allowed"}),
                                ),
                                _ => (
                                    400,
                                    serde_json::json!({"__type": "ParameterNotFound", "message": "no such parameter"}),
                                ),
                            };
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/x-amz-json-1.1")
                                    .body(Full::new(Bytes::from(reply.to_string())))
                                    .unwrap(),
                            )
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn reads_values_missing_keys_and_denials() {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .endpoint_url(fake_ssm().await)
            .build();
        let source = SsmConfigSource::new(Client::from_conf(config));
        assert_eq!(
            source.get("/agentcore/agents/pdf-adapter/arn").await,
            Ok(Some(
                "arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/pdf".into()
            ))
        );
        assert_eq!(source.get("/gameday/faults/pdf-adapter").await, Ok(None));
        assert_eq!(
            source.get("/secret").await,
            Err(ConfigError::AccessDenied {
                key: "/secret".into(),
                reason: "not allowed".into()
            })
        );
    }
}
