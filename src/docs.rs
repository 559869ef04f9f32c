//! The option reference (`docs/CONFIG.md`), generated from the network file's schema
//! so the documentation cannot drift from what the compiler accepts. The schema-walking
//! helpers here serve the chart's documentation too (`crate::chart_docs`).

use serde_json::Value;

/// Markdown: one table row per option, with its type, default and description.
pub fn config_reference() -> String {
    let schema = crate::config::json_schema();
    let mut rows = Vec::new();
    walk(&schema, &schema, "", &mut rows, 0);
    let mut out = String::from(
        "# kuberneteth.yaml reference\n\n\
         Generated from the schema by `kuberneteth-values docs`; a test keeps it in step.\n\
         `nodes[]` means each item of the list. An empty default means the option is unset.\n\n\
         | option | type | default | description |\n|---|---|---|---|\n",
    );
    for (path, ty, default, desc) in rows {
        out.push_str(&format!(
            "| `{path}` | {ty} | {} | {} |\n",
            if default.is_empty() {
                String::new()
            } else {
                format!("`{default}`")
            },
            table_cell(&desc)
        ));
    }
    out
}

/// Text for one Markdown table cell: one line, `|` escaped.
pub(crate) fn table_cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// The schema node behind `$ref`s (local references only).
pub(crate) fn deref<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

/// The object schema behind a property (through `$ref`, `allOf` and `Option`'s `anyOf`).
pub(crate) fn object_of<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    let node = deref(root, node);
    if node.get("properties").is_some() {
        return Some(node);
    }
    for key in ["allOf", "anyOf"] {
        if let Some(branches) = node.get(key).and_then(Value::as_array) {
            for b in branches {
                if let Some(o) = object_of(root, b) {
                    return Some(o);
                }
            }
        }
    }
    None
}

/// The branches of a tagged choice (`oneOf`), also behind a defaulted field's `allOf`.
fn choices<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Vec<Value>> {
    let node = deref(root, node);
    if let Some(branches) = node.get("oneOf").and_then(Value::as_array) {
        return Some(branches);
    }
    match node
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => choices(root, only),
        _ => None,
    }
}

/// The description of a property: its own, else its type's (through `$ref`, a
/// defaulted field's `allOf` and `Option`'s `anyOf`). A tagged choice's branch (one
/// property) lends the property its own.
pub(crate) fn description_of<'a>(root: &'a Value, node: &'a Value) -> Option<&'a str> {
    if let Some(d) = node.get("description").and_then(Value::as_str) {
        return Some(d);
    }
    let node = deref(root, node);
    if let Some(d) = node.get("description").and_then(Value::as_str) {
        return Some(d);
    }
    ["allOf", "anyOf"]
        .iter()
        .filter_map(|key| node.get(*key).and_then(Value::as_array))
        .flatten()
        .find_map(|b| description_of(root, b))
}

/// A property's type in words, for a table: `string`, `list of mapping`, `` `a` \| `b` ``.
pub(crate) fn type_of(root: &Value, node: &Value) -> String {
    let n = deref(root, node);
    if let Some(values) = n.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(branches) = n
        .get("oneOf")
        .or_else(|| n.get("anyOf"))
        .or_else(|| n.get("allOf"))
        .and_then(Value::as_array)
    {
        let parts: Vec<String> = branches
            .iter()
            .map(|b| type_of(root, b))
            .filter(|t| t != "null")
            .collect();
        return parts.join(" \\| ");
    }
    if let Some(c) = n.get("const") {
        return format!("`{}`", c.as_str().unwrap_or_default());
    }
    match n.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let item = n.get("items").map(|i| type_of(root, i)).unwrap_or_default();
            format!("list of {item}")
        }
        Some(Value::String(t)) if t == "object" => {
            if n.get("properties").is_some() {
                "mapping".into()
            } else {
                "map".into()
            }
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" \\| "),
        _ => {
            if n.get("required").is_some() {
                "mapping".into()
            } else {
                "any".into()
            }
        }
    }
}

fn walk(
    root: &Value,
    node: &Value,
    prefix: &str,
    rows: &mut Vec<(String, String, String, String)>,
    depth: usize,
) {
    let Some(obj) = object_of(root, node) else {
        return;
    };
    let Some(props) = obj.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, prop) in props {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let resolved = deref(root, prop);
        let desc = description_of(root, prop)
            .or_else(|| (props.len() == 1).then_some(obj.get("description")?.as_str()?))
            .unwrap_or_default()
            .to_string();
        let mut default = match prop.get("default") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        };
        if required.contains(&key.as_str()) {
            default = "required".into();
        }
        let ty = type_of(root, prop);
        let is_list_of_objects = resolved.get("type") == Some(&Value::String("array".into()))
            && resolved
                .get("items")
                .is_some_and(|i| object_of(root, i).is_some());
        // Nested objects get their own rows; a default of a whole object is noise.
        let nested = object_of(root, prop).is_some();
        if (nested || choices(root, prop).is_some()) && default.starts_with('{') {
            default.clear();
        }
        rows.push((path.clone(), ty, default, desc));
        if depth < 8 {
            if is_list_of_objects {
                if let Some(items) = resolved.get("items") {
                    walk(root, items, &format!("{path}[]"), rows, depth + 1);
                }
            } else if nested {
                walk(root, prop, &path, rows, depth + 1);
            } else if let Some(branches) = choices(root, prop) {
                for b in branches {
                    walk(root, b, &path, rows, depth + 1);
                }
            }
        }
    }
}
