//! Checking a network file: YAML syntax, then the JSON Schema, then the semantic
//! rules no schema can express. Every problem is reported, not just the first.

use crate::execution::crypto::AddressExt;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use ruint::aliases::U256;

use crate::config::{
    Consensus, ConsensusClient, NetworkFile, NodeGroup, Preset, ProofOfStake, Role,
};
use crate::consensus::preset::{MAX_EFFECTIVE_BALANCE_ELECTRA, MIN_ACTIVATION_BALANCE};
use crate::diagnostics::{display_path, excerpt, sort, Diagnostic, Severity};
use crate::execution::crypto::Address;
use crate::execution::geth::{check_support, Engine, GethVersion};
use crate::names;
use crate::release::{
    release_weight, Placement, RELEASE_CAPACITY, RELEASE_POD_COST, VALIDATORS_PER_KEYS_SECRET,
};
use crate::units::parse_balance;
use crate::yaml::{self, Document};

/// A network file that passed every check, with the warnings it produced.
pub struct Checked {
    pub config: NetworkFile,
    pub warnings: Vec<Diagnostic>,
    /// The parsed file, for positioning problems found later (brought key files).
    pub doc: Document,
}

/// Public chain ids a private network must not reuse (replayable signatures, wallet confusion).
const PUBLIC_CHAIN_IDS: &[(u64, &str)] = &[
    (1, "Ethereum mainnet"),
    (3, "Ropsten"),
    (4, "Rinkeby"),
    (5, "Goerli"),
    (10, "OP Mainnet"),
    (42, "Kovan"),
    (56, "BNB Smart Chain"),
    (61, "Ethereum Classic"),
    (63, "Mordor"),
    (100, "Gnosis"),
    (137, "Polygon"),
    (250, "Fantom"),
    (324, "zkSync Era"),
    (8453, "Base"),
    (17000, "Holesky"),
    (42161, "Arbitrum One"),
    (43114, "Avalanche C-Chain"),
    (59144, "Linea"),
    (560048, "Hoodi"),
    (11155111, "Sepolia"),
];

/// Whether a network must fit one Helm release ([`RELEASE_CAPACITY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseLimit {
    /// The release is stored in a Kubernetes Secret: `compile`, which writes Helm
    /// values, and `check`, which finds every problem `compile` would.
    Enforce,
    /// No release, or one stored elsewhere: `export` and `inspect`, and
    /// `compile`/`check --no-size-limit` (e.g. Helm's SQL storage driver).
    Ignore,
}

/// What a check depends on besides the file. The command layer gives it; the
/// library reads neither the clock nor the environment, so a check is a
/// function of its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The moment of the check in Unix seconds. Only one warning uses it (a
    /// proof-of-stake genesis more than a day past); no output depends on it. The
    /// command layer reads the clock, or `KUBERNETETH_NOW` (see `main.rs`).
    pub now: u64,
    /// Whether a proof-of-stake network must fit one Helm release.
    pub release_limit: ReleaseLimit,
}

/// A moment alone is the context of `compile` without `--no-size-limit`: the
/// release limit holds.
impl From<u64> for Context {
    fn from(now: u64) -> Self {
        Self {
            now,
            release_limit: ReleaseLimit::Enforce,
        }
    }
}

/// Parses and checks `text` in `ctx` (a [`Context`], or a moment alone for the
/// context of `compile`). Errors (sorted by position) if anything is wrong.
pub fn check(text: &str, ctx: impl Into<Context>) -> Result<Checked, Vec<Diagnostic>> {
    let ctx = ctx.into();
    let mut doc = yaml::parse(text).map_err(|e| {
        vec![Diagnostic::error(
            e.position,
            display_path(&e.path),
            e.message,
        )]
    })?;
    crate::shorthand::expand(&mut doc.value);
    let mut diags = schema_diagnostics(&doc);
    if !diags.is_empty() {
        // The rules a schema error leaves checkable are still worth reporting, so one
        // run shows every problem it can: check them on the file with each refused
        // value set aside, and keep what they say outside those values.
        if let Some((config, set_aside)) = set_aside_refused(&doc.value) {
            let mut rules = Vec::new();
            semantic(&config, &doc, ctx, &mut rules);
            diags.extend(rules.into_iter().filter(|d| {
                !set_aside.iter().any(|p| {
                    d.path == *p
                        || d.path.starts_with(&format!("{p}."))
                        || d.path.starts_with(&format!("{p}["))
                })
            }));
        }
        sort(&mut diags);
        diags.dedup();
        return Err(diags);
    }
    let config: NetworkFile = match serde_json::from_value(doc.value.clone()) {
        Ok(c) => c,
        Err(e) => {
            // The schema and the types agree, so this is a bug; still report it usefully.
            return Err(vec![Diagnostic::error(
                doc.position(""),
                "",
                format!("cannot read the network file: {e}"),
            )]);
        }
    };
    semantic(&config, &doc, ctx, &mut diags);
    sort(&mut diags);
    // A rule checked per group reports a shared setting (the network's geth
    // version) once per group; once is enough.
    diags.dedup();
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    Ok(Checked {
        config,
        warnings: diags,
        doc,
    })
}

