//! The short forms users write for a setting whose full form is a mapping, where
//! the meaning is unambiguous: `consensus: clique`, `rpc: true`,
//! `monitoring: {ethstats: true}`. They are rewritten to the full form before the
//! schema sees the file, so everything after (schema, rules, compiled values) knows
//! only one shape. A rewritten setting keeps its position: diagnostics about the
//! full form point at the short one (the document reports a missing pointer at its
//! nearest parent).

use serde_json::{Map, Value};

/// Sections that are a mapping with an `enabled` switch: `true`/`false` there means
/// `{enabled: true}`/`{enabled: false}`, every other setting at its default.
const SWITCHED_SECTIONS: &[&[&str]] = &[
    &["monitoring", "ethstats"],
    &["monitoring", "metrics"],
    &["networkPolicy"],
    &["nodes", "*", "rpc", "ingress"],
];

/// The consensus engines, written as their name alone: every setting at its default.
const CONSENSUS_ENGINES: &[&str] = &["clique", "proofOfStake"];

/// Rewrites every short form in `doc` (the parsed network file) to its full form.
pub fn expand(doc: &mut Value) {
    for path in SWITCHED_SECTIONS {
        for_each_at(doc, path, &mut |v| {
            if let Value::Bool(on) = *v {
                *v = mapping([("enabled", Value::Bool(on))]);
            }
        });
    }
    for_each_at(doc, &["network", "consensus"], &mut |v| {
        if let Some(engine) = v.as_str().filter(|s| CONSENSUS_ENGINES.contains(s)) {
            *v = mapping([(engine, Value::Object(Map::new()))]);
        }
    });
    // `rpc: true` is the defaults (HTTP on). `rpc: false` is no JSON-RPC: on a group
    // of another role, no `rpc` settings at all, which is what it has anyway; on an
    // rpc group, HTTP off (WebSocket is off unless asked for), which the rules then
    // refuse with what to write instead.
    for_each_at(doc, &["nodes", "*"], &mut |group| {
        let Some(group) = group.as_object_mut() else {
            return;
        };
        let rpc_role = group.get("role").and_then(Value::as_str) == Some("rpc");
        match group.get("rpc") {
            Some(Value::Bool(true)) => {
                group.insert("rpc".into(), Value::Object(Map::new()));
            }
            Some(Value::Bool(false)) if rpc_role => {
                group.insert("rpc".into(), mapping([("http", Value::Bool(false))]));
            }
            Some(Value::Bool(false)) => {
                group.remove("rpc");
            }
            _ => {}
        }
    });
}

fn mapping<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// Calls `f` on every value at `path` (`*` stands for every element of a sequence).
fn for_each_at(v: &mut Value, path: &[&str], f: &mut dyn FnMut(&mut Value)) {
    let Some((first, rest)) = path.split_first() else {
        f(v);
        return;
    };
    match (v, *first) {
        (Value::Array(items), "*") => {
            for item in items {
                for_each_at(item, rest, f);
            }
        }
        (Value::Object(map), key) => {
            if let Some(child) = map.get_mut(key) {
                for_each_at(child, rest, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_the_full_form() {
        let mut doc = json!({
            "network": {"consensus": "clique"},
            "nodes": [
                {"name": "a", "role": "rpc", "rpc": true},
                {"name": "b", "role": "rpc", "rpc": false},
                {"name": "c", "rpc": {"ws": true, "ingress": true}},
                {"name": "d"},
                {"name": "e", "role": "full", "rpc": false}
            ],
            "monitoring": {"ethstats": true, "metrics": false},
            "networkPolicy": false
        });
        expand(&mut doc);
        assert_eq!(
            doc,
            json!({
                "network": {"consensus": {"clique": {}}},
                "nodes": [
                    {"name": "a", "role": "rpc", "rpc": {}},
                    {"name": "b", "role": "rpc", "rpc": {"http": false}},
                    {"name": "c", "rpc": {"ws": true, "ingress": {"enabled": true}}},
                    {"name": "d"},
                    {"name": "e", "role": "full"}
                ],
                "monitoring": {"ethstats": {"enabled": true}, "metrics": {"enabled": false}},
                "networkPolicy": {"enabled": false}
            })
        );
    }

    /// Full forms, and values that are no short form (left to the schema to refuse),
    /// pass unchanged.
    #[test]
    fn everything_else_is_left_alone() {
        let docs = [
            json!({"network": {"consensus": {"proofOfStake": {"secondsPerSlot": 6}}}}),
            json!({"network": {"consensus": "proof-of-stake"}, "nodes": [{"rpc": "yes"}]}),
            json!({"monitoring": {"ethstats": "true"}, "nodes": {"rpc": true}}),
            json!(["not", "a", "network"]),
        ];
        for doc in docs {
            let mut expanded = doc.clone();
            expand(&mut expanded);
            assert_eq!(expanded, doc);
        }
        let mut pos = json!({"network": {"consensus": "proofOfStake"}});
        expand(&mut pos);
        assert_eq!(pos, json!({"network": {"consensus": {"proofOfStake": {}}}}));
    }
}
