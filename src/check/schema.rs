//! The first check: the JSON Schema, with messages that say what was expected
//! and a suggestion for a likely typo.

use serde_json::Value;

use crate::config::NetworkFile;
use crate::diagnostics::{display_path, excerpt, Diagnostic};
use crate::yaml::{self, Document};

/// Every place the document breaks the schema, with what was expected there.
pub(super) fn diagnostics(doc: &Document) -> Vec<Diagnostic> {
    let schema = crate::config::json_schema();
    let mut out = Vec::new();
    validate_at(&schema, &schema, &doc.value, "", doc, &mut out);
    // A float the schema took for an integer (`3.0`, `1e18`) would fail later in
    // serde, without a position; say it here, once, at the value.
    let mut floats = Vec::new();
    find_floats(&doc.value, "", &mut floats);
    for pointer in floats {
        let path = display_path(&pointer);
        out.retain(|d| d.path != path);
        out.push(Diagnostic::error(
            doc.position(&pointer),
            path,
            format!(
                "{} is a floating-point number, and no setting takes one; write a whole number{}",
                show_at(
                    doc,
                    &pointer,
                    doc.value.pointer(&pointer).unwrap_or(&Value::Null)
                ),
                describe(&schema, &pointer)
            ),
        ));
    }
    out
}

/// `value` with every value the schema refuses set aside (a typo of an allowed value
/// replaced by the value it is closest to, anything else removed, so its default
/// applies), read as a network file, and the display paths of what was set aside.
/// `None` when that does not give a readable file (a required key is missing or
/// wrong).
pub(super) fn set_aside_refused(value: &Value) -> Option<(NetworkFile, Vec<String>)> {
    let schema = crate::config::json_schema();
    let mut value = value.clone();
    let mut set_aside = Vec::new();
    let mut floats = Vec::new();
    find_floats(&value, "", &mut floats);
    for pointer in floats {
        remove_at(&mut value, &pointer)?;
        set_aside.push(display_path(&pointer));
    }
    // Removing a value can only remove errors or expose a parent's (a required
    // key); a few rounds settle it.
    for _ in 0..4 {
        let refused = refused(&schema, &schema, &value, "")?;
        if refused.is_empty() {
            let config = serde_json::from_value(value).ok()?;
            return Some((config, set_aside));
        }
        for (pointer, fix) in refused {
            match fix {
                Some(fix) => *value.pointer_mut(&pointer)? = fix,
                None => remove_at(&mut value, &pointer)?,
            }
            set_aside.push(display_path(&pointer));
        }
    }
    None
}

/// What `instance` (at `base`) breaks of `node`, a part of the `root` schema: each
/// refused value's pointer and the allowed value it is a typo of, if any. A failed
/// `oneOf`/`anyOf` is opened up as [`validate_at`] does.
fn refused(
    root: &Value,
    node: &Value,
    instance: &Value,
    base: &str,
) -> Option<Vec<(String, Option<Value>)>> {
    use jsonschema::error::ValidationErrorKind as K;
    let validator = validator_at(root, node).ok()?;
    let mut out = Vec::new();
    for err in validator.iter_errors(instance) {
        let pointer = format!("{base}{}", err.instance_path);
        match &err.kind {
            K::AdditionalProperties { unexpected } => out.extend(
                unexpected
                    .iter()
                    .map(|k| (format!("{pointer}/{}", yaml::escape_segment(k)), None)),
            ),
            K::AnyOf | K::OneOfNotValid
                if shaped_branch(root, &pointer, &err.instance).is_some() =>
            {
                let branch = shaped_branch(root, &pointer, &err.instance)?;
                out.extend(refused(root, &branch, &err.instance, &pointer)?);
            }
            _ => {
                let fix = err.instance.as_str().and_then(|given| {
                    let values =
                        schema_at_raw(root, &pointer).and_then(|n| enum_values(root, n))?;
                    closest(given, &values).map(Value::String)
                });
                out.push((pointer, fix));
            }
        }
    }
    Some(out)
}

/// A validator of `node`, a part of the `root` schema, with the root's definitions
/// (which `node`'s `$ref`s name).
fn validator_at(root: &Value, node: &Value) -> Result<jsonschema::Validator, String> {
    let mut sub = node.clone();
    if let (Some(obj), Some(defs)) = (sub.as_object_mut(), root.get("definitions")) {
        obj.insert("definitions".into(), defs.clone());
    }
    jsonschema::validator_for(&sub).map_err(|e| e.to_string())
}