fn schema_diagnostics(doc: &Document) -> Vec<Diagnostic> {
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
fn set_aside_refused(value: &Value) -> Option<(NetworkFile, Vec<String>)> {
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

/// The rules a schema cannot express.
fn semantic(cfg: &NetworkFile, doc: &Document, ctx: Context, diags: &mut Vec<Diagnostic>) {
    let err = |diags: &mut Vec<Diagnostic>, pointer: &str, msg: String| {
        diags.push(Diagnostic::error(
            doc.position(pointer),
            display_path(pointer),
            msg,
        ))
    };
    let warn = |diags: &mut Vec<Diagnostic>, pointer: &str, msg: String| {
        diags.push(Diagnostic::warning(
            doc.position(pointer),
            display_path(pointer),
            msg,
        ))
    };

    // Chain identity.
    if let Some((_, name)) = PUBLIC_CHAIN_IDS
        .iter()
        .find(|(id, _)| *id == cfg.network.chain_id)
    {
        err(diags, "/network/chainId", format!(
            "chain id {} belongs to {name}; pick an unused id (e.g. a random number above 100000) so signatures cannot be replayed there",
            cfg.network.chain_id
        ));
    }
    if cfg.network.network_id == Some(1) {
        err(
            diags,
            "/network/networkId",
            "network id 1 is Ethereum mainnet's; pick another".into(),
        );
    }

    // Node groups: names, versions, ports, roles.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in cfg.nodes.iter().enumerate() {
        let at = |k: &str| format!("/nodes/{i}{k}");
        if let Some(first) = seen.insert(&g.name, i) {
            err(
                diags,
                &at("/name"),
                format!(
                    "group name `{}` is already used by nodes[{first}]; group names must be unique",
                    g.name
                ),
            );
        }
        let tag = g.geth.version.as_deref().unwrap_or(&cfg.geth.version);
        let tag_pointer = if g.geth.version.is_some() {
            at("/geth/version")
        } else {
            "/geth/version".to_string()
        };
        match GethVersion::parse(tag) {
            Ok(v) => {
                let engine = match &cfg.network.consensus {
                    Consensus::Clique(_) => Engine::Clique,
                    Consensus::ProofOfStake(pos) => Engine::ProofOfStake(pos.fork),
                };
                if let Err(e) = check_support(engine, v) {
                    err(diags, &tag_pointer, e);
                }
            }
            Err(e) => err(diags, &tag_pointer, e),
        }
        match (g.validators_per_pod, g.role) {
            (None, Role::Validator) => err(diags, &at(""), "a validator group needs `validatorsPerPod`, the number of genesis validators each pod holds".into()),
            (Some(_), role) if role != Role::Validator => err(diags, &at("/validatorsPerPod"), format!(
                "`validatorsPerPod` applies to groups with `role: validator`, and this group is `{}`",
                role.as_str()
            )),
            _ => {}
        }
        match (&g.rpc, g.role) {
            (Some(_), Role::Validator) => err(diags, &at("/rpc"), "validators never expose RPC (their pods hold validator keys); add a group with `role: rpc` instead".into()),
            (Some(_), Role::Signer) => err(diags, &at("/rpc"), "signers never expose RPC (it would need --allow-insecure-unlock with an unlocked sealing key); add a group with `role: rpc` instead".into()),
            (Some(_), Role::Bootnode | Role::Full) => err(diags, &at("/rpc"), format!(
                "`rpc` settings apply to groups with `role: rpc`, and this group is `{}`",
                g.role.as_str()
            )),
            _ => {}
        }
        let mut ports: Vec<(u16, &str)> =
            vec![(g.p2p_port, "p2pPort"), (g.metrics_port, "metricsPort")];
        if let Some(rpc) = &g.rpc {
            if rpc.http {
                ports.push((rpc.http_port, "rpc.httpPort"));
            }
            if rpc.ws {
                ports.push((rpc.ws_port, "rpc.wsPort"));
            }
            if rpc.ingress.enabled && rpc.ingress.host.is_empty() {
                err(
                    diags,
                    &at("/rpc/ingress"),
                    "an enabled ingress needs `host`, the name it serves".into(),
                );
            }
            if rpc.ingress.enabled && !rpc.http {
                err(
                    diags,
                    &at("/rpc/ingress"),
                    "the ingress routes HTTP RPC, but `http` is false".into(),
                );
            }
            if !rpc.http && !rpc.ws {
                err(
                    diags,
                    &at("/rpc"),
                    "an rpc group must serve `http` or `ws` (or both); a node without JSON-RPC is `role: full`".into(),
                );
            }
            if rpc.cors.iter().any(|c| c == "*") {
                warn(diags, &at("/rpc/cors"), "`*` lets any web page use this RPC from a visitor's browser; list your wallet/dapp origins instead".into());
            }
            if rpc.vhosts.iter().any(|c| c == "*") {
                warn(
                    diags,
                    &at("/rpc/vhosts"),
                    "`*` accepts any Host header (DNS rebinding); list the host names you use"
                        .into(),
                );
            }
        }
        ports.sort();
        for w in ports.windows(2) {
            if w[0].0 == w[1].0 {
                err(
                    diags,
                    &at(""),
                    format!(
                        "port {} is used by both {} and {}; each port of a node must be distinct",
                        w[0].0, w[0].1, w[1].1
                    ),
                );
            }
        }
        if g.node_key_files.len() > g.replicas as usize {
            err(
                diags,
                &at("/nodeKeyFiles"),
                format!(
                    "{} node key files for {} replicas; give at most one per replica",
                    g.node_key_files.len(),
                    g.replicas
                ),
            );
        }
        resource_rules(
            cfg,
            g,
            &|p: &str| at(&format!("/resources{p}")),
            &err,
            &warn,
            diags,
        );
        if g.partition > g.replicas {
            warn(
                diags,
                &at("/partition"),
                format!(
                    "partition {} is above replicas {}: no pod of this group will be updated",
                    g.partition, g.replicas
                ),
            );
        }
    }

    // Extra flags must not undo the RPC and unlock rules.
    let flag_lists = std::iter::once(("/geth/extraFlags".to_string(), &cfg.geth.extra_flags))
        .chain(
            cfg.nodes
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("/nodes/{i}/geth/extraFlags"), &g.geth.extra_flags)),
        );
    for (base, flags) in flag_lists {
        for (j, flag) in flags.iter().enumerate() {
            if let Some(problem) = crate::execution::geth::extra_flag_problem(flag) {
                err(diags, &format!("{base}/{j}"), problem);
            }
        }
    }

    // Derived Kubernetes names must fit and must not collide.
    for (pointer, problem) in names::check(cfg) {
        err(diags, &pointer, problem);
    }

    // Consensus.
    let role_at = |role: Role| cfg.nodes.iter().position(|g| g.role == role);
    match &cfg.network.consensus {
        Consensus::ProofOfStake(pos) => {
            if let Some(i) = role_at(Role::Signer) {
                err(diags, &format!("/nodes/{i}/role"), "`role: signer` seals clique blocks; a proof-of-stake network has `role: validator` groups instead".into());
            }
            proof_of_stake_rules(cfg, pos, ctx, &err, &warn, diags);
        }
        Consensus::Clique(_) => {
            if let Some(i) = role_at(Role::Validator) {
                err(diags, &format!("/nodes/{i}/role"), "`role: validator` needs `consensus: {proofOfStake: ...}`; a clique network has `role: signer` groups".into());
            }
            let signers: u32 = cfg
                .nodes
                .iter()
                .filter(|g| g.role == Role::Signer)
                .map(|g| g.replicas)
                .sum();
            if signers == 0 {
                err(diags, "/nodes", "a clique network needs at least one node group with `role: signer`, or no block is ever sealed".into());
            } else if signers < 3 {
                let i = cfg
                    .nodes
                    .iter()
                    .position(|g| g.role == Role::Signer)
                    .unwrap_or(0);
                warn(diags, &format!("/nodes/{i}/replicas"), format!(
                    "{signers} signer(s): clique needs a majority online, so restarting one of them (as every upgrade does) stops the chain; use 3 or more"
                ));
            }
        }
    }
    if !cfg.nodes.iter().any(|g| g.role == Role::Rpc) {
        warn(diags, "/nodes", "no group has `role: rpc`: nothing serves JSON-RPC to users, and `helm test` has nothing to check".into());
    }

    // Accounts.
    let mut names_seen = BTreeSet::new();
    let mut addresses_seen = BTreeSet::new();
    for (i, a) in cfg.accounts.iter().enumerate() {
        let at = |k: &str| format!("/accounts/{i}{k}");
        if let Err(e) = parse_balance(&a.balance) {
            err(diags, &at("/balance"), e);
        }
        match (&a.name, &a.address, &a.keystore) {
            (Some(_), None, _) | (None, Some(_), None) => {}
            (Some(_), Some(_), _) => err(diags, &at(""), "give either `name` (a generated or brought key) or `address` (an outside account), not both".into()),
            (None, None, _) => err(diags, &at(""), "an account needs `name` (a key generated for it, or naming a brought `keystore`) or `address` (an outside account)".into()),
            (None, Some(_), Some(_)) => err(diags, &at("/keystore"), "a brought keystore needs `name`, not `address` (the address is read from the keystore)".into()),
        }
        if a.keystore.is_some() != a.password_file.is_some() {
            err(diags, &at(""), "`keystore` and `passwordFile` go together: a brought keystore needs the file holding its password".into());
        }
        if let Some(n) = &a.name {
            if !names_seen.insert(n.clone()) {
                err(
                    diags,
                    &at("/name"),
                    format!("account name `{n}` is used twice; names must be unique"),
                );
            }
        }
        if let Some(addr) = &a.address {
            match Address::parse(addr) {
                Ok(parsed) => {
                    if !addresses_seen.insert(parsed) {
                        err(
                            diags,
                            &at("/address"),
                            format!("address {parsed} is funded twice; merge the balances"),
                        );
                    }
                }
                Err(e) => err(diags, &at("/address"), e),
            }
        }
    }
    if !cfg.keystore.secret {
        warn(diags, "/keystore/secret", "signer keystores will be stored in a ConfigMap, readable by anyone who can read ConfigMaps in the namespace; `secret: true` keeps them in a Secret".into());
    }
}

