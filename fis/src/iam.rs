//! The IAM policies a game day needs: the FIS experiment role's trust and least-privilege
//! permissions (only the actions this template uses, on its resources), and the permissions of
//! the automation role that writes fault flags (only under the flag prefix).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::bindings::Bindings;
use crate::template::{AUTOMATION, ExperimentTemplate};

/// Trust policy: FIS may assume the role, only for experiments in this account and region.
pub fn trust_policy(bindings: &Bindings) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "fis.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": { "aws:SourceAccount": bindings.account },
                "ArnLike": { "aws:SourceArn": format!("arn:aws:fis:{}:{}:experiment/*", bindings.region, bindings.account) }
            }
        }]
    })
}

fn resources_of(
    template: &ExperimentTemplate,
    resource_type: &str,
    all: String,
) -> (Vec<String>, Option<Value>) {
    let targets: Vec<_> = template
        .targets
        .values()
        .filter(|t| t.resource_type == resource_type)
        .collect();
    if targets.iter().all(|t| !t.resource_arns.is_empty()) {
        let arns: BTreeSet<String> = targets
            .iter()
            .flat_map(|t| t.resource_arns.iter().cloned())
            .collect();
        return (arns.into_iter().collect(), None);
    }
    let tags: serde_json::Map<String, Value> = targets
        .iter()
        .flat_map(|t| t.resource_tags.iter())
        .map(|(k, v)| (format!("aws:ResourceTag/{k}"), json!(v)))
        .collect();
    (
        vec![all],
        (!tags.is_empty()).then(|| json!({ "StringEquals": tags })),
    )
}

/// Permissions of the experiment role: exactly what this template's actions need.
pub fn permissions_policy(template: &ExperimentTemplate, bindings: &Bindings) -> Value {
    let (r, a) = (&bindings.region, &bindings.account);
    let ids: BTreeSet<&str> = template.actions.values().map(|x| x.action_id.as_str()).collect();
    let mut statements = vec![json!({
        "Sid": "StopConditions",
        "Effect": "Allow",
        "Action": ["cloudwatch:DescribeAlarms"],
        "Resource": "*"
    })];
    if template.targets.values().any(|t| !t.resource_tags.is_empty()) {
        statements.push(json!({ "Sid": "ResolveTaggedTargets", "Effect": "Allow", "Action": ["tag:GetResources"], "Resource": "*" }));
    }
    let mut push = |sid: &str, actions: &[&str], (resources, condition): (Vec<String>, Option<Value>)| {
        let mut s = json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources });
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        statements.push(s);
    };
    if ids.contains(AUTOMATION) {
        push(
            "StartFaultFlagAutomation",
            &["ssm:StartAutomationExecution"],
            (
                vec![format!(
                    "arn:aws:ssm:{r}:{a}:automation-definition/{}:*",
                    bindings.fault_flags.document
                )],
                None,
            ),
        );
        push(
            "WatchFaultFlagAutomation",
            &["ssm:GetAutomationExecution", "ssm:StopAutomationExecution"],
            (vec![format!("arn:aws:ssm:{r}:{a}:automation-execution/*")], None),
        );
        push(
            "PassAutomationRole",
            &["iam:PassRole"],
            (
                vec![bindings.fault_flags.automation_role_arn.clone()],
                Some(json!({ "StringEquals": { "iam:PassedToService": "ssm.amazonaws.com" } })),
            ),
        );
    }
    if ids.contains("aws:ecs:stop-task") || ids.contains("aws:ecs:task-network-latency") {
        let tasks = resources_of(template, "aws:ecs:task", format!("arn:aws:ecs:{r}:{a}:task/*"));
        let mut actions = vec!["ecs:DescribeTasks", "ecs:ListTasks"];
        if ids.contains("aws:ecs:stop-task") {
            actions.push("ecs:StopTask");
        }
        push("EcsTasks", &actions, tasks);
        if ids.contains("aws:ecs:task-network-latency") {
            push(
                "EcsFaultInjection",
                &["ssm:SendCommand", "ssm:ListCommands", "ssm:CancelCommand"],
                (
                    vec![
                        format!("arn:aws:ssm:{r}::document/AWSFIS-*"),
                        format!("arn:aws:ecs:{r}:{a}:task/*"),
                    ],
                    None,
                ),
            );
        }
    }
    if ids.iter().any(|i| i.starts_with("aws:lambda:")) {
        push(
            "LambdaFunctions",
            &["lambda:GetFunction"],
            resources_of(
                template,
                "aws:lambda:function",
                format!("arn:aws:lambda:{r}:{a}:function:*"),
            ),
        );
    }
    if ids.contains("aws:network:disrupt-connectivity") {
        push(
            "DescribeNetwork",
            &[
                "ec2:DescribeSubnets",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeVpcs",
                "ec2:DescribeManagedPrefixLists",
                "ec2:GetManagedPrefixListEntries",
            ],
            (vec!["*".into()], None),
        );
        push(
            "DisruptSubnets",
            &[
                "ec2:CreateNetworkAcl",
                "ec2:CreateNetworkAclEntry",
                "ec2:DeleteNetworkAcl",
                "ec2:ReplaceNetworkAclAssociation",
                "ec2:CreateTags",
            ],
            (
                vec![
                    format!("arn:aws:ec2:{r}:{a}:network-acl/*"),
                    format!("arn:aws:ec2:{r}:{a}:subnet/*"),
                    format!("arn:aws:ec2:{r}:{a}:vpc/*"),
                ],
                None,
            ),
        );
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Permissions of the automation role: write, read and delete flags under the prefix only.
pub fn automation_role_policy(bindings: &Bindings) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "FaultFlags",
            "Effect": "Allow",
            "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"],
            "Resource": format!("arn:aws:ssm:{}:{}:parameter{}/*", bindings.region, bindings.account, bindings.fault_flags.prefix)
        }]
    })
}