/// Removes the mapping entry at `pointer`; `None` when it is no mapping entry (the
/// document itself or a sequence element, whose removal would renumber the rest).
fn remove_at(value: &mut Value, pointer: &str) -> Option<()> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let key = key.replace("~1", "/").replace("~0", "~");
    value
        .pointer_mut(parent)?
        .as_object_mut()?
        .remove(&key)
        .map(|_| ())
}

/// Pointers of every number that is not an integer (YAML floats like `3.0`).
fn find_floats(v: &Value, pointer: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(n) if n.is_f64() => out.push(pointer.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_floats(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                find_floats(item, &format!("{pointer}/{}", yaml::escape_segment(k)), out);
            }
        }
        _ => {}
    }
}

/// Validates `instance` (found at `base` in the document) against `node`, a part of
/// the `root` schema. A failed `oneOf`/`anyOf` is opened up: when exactly one branch
/// matches the instance's shape (a tagged choice like `clique:`), that branch's own
/// errors are reported, which say far more than "not valid under any schema".
fn validate_at(
    root: &Value,
    node: &Value,
    instance: &Value,
    base: &str,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let validator = match validator_at(root, node) {
        Ok(v) => v,
        Err(e) => {
            out.push(Diagnostic::error(
                doc.position(base),
                "",
                format!("internal schema error: {e}"),
            ));
            return;
        }
    };
    for err in validator.iter_errors(instance) {
        let pointer = format!("{base}{}", err.instance_path);
        let path = display_path(&pointer);
        use jsonschema::error::ValidationErrorKind as K;
        match &err.kind {
            K::AdditionalProperties { unexpected } => {
                let known = known_keys(root, &pointer);
                for key in unexpected {
                    let child = format!("{pointer}/{}", yaml::escape_segment(key));
                    let hint = match closest(key, &known) {
                        _ if key.chars().count() > 64 => String::new(),
                        Some(best) => format!("; did you mean `{best}`?"),
                        None if !known.is_empty() => {
                            format!("; expected one of: {}", known.join(", "))
                        }
                        None => String::new(),
                    };
                    out.push(Diagnostic::error(
                        doc.key_position(&child),
                        display_path(&child),
                        format!("unknown key `{}`{hint}", excerpt(key)),
                    ));
                }
            }
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let child = format!("{pointer}/{name}");
                out.push(Diagnostic::error(
                    doc.key_position(&pointer),
                    display_path(&child),
                    format!("missing required key `{name}`{}", describe(root, &child)),
                ));
            }
            K::Type { kind } => {
                let expected = type_name(kind);
                out.push(Diagnostic::error(
                    doc.position(&pointer),
                    path,
                    format!(
                        "{} is the wrong type: expected {expected}{}",
                        show_at(doc, &pointer, &err.instance),
                        quote_hint(doc, &pointer, &expected)
                    ),
                ))
            }
            K::Enum { options } => out.push(Diagnostic::error(
                doc.position(&pointer),
                path,
                format!(
                    "{} is not allowed; expected one of: {}",
                    show_at(doc, &pointer, &err.instance),
                    options
                        .as_array()
                        .map(|a| a.iter().map(show).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ),
            )),
            K::Minimum { limit } | K::Maximum { limit } => out.push(Diagnostic::error(
                doc.position(&pointer),
                path,
                format!(
                    "{} is {} the {} of {}{}",
                    show_at(doc, &pointer, &err.instance),
                    if matches!(err.kind, K::Minimum { .. }) {
                        "below"
                    } else {
                        "above"
                    },
                    if matches!(err.kind, K::Minimum { .. }) {
                        "minimum"
                    } else {
                        "maximum"
                    },
                    limit
                        .as_f64()
                        .map(|f| f.to_string())
                        .unwrap_or_else(|| limit.to_string()),
                    describe(root, &pointer)
                ),
            )),
            K::AnyOf | K::OneOfNotValid
                if shaped_branch(root, &pointer, &err.instance).is_some() =>
            {
                if let Some(branch) = shaped_branch(root, &pointer, &err.instance) {
                    validate_at(root, &branch, &err.instance, &pointer, doc, out);
                }
            }
            K::AnyOf | K::OneOfNotValid | K::OneOfMultipleValid | K::Pattern { .. } => {
                out.push(Diagnostic::error(
                    doc.position(&pointer),
                    path,
                    format!(
                        "{} is not valid{}{}",
                        show_at(doc, &pointer, &err.instance),
                        describe(root, &pointer),
                        suggest(root, &pointer, &err.instance)
                    ),
                ))
            }
            _ => out.push(Diagnostic::error(
                doc.position(&pointer),
                path,
                format!("{}{}", excerpt(&err.to_string()), describe(root, &pointer)),
            )),
        }
    }
}

