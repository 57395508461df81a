//! The SSM Automation document that holds one fault flag for one fault's duration.
//!
//! Steps: `setFlag` writes `{"fault", "expires_at", "owner"}` to the flag parameter, with
//! `expires_at` = now + `ExpiresAfterSeconds` (the decorator ignores the flag after that, so a
//! fault cannot outlive a failed automation); `holdFault` sleeps for `Duration`; `clearFlag`
//! deletes the parameter if this execution still owns it. A failure or a cancel (FIS stopping
//! the experiment cancels the execution) in any step jumps to `clearFlag`.

use serde_json::{Value, json};

use crate::bindings::Bindings;

const SCRIPT: &str = r#"import json
import time
import boto3

ssm = boto3.client("ssm")

def set_flag(events, context):
    expires_at = int(time.time() * 1000) + int(events["expires_after_seconds"]) * 1000
    value = {"fault": json.loads(events["fault"]), "expires_at": expires_at, "owner": events["owner"]}
    ssm.put_parameter(Name=events["name"], Value=json.dumps(value), Type="String", Overwrite=True)
    return {"expires_at": expires_at}

def clear_flag(events, context):
    try:
        current = json.loads(ssm.get_parameter(Name=events["name"])["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return {"cleared": False}
    if current.get("owner") != events["owner"]:
        return {"cleared": False}
    ssm.delete_parameter(Name=events["name"])
    return {"cleared": True}
"#;

fn script_step(name: &str, handler: &str, next: Option<&str>) -> Value {
    let mut step = json!({
        "name": name,
        "action": "aws:executeScript",
        "inputs": {
            "Runtime": "python3.11",
            "Handler": handler,
            "Script": SCRIPT,
            "InputPayload": {
                "name": "{{ FlagName }}",
                "fault": "{{ FlagValue }}",
                "expires_after_seconds": "{{ ExpiresAfterSeconds }}",
                "owner": "{{ automation:EXECUTION_ID }}"
            }
        }
    });
    match next {
        Some(next) => {
            step["onFailure"] = json!("step:clearFlag");
            step["onCancel"] = json!("step:clearFlag");
            step["nextStep"] = json!(next);
        }
        None => step["isEnd"] = json!(true),
    }
    step
}

/// The document, for `bindings.fault_flags.document`.
pub fn document(bindings: &Bindings) -> Value {
    let prefix = regex_escape(&bindings.fault_flags.prefix);
    json!({
        "schemaVersion": "0.3",
        "description": "gameday fault flag: set a flag with an expiry time, hold it, clear it (also on failure or cancel)",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "AutomationAssumeRole": { "type": "String", "description": "Role that may write the flag parameters" },
            "FlagName": { "type": "String", "description": "Parameter holding the flag", "allowedPattern": format!("^{prefix}/[a-z-]+$") },
            "FlagValue": { "type": "String", "description": "The fault, as the orchestrator's AgentFault JSON" },
            "Duration": { "type": "String", "description": "How long the fault holds (ISO 8601)", "allowedPattern": "^PT([0-9]+H)?([0-9]+M)?([0-9]+S)?$" },
            "ExpiresAfterSeconds": { "type": "String", "description": "Seconds after which the orchestrator ignores the flag", "allowedPattern": "^[1-9][0-9]*$" }
        },
        "mainSteps": [
            script_step("setFlag", "set_flag", Some("holdFault")),
            {
                "name": "holdFault",
                "action": "aws:sleep",
                "onFailure": "step:clearFlag",
                "onCancel": "step:clearFlag",
                "inputs": { "Duration": "{{ Duration }}" },
                "nextStep": "clearFlag"
            },
            script_step("clearFlag", "clear_flag", None)
        ]
    })
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
