//! Normalisation: the one tree every comparison works on, keyed arrays
//! turned into maps (so reordering `env: [{name, value}]` is not drift), and
//! the policy's ignore rules (JSON pointers, RFC 6901) applied.

use serde_json::{Map, Value};

use crate::statement::Snapshot;

/// Field names that identify an element of a keyed array, in order of
/// preference.
const KEY_FIELDS: [&str; 3] = ["name", "key", "id"];

/// Turns keyed arrays into maps, recursively: a list whose elements are all
/// maps carrying the same identifying field (`name`, `key` or `id`) with
/// distinct string values becomes a map from that value to the element
/// without it; an element left as `{value: V}` becomes `V`.
pub fn keyed_arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, keyed_arrays(v))).collect())
        }
        Value::Array(items) => match key_field(&items) {
            Some(field) => {
                let mut out = Map::new();
                for item in items {
                    if let Value::Object(mut element) = item {
                        let Some(Value::String(key)) = element.remove(field) else {
                            continue;
                        };
                        let rest = if element.len() == 1 && element.contains_key("value") {
                            element.remove("value").unwrap_or(Value::Null)
                        } else {
                            Value::Object(element)
                        };
                        out.insert(key, keyed_arrays(rest));
                    }
                }
                Value::Object(out)
            }
            None => Value::Array(items.into_iter().map(keyed_arrays).collect()),
        },
        other => other,
    }
}

fn key_field(items: &[Value]) -> Option<&'static str> {
    if items.is_empty() {
        return None;
    }
    KEY_FIELDS.into_iter().find(|field| {
        let mut seen = std::collections::BTreeSet::new();
        items.iter().all(|item| {
            item.as_object()
                .and_then(|o| o.get(*field))
                .and_then(Value::as_str)
                .is_some_and(|k| seen.insert(k))
        })
    })
}

/// Normalises every value of a map.
pub fn map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter().map(|(k, v)| (k, keyed_arrays(v))).collect()
}

/// The tree a snapshot is compared as: `/config`, `/flags`,
/// `/dependencies`, `/images` and `/secrets` (fingerprints only). The
/// artifact is the subject of the snapshot, not drift.
pub fn tree(snapshot: &Snapshot) -> Value {
    let section = |m: Map<String, Value>| Value::Object(m);
    let mut out = Map::new();
    out.insert(
        "config".into(),
        section(map(snapshot.config.clone().into_iter().collect())),
    );
    out.insert(
        "flags".into(),
        section(map(snapshot.flags.clone().into_iter().collect())),
    );
    out.insert(
        "dependencies".into(),
        section(
            snapshot
                .dependencies
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    out.insert(
        "images".into(),
        section(
            snapshot
                .images
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                .collect(),
        ),
    );
    out.insert(
        "secrets".into(),
        section(
            snapshot
                .secret_fingerprints
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    Value::Object(out)
}

/// Why an ignore rule is not a JSON pointer, or `None` when it is one.
pub fn pointer_problem(pointer: &str) -> Option<String> {
    if !pointer.starts_with('/') {
        return Some(format!(
            "ignore rule \"{pointer}\" is not a JSON pointer; write it from the snapshot root, e.g. \"/config/{}\" (sections: /config, /flags, /dependencies, /images, /secrets)",
            pointer.trim_start_matches('/')
        ));
    }
    let bad_escape = pointer
        .split('~')
        .skip(1)
        .any(|rest| !(rest.starts_with('0') || rest.starts_with('1')));
    bad_escape.then(|| {
        format!("ignore rule \"{pointer}\": `~` must be written `~0` and `/` inside a key `~1` (RFC 6901)")
    })
}

/// A JSON pointer's reference tokens, unescaped.
pub fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Escapes one key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Removes what each pointer names (and everything below it). Pointers that
/// name nothing are skipped; so are invalid ones (the policy check refuses
/// them before they get here).
pub fn ignore(value: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        if pointer_problem(pointer).is_some() {
            continue;
        }
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            continue;
        };
        let last = last.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Object(m)) = value.pointer_mut(parent) {
            m.remove(&last);
        }
    }
}
