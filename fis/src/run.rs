//! Running an experiment: create the template (idempotently), start it, watch it and its
//! actions to the end, stop it when told to, and keep the observed timeline.
//!
//! The watch loop is driven by polling `GetExperiment`; it records every change of state of
//! the experiment and of each action, stamped by an injected wall clock. Cancellation is a
//! future handed in by the caller (Ctrl-C in the binary, anything in tests): when it fires
//! the experiment is stopped, and watching continues until FIS reports a final state, so the
//! timeline always ends with what FIS actually did.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_fis::Client;
use aws_sdk_fis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_fis::types::{
    AccountTargeting, ActionsMode, CreateExperimentTemplateActionInput,
    CreateExperimentTemplateExperimentOptionsInput, CreateExperimentTemplateStopConditionInput,
    CreateExperimentTemplateTargetInput, EmptyTargetResolutionMode, Experiment,
    StartExperimentExperimentOptionsInput,
};
use gameday_orchestrator::fault_flags::WallClock;
use serde::{Deserialize, Serialize};

use crate::template::ExperimentTemplate;

/// How far a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStage {
    /// `actionsMode: skip-all`: targets resolve, nothing is injected.
    Preview,
    /// Faults are injected.
    Live,
}

/// A failed FIS call, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FisError {
    #[error("FIS {operation} failed: {code}: {message}{}", hint(.code))]
    Api {
        operation: &'static str,
        code: String,
        message: String,
    },
    #[error("FIS {operation} failed: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    #[error("FIS {operation}: {message}")]
    Invalid {
        operation: &'static str,
        message: String,
    },
}

fn hint(code: &str) -> &'static str {
    match code {
        "ThrottlingException" | "TooManyRequestsException" => {
            " (FIS is throttling requests from this account; wait a minute and retry)"
        }
        "ValidationException" => {
            " (FIS refused the request as invalid; check the bindings' ARNs, tags and action parameters, then `gameday fis lint`)"
        }
        "ResourceNotFoundException" => " (no such experiment or template in this account and region)",
        "ServiceQuotaExceededException" => {
            " (an FIS quota was reached; stop other experiments or raise the quota)"
        }
        "ConflictException" => {
            " (the request conflicts with the current state; retry with a fresh client token)"
        }
        "AccessDeniedException" | "UnrecognizedClientException" => {
            " (check the credentials and that they may call FIS)"
        }
        _ => "",
    }
}

fn api_error<E, R>(operation: &'static str, e: SdkError<E, R>) -> FisError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), &e) {
        (Some(code), _) => FisError::Api {
            operation,
            code: code.to_string(),
            message: e.message().unwrap_or("no message").to_string(),
        },
        (None, SdkError::ServiceError(_)) => FisError::Api {
            operation,
            code: "Unknown".into(),
            message: DisplayErrorContext(&e).to_string(),
        },
        _ => FisError::Transport {
            operation,
            message: DisplayErrorContext(&e).to_string(),
        },
    }
}

/// One observed change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// Unix milliseconds when gameday saw the change.
    pub at_ms: u64,
    /// `experiment`, or an action's name.
    pub subject: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a run observed, written as JSON after the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub experiment_id: String,
    pub template_id: Option<String>,
    pub stage: Option<RunStage>,
    /// Whether gameday asked FIS to stop the experiment.
    pub stop_requested: bool,
    pub final_state: String,
    pub reason: Option<String>,
    pub events: Vec<StateChange>,
}

impl Timeline {
    /// A run succeeded when FIS completed it without being stopped.
    pub fn succeeded(&self) -> bool {
        self.final_state == "completed" && !self.stop_requested
    }
}

/// The states of an experiment and its actions at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub status: String,
    pub reason: Option<String>,
    pub actions: BTreeMap<String, (String, Option<String>)>,
}