/// A group's `resources`: quantities Kubernetes reads, no request above its limit
/// (the API server refuses the pod), and no size for a container the group's pods
/// do not run.
fn resource_rules(
    cfg: &NetworkFile,
    g: &NodeGroup,
    at: &dyn Fn(&str) -> String,
    err: Report,
    warn: Report,
    diags: &mut Vec<Diagnostic>,
) {
    use crate::sizing::{container_resources, Container};
    use crate::units::parse_resource;
    let pos = matches!(cfg.network.consensus, Consensus::ProofOfStake(_));
    for (name, container, runs) in [
        ("geth", Container::Geth, true),
        ("beacon", Container::Beacon, pos),
        (
            "validator",
            Container::Validator,
            pos && g.role == Role::Validator,
        ),
    ] {
        let given = g.resources.given(container);
        if !runs {
            if given != &crate::config::Resources::default() {
                warn(diags, &at(&format!("/{name}")), format!(
                    "a `{}` pod of this network runs no {name} container; this setting does nothing",
                    g.role.as_str()
                ));
            }
            continue;
        }
        let mut parsed_ok = true;
        for (kind, quantities) in [("requests", &given.requests), ("limits", &given.limits)] {
            for (resource, q) in quantities {
                if let Err(e) = parse_resource(*resource, q) {
                    parsed_ok = false;
                    let key = resource.as_str();
                    err(diags, &at(&format!("/{name}/{kind}/{key}")), e);
                }
            }
        }
        if !parsed_ok {
            continue;
        }
        // Compare what the pod will ask for: the defaults with the file's keys over them.
        let size = container_resources(g.role, container, given);
        for (resource, limit) in &size.limits {
            let Some(request) = size.requests.get(resource) else {
                continue;
            };
            if parse_resource(*resource, request).ok() > parse_resource(*resource, limit).ok() {
                let key = resource.as_str();
                let which = if given.limits.contains_key(resource) {
                    "limits"
                } else {
                    "requests"
                };
                err(diags, &at(&format!("/{name}/{which}/{key}")), format!(
                    "{name} would request {request} of {key} but be limited to {limit}; Kubernetes refuses a request above its limit: raise `limits.{key}` or lower `requests.{key}`"
                ));
            }
        }
    }
}