/// The one branch of the `oneOf`/`anyOf` at `pointer` whose required keys the
/// (mapping) instance has, if exactly one does.
fn shaped_branch(root: &Value, pointer: &str, instance: &Value) -> Option<Value> {
    let obj = instance.as_object()?;
    let node = schema_at_raw(root, pointer)?;
    let branches = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))?
        .as_array()?;
    let mut matching = branches.iter().map(|b| resolve(root, b)).filter(|b| {
        let is_object = b.get("properties").is_some();
        let required_present = b
            .get("required")
            .and_then(Value::as_array)
            .is_none_or(|req| {
                req.iter()
                    .all(|k| k.as_str().is_some_and(|k| obj.contains_key(k)))
            });
        is_object && required_present
    });
    let first = matching.next()?;
    matching.next().is_none().then(|| first.clone())
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{}`", excerpt(s)),
        Value::Object(_) => "this mapping".into(),
        Value::Array(_) => "this list".into(),
        other => format!("`{}`", excerpt(&other.to_string())),
    }
}

/// `show`, but with the text the user wrote when YAML read it as another type
/// (`0x00…01` is shown as written, not as `1`).
fn show_at(doc: &Document, pointer: &str, v: &Value) -> String {
    match doc.raw.get(pointer) {
        Some(raw) => format!("`{}`", excerpt(raw)),
        None => show(v),
    }
}

/// When a string was expected but YAML read the plain text as a number, boolean
/// or null, the fix is quoting it.
fn quote_hint(doc: &Document, pointer: &str, expected: &str) -> String {
    match doc.raw.get(pointer) {
        Some(raw) if expected.contains("a string") => format!(
            "; YAML reads this unquoted text as {}, so quote it: \"{}\"",
            match raw.as_str() {
                "true" | "false" | "True" | "False" | "TRUE" | "FALSE" => "a boolean",
                "" | "~" | "null" | "Null" | "NULL" => "null",
                _ => "a number",
            },
            excerpt(raw)
        ),
        _ => String::new(),
    }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let name = |t: String| match t.as_str() {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "an integer".to_string(),
        "string" => "a string".to_string(),
        "boolean" => "true or false".to_string(),
        "number" => "a number".to_string(),
        other => other.to_string(),
    };
    match kind {
        TypeKind::Single(t) => name(t.to_string()),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| name(t.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// The schema node describing the value at `pointer`, following `$ref`s, `items`
/// and the non-null branch of `Option`s.
fn schema_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = resolve(root, root);
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = descend(root, node, &seg)?;
    }
    Some(resolve(root, node))
}

/// Like `schema_at`, but the last node keeps its `oneOf`/`anyOf` (only `$ref`s are followed).
fn schema_at_raw<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let (parent, last) = match pointer.rsplit_once('/') {
        Some(x) => x,
        None => return Some(root),
    };
    let p = schema_at(root, parent)?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let mut node = p
        .get("properties")
        .and_then(|m| m.get(&last))
        .or_else(|| p.get("items"))
        .or_else(|| p.get("additionalProperties").filter(|v| v.is_object()))?;
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        node = root.pointer(r.strip_prefix('#')?)?;
    }
    Some(node)
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                node = target;
                continue;
            }
        }
        // schemars writes `Option<T>` and single refs with descriptions as anyOf/allOf.
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(branches) = node.get(key).and_then(Value::as_array) {
                if let Some(b) = branches
                    .iter()
                    .find(|b| b.get("type") != Some(&Value::String("null".into())))
                {
                    if node.get("properties").is_none() && node.get("items").is_none() {
                        node = b;
                    }
                }
            }
        }
        if node.get("$ref").is_none() {
            break;
        }
    }
    node
}

/// The schema of key `seg` under `node`, unresolved, so a tagged choice below it
/// (`consensus: {clique: …} | {proofOfStake: …}`, a `oneOf` of objects) can still
/// pick the branch that has the next key.
fn descend<'a>(root: &'a Value, node: &'a Value, seg: &str) -> Option<&'a Value> {
    let mut raw = node;
    for _ in 0..16 {
        match raw.get("$ref").and_then(Value::as_str) {
            Some(r) => raw = root.pointer(r.strip_prefix('#')?)?,
            None => break,
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = raw.get(key).and_then(Value::as_array) {
            let with_key = branches
                .iter()
                .find_map(|b| resolve(root, b).get("properties").and_then(|p| p.get(seg)));
            if with_key.is_some() {
                return with_key;
            }
        }
    }
    let node = resolve(root, node);
    if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
        return Some(p);
    }
    if let Some(items) = node.get("items") {
        return Some(items);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
        return Some(extra);
    }
    None
}

fn known_keys(root: &Value, pointer: &str) -> Vec<String> {
    schema_at(root, pointer)
        .and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// `; did you mean `x`?` when `instance` is a string close to one of the values
/// the schema at `pointer` allows (a typo or the wrong case: `singer`, `Fulu`).
fn suggest(root: &Value, pointer: &str, instance: &Value) -> String {
    let Some(given) = instance.as_str() else {
        return String::new();
    };
    schema_at_raw(root, pointer)
        .and_then(|n| enum_values(root, n))
        .and_then(|values| closest(given, &values))
        .map(|best| format!("; did you mean `{best}`?"))
        .unwrap_or_default()
}

/// `: <description>` of the schema node at `pointer`, to say what is expected.
fn describe(root: &Value, pointer: &str) -> String {
    if let Some(values) = schema_at_raw(root, pointer).and_then(|n| enum_values(root, n)) {
        return format!("; expected one of: {}", values.join(", "));
    }
    let Some(node) = schema_at(root, pointer) else {
        return String::new();
    };
    let desc = node.get("description").and_then(Value::as_str).or_else(|| {
        // A property's description sits on the property, not on its resolved type.
        let (parent, last) = pointer.rsplit_once('/')?;
        schema_at(root, parent)?
            .get("properties")?
            .get(last)?
            .get("description")?
            .as_str()
    });
    match desc {
        Some(d) => format!("; expected: {}", d.trim_end_matches('.')),
        None => String::new(),
    }
}

/// The allowed values of an enum schema, whether written as `enum` or as
/// `oneOf` branches of single-value enums (schemars does that for documented variants).
fn enum_values(root: &Value, node: &Value) -> Option<Vec<String>> {
    let node = {
        let mut n = node;
        loop {
            if let Some(r) = n.get("$ref").and_then(Value::as_str) {
                n = root.pointer(r.strip_prefix('#')?)?;
                continue;
            }
            // A field with a default is written as `allOf: [{$ref}]`.
            match n.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                Some([only]) => n = only,
                _ => break,
            }
        }
        n
    };
    let from_enum = |n: &Value| -> Option<Vec<String>> {
        let list = n.get("enum").or_else(|| n.get("const"))?;
        match list {
            Value::Array(a) => Some(
                a.iter()
                    .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                    .collect(),
            ),
            v => Some(vec![v
                .as_str()
                .map(str::to_string)
                .unwrap_or(v.to_string())]),
        }
    };
    if let Some(v) = from_enum(node) {
        return Some(v);
    }
    let branches = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))?
        .as_array()?;
    let mut out = Vec::new();
    for b in branches {
        let b = resolve(root, b);
        if b.get("type") == Some(&Value::String("null".into())) {
            continue;
        }
        out.extend(from_enum(b).or_else(|| enum_values(root, b))?);
    }
    (!out.is_empty()).then_some(out)
}

/// The known key most like `key`, if one is close enough to be a likely typo.
fn closest(key: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&key.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = vec!["replicas".to_string(), "role".to_string()];
        assert_eq!(closest("replica", &known).as_deref(), Some("replicas"));
        assert_eq!(closest("zzz", &known), None);
    }

    #[test]
    fn schema_navigation() {
        let schema = crate::config::json_schema();
        let keys = known_keys(&schema, "/nodes/0");
        assert!(keys.contains(&"replicas".to_string()));
        let keys = known_keys(&schema, "/nodes/0/rpc");
        assert!(keys.contains(&"httpPort".to_string()), "{keys:?}");
        assert!(known_keys(&schema, "/network/consensus/clique").contains(&"period".to_string()));
    }
}