impl Snapshot {
    fn from(experiment: Option<&Experiment>) -> Snapshot {
        let Some(e) = experiment else {
            return Snapshot::default();
        };
        let state = e.state();
        Snapshot {
            status: state
                .and_then(|s| s.status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: state.and_then(|s| s.reason()).map(str::to_string),
            actions: e
                .actions()
                .map(|m| {
                    m.iter()
                        .map(|(k, a)| {
                            let st = a.state();
                            (
                                k.clone(),
                                (
                                    st.and_then(|s| s.status())
                                        .map(|s| s.as_str().to_string())
                                        .unwrap_or_default(),
                                    st.and_then(|s| s.reason()).map(str::to_string),
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// FIS will not change the state again.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "stopped" | "failed" | "cancelled"
        )
    }
}

/// Drives experiments through one FIS client.
pub struct Runner<W> {
    client: Client,
    clock: W,
    poll: Duration,
}

impl<W: WallClock> Runner<W> {
    /// `poll` is the interval between `GetExperiment` calls.
    pub fn new(client: Client, clock: W, poll: Duration) -> Self {
        Runner { client, clock, poll }
    }

    /// Creates the template; the client token makes a repeat of the same template a no-op.
    pub async fn create_template(&self, t: &ExperimentTemplate) -> Result<String, FisError> {
        const OP: &str = "CreateExperimentTemplate";
        let invalid = |e: aws_sdk_fis::error::BuildError| FisError::Invalid {
            operation: OP,
            message: e.to_string(),
        };
        let mut req = self
            .client
            .create_experiment_template()
            .client_token(&t.client_token)
            .description(&t.description)
            .role_arn(&t.role_arn)
            .experiment_options(
                CreateExperimentTemplateExperimentOptionsInput::builder()
                    .account_targeting(AccountTargeting::from(
                        t.experiment_options.account_targeting.as_str(),
                    ))
                    .empty_target_resolution_mode(EmptyTargetResolutionMode::from(
                        t.experiment_options.empty_target_resolution_mode.as_str(),
                    ))
                    .build(),
            );
        for s in &t.stop_conditions {
            req = req.stop_conditions(
                CreateExperimentTemplateStopConditionInput::builder()
                    .source(&s.source)
                    .set_value(s.value.clone())
                    .build()
                    .map_err(invalid)?,
            );
        }
        for (name, target) in &t.targets {
            let mut b = CreateExperimentTemplateTargetInput::builder()
                .resource_type(&target.resource_type)
                .selection_mode(&target.selection_mode);
            if !target.resource_arns.is_empty() {
                b = b.set_resource_arns(Some(target.resource_arns.clone()));
            }
            for (k, v) in &target.resource_tags {
                b = b.resource_tags(k, v);
            }
            for (k, v) in &target.parameters {
                b = b.parameters(k, v);
            }
            req = req.targets(name, b.build().map_err(invalid)?);
        }
        for (name, action) in &t.actions {
            let mut b = CreateExperimentTemplateActionInput::builder()
                .action_id(&action.action_id)
                .description(&action.description);
            for (k, v) in &action.parameters {
                b = b.parameters(k, v);
            }
            for (k, v) in &action.targets {
                b = b.targets(k, v);
            }
            for p in &action.start_after {
                b = b.start_after(p);
            }
            req = req.actions(name, b.build().map_err(invalid)?);
        }
        for (k, v) in &t.tags {
            req = req.tags(k, v);
        }
        let out = req.send().await.map_err(|e| api_error(OP, e))?;
        out.experiment_template()
            .and_then(|t| t.id())
            .map(str::to_string)
            .ok_or(FisError::Invalid {
                operation: OP,
                message: "the answer carries no template id".into(),
            })
    }

    /// Starts an experiment from a template.
    pub async fn start(
        &self,
        template_id: &str,
        stage: RunStage,
        client_token: &str,
    ) -> Result<String, FisError> {
        const OP: &str = "StartExperiment";
        let mode = match stage {
            RunStage::Preview => ActionsMode::SkipAll,
            RunStage::Live => ActionsMode::RunAll,
        };
        let out = self
            .client
            .start_experiment()
            .experiment_template_id(template_id)
            .client_token(client_token)
            .experiment_options(
                StartExperimentExperimentOptionsInput::builder()
                    .actions_mode(mode)
                    .build(),
            )
            .tags(
                "gameday:stage",
                if stage == RunStage::Preview {
                    "preview"
                } else {
                    "live"
                },
            )
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        out.experiment()
            .and_then(|e| e.id())
            .map(str::to_string)
            .ok_or(FisError::Invalid {
                operation: OP,
                message: "the answer carries no experiment id".into(),
            })
    }

    /// The experiment's current states.
    pub async fn status(&self, id: &str) -> Result<Snapshot, FisError> {
        let out = self
            .client
            .get_experiment()
            .id(id)
            .send()
            .await
            .map_err(|e| api_error("GetExperiment", e))?;
        Ok(Snapshot::from(out.experiment()))
    }

    /// Asks FIS to stop the experiment; answers the state FIS reports.
    pub async fn stop(&self, id: &str) -> Result<Snapshot, FisError> {
        let out = self
            .client
            .stop_experiment()
            .id(id)
            .send()
            .await
            .map_err(|e| api_error("StopExperiment", e))?;
        Ok(Snapshot::from(out.experiment()))
    }

    /// Watches `id` until it reaches a final state, stopping it once `cancel` fires.
    /// `on_change` sees every change as it is observed (the progress display).
    pub async fn watch(
        &self,
        id: &str,
        cancel: impl Future<Output = ()>,
        mut on_change: impl FnMut(&StateChange),
    ) -> Result<Timeline, FisError> {
        let mut events = Vec::new();
        let mut last = Snapshot::default();
        let mut stop_requested = false;
        let mut cancel = std::pin::pin!(cancel);
        loop {
            let now = self.status(id).await?;
            let at_ms = self.clock.now_unix_ms();
            let mut record = |subject: &str, state: &str, reason: &Option<String>| {
                let change = StateChange {
                    at_ms,
                    subject: subject.to_string(),
                    state: state.to_string(),
                    reason: reason.clone(),
                };
                on_change(&change);
                events.push(change);
            };
            if now.status != last.status {
                record("experiment", &now.status, &now.reason);
            }
            for (name, (state, reason)) in &now.actions {
                if last.actions.get(name).map(|(s, _)| s) != Some(state) {
                    record(name, state, reason);
                }
            }
            if now.is_final() {
                return Ok(Timeline {
                    experiment_id: id.to_string(),
                    template_id: None,
                    stage: None,
                    stop_requested,
                    final_state: now.status.clone(),
                    reason: now.reason.clone(),
                    events,
                });
            }
            last = now;
            if stop_requested {
                tokio::time::sleep(self.poll).await;
                continue;
            }
            tokio::select! {
                biased;
                _ = &mut cancel => {
                    stop_requested = true;
                    self.stop(id).await?;
                }
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Creates the template, starts it at `stage` and watches it to the end.
    pub async fn run(
        &self,
        template: &ExperimentTemplate,
        stage: RunStage,
        start_token: &str,
        cancel: impl Future<Output = ()>,
        mut on_change: impl FnMut(&StateChange),
    ) -> Result<Timeline, FisError> {
        let template_id = self.create_template(template).await?;
        let id = self.start(&template_id, stage, start_token).await?;
        on_change(&StateChange {
            at_ms: self.clock.now_unix_ms(),
            subject: "experiment".into(),
            state: format!("started {id}"),
            reason: None,
        });
        let mut timeline = self.watch(&id, cancel, on_change).await?;
        timeline.template_id = Some(template_id);
        timeline.stage = Some(stage);
        Ok(timeline)
    }
}

/// A client from the standard credential chain for `region`, optionally at another endpoint.
pub async fn client_from_env(region: &str, endpoint_url: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()));
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    Client::new(&loader.load().await)
}