/// Whole days by which `genesis` lies more than a day before `now` (both Unix
/// seconds), or `None` when it is later than that or in the future. Never overflows.
fn days_past(genesis: u64, now: u64) -> Option<u64> {
    let age = now.checked_sub(genesis)?;
    (age > 86_400).then_some(age / 86_400)
}

/// The largest genesis registry the compiler builds, whatever holds the release
/// (about 100 MB of wallets). Below it, [`RELEASE_CAPACITY`] bounds what
/// one Helm release in a Kubernetes Secret holds.
const MAX_VALIDATORS: u64 = 1 << 20;

/// Reports a problem at a JSON pointer of the network file (`semantic`'s `err`/`warn`).
type Report<'a> = &'a dyn Fn(&mut Vec<Diagnostic>, &str, String);

/// The rules of a proof-of-stake network that a schema cannot express.
fn proof_of_stake_rules(
    cfg: &NetworkFile,
    pos: &ProofOfStake,
    ctx: Context,
    err: Report,
    warn: Report,
    diags: &mut Vec<Diagnostic>,
) {
    const AT: &str = "/network/consensus/proofOfStake";

    match cfg.network.genesis_timestamp {
        None => err(diags, "/network", "a proof-of-stake network needs `genesisTimestamp` (Unix seconds): the first slot starts then. Pick a moment shortly after you deploy, e.g. `date -d '+10 min' +%s`".into()),
        Some(t) => {
            // Only this warning depends on `now`; no output does.
            if let Some(days) = days_past(t, ctx.now) {
                let days = if days == 1 { "1 day".into() } else { format!("{days} days") };
                warn(diags, "/network/genesisTimestamp", format!(
                    "genesis was {days} ago: beacon nodes must first process every empty slot since then, which can take long; a fresh network wants a time shortly after deploy"
                ));
            }
        }
    }
    for (key, value) in [
        ("depositContractAddress", &pos.deposit_contract_address),
        ("feeRecipient", &pos.fee_recipient),
    ] {
        if let Err(e) = Address::parse(value) {
            err(diags, &format!("{AT}/{key}"), e);
        }
    }
    if let Some(w) = &pos.withdrawal {
        if let Err(e) = Address::parse(&w.address) {
            err(diags, &format!("{AT}/withdrawal/address"), e);
        }
    }
    // Addresses the genesis fills itself: a prefunded account there would be
    // overwritten (or would overwrite a system contract).
    let deposit = Address::parse(&pos.deposit_contract_address).ok();
    let reserved = |a: &Address| {
        crate::execution::system_contracts::precompile_addresses().any(|p| p == *a)
            || crate::execution::system_contracts::system_contracts()
                .iter()
                .any(|(s, _)| s == a)
            || Some(*a) == deposit
    };
    for (i, a) in cfg.accounts.iter().enumerate() {
        if let Some(Ok(addr)) = a.address.as_deref().map(Address::parse) {
            if reserved(&addr) {
                err(diags, &format!("/accounts/{i}/address"), format!(
                    "{addr} is a precompile, a system contract or the deposit contract, which the proof-of-stake genesis fills itself; fund another address"
                ));
            }
        }
    }
    let ConsensusClient::Prysm(prysm) = &pos.client;
    if let Err(e) = crate::consensus::client::PrysmVersion::parse(&prysm.version) {
        err(diags, &format!("{AT}/client/prysm/version"), e);
    }
    // The preset is compiled into Prysm (`-tags minimal`); the official images are
    // mainnet builds, and a minimal-preset network makes their beacon nodes exit at
    // start-up, over and over.
    if pos.preset == Preset::Minimal {
        let official = crate::config::Prysm::default();
        for (image, default) in [
            (&prysm.beacon_image, &official.beacon_image),
            (&prysm.validator_image, &official.validator_image),
        ] {
            if image == default {
                err(diags, &format!("{AT}/preset"), format!(
                    "`preset: minimal` needs Prysm images built for the minimal preset (`go build -tags minimal`), and `{default}` is built for mainnet: its beacon nodes would crash-loop. Name such images in `consensus.proofOfStake.client.prysm` (`beaconImage`, `validatorImage`), or use `preset: mainnet` (short slots via `secondsPerSlot`)"
                ));
                break;
            }
        }
    }

    match parse_balance(&pos.validator_balance) {
        Err(e) => err(diags, &format!("{AT}/validatorBalance"), e),
        Ok(wei) => {
            // The consensus layer's own limits, in gwei.
            let wei_per_gwei = U256::from(1_000_000_000u64);
            let gwei = wei / wei_per_gwei;
            let compounding = pos.withdrawal.as_ref().is_some_and(|w| w.compounding);
            let counted = if compounding {
                MAX_EFFECTIVE_BALANCE_ELECTRA
            } else {
                MIN_ACTIVATION_BALANCE
            };
            if gwei > U256::from(u64::MAX) {
                err(diags, &format!("{AT}/validatorBalance"), "a validator balance must fit the consensus layer's 64-bit gwei; use at most `2048 ether`, all that counts as stake".into());
            } else if wei % wei_per_gwei != U256::ZERO {
                err(
                    diags,
                    &format!("{AT}/validatorBalance"),
                    "the consensus layer counts in gwei; give a whole number of gwei".into(),
                );
            } else if gwei < U256::from(MIN_ACTIVATION_BALANCE) {
                err(diags, &format!("{AT}/validatorBalance"), "validators below 32 ether are not active at genesis and nothing would propose; use at least `32 ether`".into());
            } else if gwei > U256::from(counted) {
                let why = if compounding {
                    "compounding validators count at most 2048 ether"
                } else {
                    "only 32 ether counts as stake unless `withdrawal.compounding` is true (up to 2048 ether)"
                };
                warn(
                    diags,
                    &format!("{AT}/validatorBalance"),
                    format!("{why}; the rest earns nothing"),
                );
            }
        }
    }

    // Stake spread: finality needs two thirds of the stake attesting.
    let validator_groups: Vec<(usize, &NodeGroup)> = cfg
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, g)| g.role == Role::Validator)
        .collect();
    let per_pod = |g: &NodeGroup| u64::from(g.validators_per_pod.unwrap_or(0));
    let total: u64 = validator_groups
        .iter()
        .map(|(_, g)| per_pod(g) * u64::from(g.replicas))
        .sum();
    if validator_groups.is_empty() {
        err(diags, "/nodes", "a proof-of-stake network needs at least one node group with `role: validator` and `validatorsPerPod`, or no block is ever proposed".into());
        return;
    }
    if total > MAX_VALIDATORS {
        err(diags, "/nodes", format!(
            "{total} validators in all; the compiler builds a genesis registry of at most {MAX_VALIDATORS}"
        ));
        return;
    }
    let placement = crate::release::placement(cfg, pos);
    if placement == Placement::Release && ctx.release_limit == ReleaseLimit::Enforce {
        release_too_large(&validator_groups, total, err, diags);
    }
    if let Some((i, g)) = validator_groups
        .iter()
        .find(|(_, g)| g.validators_per_pod.unwrap_or(0) > VALIDATORS_PER_KEYS_SECRET)
    {
        err(diags, &format!("/nodes/{i}/validatorsPerPod"), format!(
            "{} validators in each pod of `{}`, and one pod's keys Secret holds at most {VALIDATORS_PER_KEYS_SECRET} (Kubernetes keeps each Secret within 1 MiB): \
             spread them over more pods (`replicas`)",
            per_pod(g),
            g.name
        ));
    }
    if total > 0 {
        if let Some((i, g)) = validator_groups
            .iter()
            .find(|(_, g)| per_pod(g) * 3 > total)
        {
            warn(diags, &format!("/nodes/{i}/validatorsPerPod"), format!(
                "each pod of `{}` holds {} of the {total} validators, more than a third: while one such pod is down (as in every upgrade) the chain keeps making blocks but stops finalizing; spread validators over 4 or more pods",
                g.name,
                per_pod(g)
            ));
        }
    }
    // Each slot of an epoch needs its own attesters.
    let minimum = pos.preset.slots_per_epoch();
    if total > 0 && total < minimum {
        warn(diags, &format!("/nodes/{}/validatorsPerPod", validator_groups[0].0), format!(
            "{total} validators: an epoch has {minimum} slots and each needs its own attesters, so some slots get no votes and blocks gain weight slowly; use {minimum} or more"
        ));
    }
}

