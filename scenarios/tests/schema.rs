//! The JSON Schema describes the files the parser accepts: every shipped and fixture file
//! conforms to it structurally, and it lists every fault kind.

use std::path::{Path, PathBuf};

use gameday_scenario::json_schema;
use gameday_scenario::strategy::{arb_scenario, proptest_cases};
use proptest::prelude::*;
use serde_json::Value;

/// Follows a local `$ref` (`#/$defs/Name`).
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => root.pointer(r.trim_start_matches('#')).expect("dangling $ref"),
        None => schema,
    }
}

/// A small structural check: object keys, nested objects and arrays, enums and scalar types.
/// Returns the path of the first disagreement.
fn conforms(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(root, schema);
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && !choices.contains(value)
    {
        return Err(format!("{at}: {value} not in {choices:?}"));
    }
    match (schema.get("type").and_then(Value::as_str), value) {
        (Some("object"), Value::Object(map)) => {
            let props = schema["properties"]
                .as_object()
                .expect("object without properties");
            for (key, v) in map {
                let Some(sub) = props.get(key) else {
                    if schema["additionalProperties"] == Value::Bool(false) {
                        return Err(format!("{at}.{key}: key not allowed"));
                    }
                    continue;
                };
                conforms(root, sub, v, &format!("{at}.{key}"))?;
            }
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !map.contains_key(req.as_str().unwrap()) {
                    return Err(format!("{at}: missing {req}"));
                }
            }
            Ok(())
        }
        (Some("array"), Value::Array(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| conforms(root, &schema["items"], v, &format!("{at}[{i}]"))),
        (Some("string"), Value::String(_)) | (Some("number"), Value::Number(_)) => Ok(()),
        (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        (None, _) => Ok(()),
        (Some(t), v) => Err(format!("{at}: expected {t}, found {v}")),
    }
}

fn toml_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = ["catalog", "tests/fixtures"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn as_json(text: &str) -> Value {
    serde_json::to_value(text.parse::<toml::Table>().unwrap()).unwrap()
}

#[test]
fn every_catalog_and_fixture_file_conforms() {
    let schema = json_schema();
    let files = toml_files();
    assert!(files.len() >= 3, "fixtures not found: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        conforms(&schema, &schema, &as_json(&text), "$")
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn the_check_rejects_what_the_parser_rejects() {
    let schema = json_schema();
    let bad = [
        "name = \"x\"\nduration = \"1m\"\n[workload]\nspeed = 3\n",
        "name = \"x\"\nduration = \"1m\"\n[[fault]]\nkind = \"meteor\"\n",
        "name = \"x\"\nduration = \"1m\"\n[expect]\nbreaker_opens = [\"nobody\"]\n",
        "duration = \"1m\"\n",
        "name = \"x\"\nduration = \"1m\"\n[policy.retry]\nmax_attempts = \"four\"\n",
    ];
    for text in bad {
        assert!(conforms(&schema, &schema, &as_json(text), "$").is_err(), "{text}");
        assert!(
            gameday_scenario::parse(text, Path::new("x.toml")).is_err(),
            "{text}"
        );
    }
}

#[test]
fn lists_every_fault_kind_and_target() {
    let schema = json_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let kinds = resolve(&schema, &schema["$defs"]["Fault"]["properties"]["kind"])["enum"].clone();
    let expected = [
        "throttle",
        "error",
        "latency",
        "hang",
        "malformed",
        "crash",
        "partition",
    ];
    assert_eq!(kinds, serde_json::json!(expected));
    let targets = &schema["$defs"]["Fault"]["properties"]["target"]["enum"];
    for t in [
        "pdf-adapter",
        "trade-extraction",
        "trade-matching",
        "exception-management",
        "orchestrator",
    ] {
        assert!(targets.as_array().unwrap().contains(&Value::from(t)), "{t}");
    }
    assert!(schema.to_string().find("null").is_none(), "TOML has no null");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(64)))]

    #[test]
    fn written_scenarios_conform(s in arb_scenario()) {
        let schema = json_schema();
        let text = gameday_scenario::to_toml(&s);
        prop_assert_eq!(conforms(&schema, &schema, &as_json(&text), "$"), Ok(()));
    }
}
