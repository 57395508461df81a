//! The JSON Schema (draft 2020-12) of the scenario format, for editors that complete and
//! check TOML against a schema (e.g. Taplo, Even Better TOML).
//!
//! It is derived from the same serde types the parser reads, so a key the parser accepts is
//! a key the schema lists. Rules that relate values to each other (a fault inside the run,
//! keys that fit a fault's kind, a valid policy) are left to `gameday check`.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::raw::RawScenario;

/// The schema of a v1 scenario file.
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<RawScenario>().to_value();
    drop_null(&mut schema);
    // Every key is optional to serde (the parser decides what is missing, to say where);
    // the schema states the keys a file must have.
    schema["required"] = json!(["name", "duration"]);
    if let Some(fault) = schema.pointer_mut("/$defs/Fault") {
        fault["required"] = json!(["kind", "target", "start", "duration"]);
    }
    if let Some(slow) = schema.pointer_mut("/$defs/SlowCall") {
        slow["required"] = json!(["threshold"]);
    }
    schema
}

/// TOML has no null: an optional key is simply absent, so `Option`'s null branch is removed.
fn drop_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
                branches.retain(|b| b.get("type").is_none_or(|t| t != "null"));
                if branches.len() == 1
                    && let Some(Value::Object(only)) = branches.pop()
                {
                    map.remove("anyOf");
                    for (k, val) in only {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}
