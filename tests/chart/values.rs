//! Values the chart refuses: malformed values (the schema), a pair from two compiles.

use std::fs;

use serde_json::{json, Value};

use crate::support::{chart_dir, default_example, scratch, try_render, write_json};

#[test]
fn the_schema_refuses_malformed_values() {
    let schema = chart_dir().join("values.schema.json");
    assert!(
        schema.is_file(),
        "chart/values.schema.json is missing: generate it with `make schema` \
         (kuberneteth-values schema --chart); without it Helm cannot refuse malformed values"
    );
    let ex = default_example();
    type Breaker = fn(&mut Value);
    let cases: Vec<(&str, Breaker)> = vec![
        ("replicas is a string", |p| {
            p["nodeGroups"][0]["replicas"] = json!("three")
        }),
        ("unknown role", |p| {
            p["nodeGroups"][0]["role"] = json!("miner")
        }),
        ("chainId is a string", |p| {
            p["network"]["chainId"] = json!("4242x")
        }),
        ("unknown service type", |p| {
            p["nodeGroups"][0]["rpc"]["service"]["type"] = json!("Public")
        }),
        ("unknown top-level key", |p| p["bogus"] = json!(1)),
        ("network name is not a DNS label", |p| {
            p["network"]["name"] = json!("Not_A_Label")
        }),
        ("nodeGroups is not a list", |p| p["nodeGroups"] = json!({})),
        ("keystore.secret is a string", |p| {
            p["keystore"]["secret"] = json!("yes")
        }),
    ];
    let dir = scratch().join("schema");
    fs::create_dir_all(&dir).unwrap();
    for (i, (what, breaker)) in cases.into_iter().enumerate() {
        let mut public = ex.public();
        breaker(&mut public);
        let v = dir.join(format!("case{i}.json"));
        write_json(&v, &public);
        match try_render(&[&v, &ex.secrets]) {
            Ok(_) => panic!("helm accepted values where {what}"),
            Err(e) => assert!(
                e.to_lowercase().contains("schema"),
                "{what}: helm failed, but not on the schema:\n{e}"
            ),
        }
    }
    // The chart's own defaults satisfy the schema.
    try_render(&[]).unwrap_or_else(|e| panic!("chart defaults break the schema:\n{e}"));
}

/// values.yaml and secrets.values.yaml carry one generation; the chart refuses a
/// pair from two compiles (nodes would start without their keys or with others').
#[test]
fn a_values_pair_from_two_compiles_is_refused() {
    let ex = default_example();
    if !ex.compiled {
        // Hand-made fixtures carry no generation, which is not checked.
        return;
    }
    let dir = scratch().join("generation");
    fs::create_dir_all(&dir).unwrap();
    let mut private = ex.private();
    private["secrets"]["generation"] = json!("0".repeat(64));
    let s = dir.join("secrets.json");
    write_json(&s, &private);
    let err = try_render(&[&ex.values, &s]).expect_err("a mixed pair must not render");
    assert!(err.contains("come from different compiles"), "{err}");
}