/// Refuses a network whose validator groups weigh more than [`RELEASE_CAPACITY`], at
/// the `validatorsPerPod` (always in the file, unlike `replicas`) of the group that
/// carries the weight past it.
fn release_too_large(
    validator_groups: &[(usize, &NodeGroup)],
    total: u64,
    err: Report,
    diags: &mut Vec<Diagnostic>,
) {
    let mut before = 0;
    for (i, g) in validator_groups {
        let per_pod = g.validators_per_pod.unwrap_or(0);
        let after = before + release_weight(g.replicas, per_pod);
        if after <= RELEASE_CAPACITY {
            before = after;
            continue;
        }
        let pods = if g.replicas == 1 {
            "1 pod".to_string()
        } else {
            format!("{} pods", g.replicas)
        };
        let count = if validator_groups.len() == 1 {
            format!("{total} genesis validators in {pods} of {per_pod} weigh {after}")
        } else {
            format!(
                "{total} genesis validators in all; this group's {pods} of {per_pod} take the weight from {before} to {after}"
            )
        };
        err(diags, &format!("/nodes/{i}/validatorsPerPod"), format!(
            "{count} (each validator 1, each validator pod {RELEASE_POD_COST} more), and one Helm release holds at most {RELEASE_CAPACITY}: \
             Helm keeps each release in one Kubernetes Secret of at most 1 MiB, and with `largeObjects: release` the release holds the validators' wallets and the genesis state. \
             Set `largeObjects: separate` in `network.consensus.proofOfStake` (or leave it out: `auto`), which keeps them in objects applied beside the release; \
             or use fewer validators (about {RELEASE_CAPACITY} less {RELEASE_POD_COST} per pod); or, when the release is stored elsewhere (Helm's SQL storage driver, `HELM_DRIVER=sql`), pass `--no-size-limit`"
        ));
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: u64 = 1_798_761_600;
    const DAY: u64 = 86_400;

    /// A valid proof-of-stake network whose genesis is `genesis`.
    fn pos_network(genesis: u64) -> String {
        format!(
            "network: {{name: stake, chainId: 4343, genesisTimestamp: {genesis}, \
             consensus: {{proofOfStake: {{preset: minimal, client: {{prysm: {{beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}}}}}}}\n\
             geth: {{version: v1.17.10}}\n\
             nodes:\n  - {{name: val, role: validator, replicas: 4, validatorsPerPod: 4}}\n"
        )
    }

    /// The genesis-age warnings of `text` checked at `now`.
    fn genesis_warnings(text: &str, now: u64) -> Vec<String> {
        let checked = check(text, now).unwrap_or_else(|d| panic!("{d:?}"));
        checked
            .warnings
            .iter()
            .filter(|w| w.path == display_path("/network/genesisTimestamp"))
            .map(|w| w.message.clone())
            .collect()
    }

    /// The one rule that depends on the moment of the check gets it as an input:
    /// fixed times on both sides of "a day past genesis", whatever the clock says.
    #[test]
    fn a_genesis_more_than_a_day_past_warns_and_one_within_a_day_does_not() {
        let text = pos_network(GENESIS);
        for now in [
            0,
            GENESIS - DAY,
            GENESIS - 1,
            GENESIS,
            GENESIS + 1,
            GENESIS + DAY,
        ] {
            assert_eq!(
                genesis_warnings(&text, now),
                Vec::<String>::new(),
                "now = {now}"
            );
        }
        for (now, days) in [
            (GENESIS + DAY + 1, "1 day ago"),
            (GENESIS + 2 * DAY - 1, "1 day ago"),
            (GENESIS + 2 * DAY, "2 days ago"),
            (GENESIS + 400 * DAY, "400 days ago"),
        ] {
            let got = genesis_warnings(&text, now);
            assert_eq!(got.len(), 1, "now = {now}: {got:?}");
            assert!(
                got[0].starts_with(&format!("genesis was {days}:")),
                "now = {now}: {}",
                got[0]
            );
        }
        // The rest of the check does not depend on `now`.
        let without = |now| {
            let mut w: Vec<String> = check(&text, now)
                .unwrap()
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect();
            w.retain(|m| !m.contains("genesis was"));
            w
        };
        assert_eq!(without(GENESIS), without(GENESIS + 400 * DAY));
    }

    #[test]
    fn the_genesis_age_never_overflows() {
        assert_eq!(days_past(u64::MAX, 0), None);
        assert_eq!(days_past(0, u64::MAX), Some(u64::MAX / DAY));
        assert_eq!(days_past(GENESIS, GENESIS + DAY), None);
        assert_eq!(days_past(GENESIS, GENESIS + DAY + 1), Some(1));
        let far = pos_network(u64::MAX);
        assert_eq!(genesis_warnings(&far, u64::MAX), Vec::<String>::new());
        assert_eq!(genesis_warnings(&far, 0), Vec::<String>::new());
        assert_eq!(genesis_warnings(&pos_network(0), u64::MAX).len(), 1);
    }

    /// A proof-of-stake network of `groups` (replicas, validators per pod).
    fn pos_groups(groups: &[(u64, u64)]) -> String {
        let mut text = String::from(
            "network: {name: stake, chainId: 4343, genesisTimestamp: 1798761600, \
             consensus: {proofOfStake: {largeObjects: release}}}\ngeth: {version: v1.17.10}\nnodes:\n",
        );
        for (j, (replicas, per_pod)) in groups.iter().enumerate() {
            text.push_str(&format!(
                "  - {{name: v{j}, role: validator, replicas: {replicas}, validatorsPerPod: {per_pod}}}\n"
            ));
        }
        text
    }

    /// The errors of `text` under `limit`, as `path: message`.
    fn errors(text: &str, limit: ReleaseLimit) -> Vec<String> {
        let ctx = Context {
            now: GENESIS,
            release_limit: limit,
        };
        match check(text, ctx) {
            Ok(_) => Vec::new(),
            Err(diags) => diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect(),
        }
    }

    /// Prysm's official images are mainnet builds: the minimal preset needs images the
    /// network names, for the beacon node and the validator client alike.
    #[test]
    fn the_minimal_preset_needs_prysm_images_built_for_it() {
        let minimal = pos_network(GENESIS);
        let official = |client: &str| {
            minimal.replace(
                &minimal[minimal.find(", client:").unwrap()..minimal.find("}}}\ngeth").unwrap()],
                client,
            )
        };
        assert_eq!(
            errors(&minimal, ReleaseLimit::Enforce),
            Vec::<String>::new()
        );
        for client in [
            "",
            ", client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain}}",
            ", client: {prysm: {validatorImage: example.com/prysm-minimal/validator}}",
        ] {
            let errs = errors(&official(client), ReleaseLimit::Enforce);
            assert_eq!(errs.len(), 1, "{client}: {errs:?}");
            assert!(
                errs[0].starts_with("network.consensus.proofOfStake.preset: `preset: minimal` needs Prysm images built for the minimal preset"),
                "{errs:?}"
            );
        }
        let mainnet = official("").replace("preset: minimal", "preset: mainnet");
        assert_eq!(
            errors(&mainnet, ReleaseLimit::Enforce),
            Vec::<String>::new()
        );
    }

    /// The release limit counts every validator group, refuses at the group that
    /// crosses it, and is lifted by `ReleaseLimit::Ignore` (export, inspect,
    /// `--no-size-limit`), under the compiler's own bound.
    #[test]
    fn the_release_limit_is_found_at_the_group_that_crosses_it() {
        let cap = RELEASE_CAPACITY;
        let cost = RELEASE_POD_COST;
        // Exactly full: one pod, pods of 96 (100 with their cost), two groups.
        let exact = [
            pos_groups(&[(1, cap - cost)]),
            pos_groups(&[(cap / 100, 100 - cost)]),
            pos_groups(&[(1, cap / 2 - cost), (1, cap / 2 - cost)]),
        ];
        assert_eq!(cap % 100, 0);
        for text in &exact {
            assert_eq!(
                errors(text, ReleaseLimit::Enforce),
                Vec::<String>::new(),
                "{text}"
            );
        }
        for (groups, path, count) in [
            (
                &[(1, cap - cost + 1)][..],
                "nodes[0].validatorsPerPod",
                "in 1 pod of",
            ),
            (
                &[(1, cap - cost), (3, 1)][..],
                "nodes[1].validatorsPerPod",
                "3 pods of 1 take the weight",
            ),
            (
                &[(1, 1), (2, cap / 2 - cost), (1, 5)][..],
                "nodes[1].validatorsPerPod",
                "2 pods of",
            ),
        ] {
            let text = pos_groups(groups);
            let total: u64 = groups.iter().map(|(r, p)| r * p).sum();
            let got = errors(&text, ReleaseLimit::Enforce);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            let e = &got[0];
            for part in [
                &format!("{path}: {total} genesis validators"),
                &format!("at most {cap}"),
                count,
                "1 MiB",
                "--no-size-limit",
                "HELM_DRIVER=sql",
            ] {
                assert!(e.contains(part), "{text}: `{part}` not in {e}");
            }
            assert_eq!(
                errors(&text, ReleaseLimit::Ignore),
                Vec::<String>::new(),
                "{text}"
            );
            // Left to `auto` (or `separate`), the network goes beside the release.
            for other in ["auto", "separate"] {
                let text = text.replace("largeObjects: release", &format!("largeObjects: {other}"));
                assert_eq!(
                    errors(&text, ReleaseLimit::Enforce),
                    Vec::<String>::new(),
                    "{text}"
                );
            }
        }
        // Past the compiler's own bound, that bound is what is reported, either way.
        let huge = pos_groups(&[(11, 100_000)]);
        const { assert!(11 * 100_000 > MAX_VALIDATORS) };
        for limit in [ReleaseLimit::Enforce, ReleaseLimit::Ignore] {
            let got = errors(&huge, limit);
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(
                got[0].contains("the compiler builds a genesis registry of at most"),
                "{got:?}"
            );
        }
    }

    #[test]
    fn suggestions() {
        let known = vec!["replicas".to_string(), "role".to_string()];
        assert_eq!(closest("replica", &known).as_deref(), Some("replicas"));
        assert_eq!(closest("zzz", &known), None);
    }

    /// Every pair of a group's ports clashes in turn, whether or not the two are
    /// neighbours in the order the ports are listed.
    #[test]
    fn a_port_clash_is_found_between_any_two_ports_of_a_group() {
        let names = ["p2pPort", "metricsPort", "rpc.httpPort", "rpc.wsPort"];
        let defaults = [30303, 6060, 8545, 8546];
        for a in 0..names.len() {
            for b in a + 1..names.len() {
                let mut ports = defaults;
                (ports[a], ports[b]) = (40000, 40000);
                let text = format!(
                    "network: {{name: n, chainId: 31337, consensus: {{clique: {{}}}}}}\n\
                     nodes:\n  - {{name: signer, role: signer, replicas: 3}}\n  \
                     - {{name: rpc, role: rpc, p2pPort: {}, metricsPort: {}, \
                     rpc: {{http: true, ws: true, httpPort: {}, wsPort: {}}}}}\n",
                    ports[0], ports[1], ports[2], ports[3]
                );
                let diags = match check(&text, 0) {
                    Ok(_) => panic!("{} = {} passed", names[a], names[b]),
                    Err(d) => d,
                };
                assert!(
                    diags.iter().any(|d| {
                        let m = d.to_string();
                        m.contains("port 40000 is used by both")
                            && m.contains(names[a])
                            && m.contains(names[b])
                    }),
                    "{} = {}: {diags:?}",
                    names[a],
                    names[b]
                );
            }
        }
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
