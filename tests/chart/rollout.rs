//! Upgrades: the rollout Job, pod-template checksums, geth and Prysm version bumps.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{
    base64, compile, containers, default_example, examples, exported_consensus, kind, name,
    network_name, node_groups, of_kind, parse_docs, pos_example, read_yaml, render, scratch,
    sha256_hex, top, write_json, Example, NAMESPACE, RELEASE, ROLLOUT_HOLD,
};

#[test]
fn rollout_job_replaces_one_coordinated_pod_at_a_time() {
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = public["network"]["name"].as_str().unwrap();
        let groups: Vec<&Value> = public["nodeGroups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["updateStrategy"]["coordinated"] == true)
            .collect();
        // Signers, validators and bootnodes are coordinated; rpc and full nodes roll
        // on their own.
        for g in public["nodeGroups"].as_array().unwrap() {
            let stable = matches!(
                g["role"].as_str().unwrap(),
                "signer" | "validator" | "bootnode"
            );
            assert_eq!(
                g["updateStrategy"]["coordinated"] == true,
                stable,
                "{}",
                ex.name
            );
        }
        let job = docs
            .iter()
            .find(|o| kind(o) == "Job" && name(o) == format!("{net}-rollout"))
            .unwrap_or_else(|| panic!("{}: no rollout Job", ex.name));
        assert_eq!(
            job["metadata"]["annotations"]["helm.sh/hook"],
            "post-upgrade,post-rollback"
        );
        let spec = &job["spec"]["template"]["spec"];
        assert_eq!(spec["serviceAccountName"], format!("{net}-rollout"));
        let steps: Vec<Vec<String>> = containers(spec)
            .into_iter()
            .map(|c| {
                assert_eq!(c["command"], json!(["/bin/kubectl"]), "{}", ex.name);
                c["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .collect();
        let ns = format!("--namespace={NAMESPACE}");
        let patch = |sts: &str, partition: i64| {
            vec![
                "patch".to_string(),
                "statefulset".into(),
                sts.into(),
                ns.clone(),
                "--type=merge".into(),
                format!(
                    r#"--patch={{"spec":{{"updateStrategy":{{"rollingUpdate":{{"partition":{partition}}}}}}}}}"#
                ),
            ]
        };
        let timeout = format!("--timeout={}s", public["rollout"]["podReadySeconds"]);
        let status = |sts: &str| {
            vec![
                "rollout".to_string(),
                "status".into(),
                "statefulset".into(),
                sts.into(),
                ns.clone(),
                timeout.clone(),
            ]
        };
        let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
        let all_ready = vec![
            "wait".to_string(),
            "pod".into(),
            "--for=condition=Ready".into(),
            format!(
                "--selector=app.kubernetes.io/instance={RELEASE},kuberneteth.io/group in ({})",
                names.join(",")
            ),
            ns.clone(),
            timeout.clone(),
        ];
        // Every coordinated group Ready; then pod by pod, group by group, highest
        // ordinal first down to the partition: all Ready, replace, replaced and the
        // group Ready; then every StatefulSet holds again.
        let sts = |g: &Value| format!("{net}-{}", g["name"].as_str().unwrap());
        let mut want: Vec<Vec<String>> = groups.iter().map(|g| status(&sts(g))).collect();
        for g in &groups {
            let (replicas, partition) = (
                g["replicas"].as_i64().unwrap(),
                g["updateStrategy"]["partition"].as_i64().unwrap(),
            );
            for ordinal in (partition..replicas).rev() {
                want.push(all_ready.clone());
                want.push(patch(&sts(g), ordinal));
                want.push(status(&sts(g)));
            }
        }
        want.extend(groups.iter().map(|g| patch(&sts(g), ROLLOUT_HOLD)));
        assert_eq!(steps, want, "{}: rollout steps", ex.name);
        // Least privilege: the coordinated StatefulSets by name (read, patch), pods (read).
        let role = docs
            .iter()
            .find(|o| kind(o) == "Role" && name(o) == format!("{net}-rollout"))
            .unwrap_or_else(|| panic!("{}: no rollout Role", ex.name));
        let rules = role["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2, "{}", ex.name);
        let sts_names: Vec<String> = groups.iter().map(|g| sts(g)).collect();
        assert_eq!(rules[0]["resources"], json!(["statefulsets"]));
        assert_eq!(rules[0]["resourceNames"], json!(sts_names));
        assert_eq!(rules[0]["verbs"], json!(["get", "list", "watch", "patch"]));
        assert_eq!(rules[1]["resources"], json!(["pods"]));
        assert_eq!(rules[1]["verbs"], json!(["get", "list", "watch"]));
        let binding = docs
            .iter()
            .find(|o| kind(o) == "RoleBinding" && name(o) == format!("{net}-rollout"))
            .unwrap();
        assert_eq!(binding["subjects"][0]["name"], format!("{net}-rollout"));
    }
}

/// Pod template annotations by StatefulSet name.
fn checksums(docs: &[Value]) -> BTreeMap<String, (String, String)> {
    of_kind(docs, "StatefulSet")
        .into_iter()
        .map(|s| {
            let a = &s["spec"]["template"]["metadata"]["annotations"];
            (
                name(s).to_string(),
                (
                    a["checksum/config"].as_str().unwrap().to_string(),
                    a["checksum/secret"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn render_modified(ex: &Example, tag: &str, f: impl FnOnce(&mut Value, &mut Value)) -> Vec<Value> {
    let dir = scratch().join("modified").join(tag);
    fs::create_dir_all(&dir).unwrap();
    let mut public = ex.public();
    let mut private = ex.private();
    f(&mut public, &mut private);
    let (v, s) = (dir.join("values.json"), dir.join("secrets.json"));
    write_json(&v, &public);
    write_json(&s, &private);
    parse_docs(&render(&[&v, &s]))
}

#[test]
fn checksums_change_with_what_the_pods_read_and_nothing_else() {
    let ex = default_example();
    let base = checksums(&ex.render());
    let public = ex.public();
    let net = public["network"]["name"].as_str().unwrap().to_string();
    let groups: Vec<String> = public["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| format!("{net}-{}", g["name"].as_str().unwrap()))
        .collect();
    assert!(
        groups.len() >= 2,
        "default network needs two groups for this test"
    );

    // Same values, again: nothing changes.
    assert_eq!(checksums(&render_modified(ex, "same", |_, _| {})), base);

    // A group's geth config: only that group's checksum/config.
    let after = checksums(&render_modified(ex, "config", |p, _| {
        let c = p["nodeGroups"][0]["config"].as_str().unwrap().to_string();
        p["nodeGroups"][0]["config"] = json!(format!("{c}# changed\n"));
    }));
    for g in &groups {
        let changed = g == &groups[0];
        assert_eq!(after[g].0 != base[g].0, changed, "checksum/config of {g}");
        assert_eq!(after[g].1, base[g].1, "checksum/secret of {g}");
    }

    // A node key of the first group: only that group's checksum/secret.
    let first_node = public["nodeGroups"][0]["nodes"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let after = checksums(&render_modified(ex, "nodekey", |_, s| {
        s["secrets"]["nodeKeys"][&first_node] = json!("11".repeat(32));
    }));
    for g in &groups {
        let changed = g == &groups[0];
        assert_eq!(after[g].1 != base[g].1, changed, "checksum/secret of {g}");
        assert_eq!(after[g].0, base[g].0, "checksum/config of {g}");
    }

    // The genesis: every group's checksum/config.
    let after = checksums(&render_modified(ex, "genesis", |p, _| {
        let g = p["genesis"]["json"].as_str().unwrap().to_string();
        p["genesis"]["json"] = json!(format!("{g}\n"));
    }));
    for g in &groups {
        assert_ne!(
            after[g].0, base[g].0,
            "checksum/config of {g} after a genesis change"
        );
    }

    // The ethstats secret: every group's checksum/secret.
    let after = checksums(&render_modified(ex, "ethstats", |_, s| {
        s["secrets"]["ethstatsSecret"] = json!("another-ethstats-secret");
    }));
    for g in &groups {
        assert_ne!(
            after[g].1, base[g].1,
            "checksum/secret of {g} after an ethstats change"
        );
    }

    // Scaling knobs that the pods do not read leave the checksums alone.
    let after = checksums(&render_modified(ex, "knobs", |p, _| {
        p["nodeGroups"][0]["updateStrategy"]["partition"] = json!(1);
        p["nodeGroups"][0]["storage"]["size"] = json!("20Gi");
        p["metrics"]["serviceMonitor"]["enabled"] = json!(true);
    }));
    assert_eq!(after, base);
}

/// Leaf differences between two objects: (path, before, after).
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, String, String)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(
                    &format!("{path}/{k}"),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), p, q, out);
            }
        }
        _ if a != b => out.push((path.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}

#[test]
fn a_geth_version_bump_changes_only_image_tags_and_version_labels() {
    let ex = default_example();
    let (old, new) = if ex.compiled {
        let text = fs::read_to_string(top().join("values/kuberneteth.yaml")).unwrap();
        let version = ex.public()["nodeGroups"][0]["gethVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let other = if version == "v1.13.14" {
            "v1.13.15"
        } else {
            "v1.13.14"
        };
        assert!(
            text.contains(&version),
            "values/kuberneteth.yaml names {version}"
        );
        let dir = scratch().join("version-bump");
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, text.replace(&version, other)).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        (ex.render(), parse_docs(&render(&[&v, &s])))
    } else {
        let new = render_modified(ex, "version", |p, _| {
            for g in p["nodeGroups"].as_array_mut().unwrap() {
                g["gethVersion"] = json!("v1.13.14");
                g["image"]["tag"] = json!("v1.13.14");
            }
        });
        (ex.render(), new)
    };
    assert_eq!(
        old.len(),
        new.len(),
        "the version bump changed the set of objects"
    );
    let mut changes = Vec::new();
    for (a, b) in old.iter().zip(&new) {
        assert_eq!((kind(a), name(a)), (kind(b), name(b)));
        diff(&format!("{}/{}", kind(a), name(a)), a, b, &mut changes);
    }
    assert!(!changes.is_empty(), "the version bump changed nothing");
    for (path, before, after) in &changes {
        let ok = path.ends_with("/image") || path.ends_with("/labels/app.kubernetes.io/version");
        assert!(ok, "a version bump changed {path}: {before} -> {after}");
        if path.ends_with("/image") {
            assert!(before.contains("client-go"), "{path}");
        }
    }
    // Workloads whose pods roll: exactly the geth StatefulSets (and the test pod).
    let rolled: BTreeSet<&str> = changes
        .iter()
        .filter(|(p, _, _)| p.ends_with("/image"))
        .map(|(p, _, _)| p.split('/').next().unwrap())
        .collect();
    assert!(rolled.contains("StatefulSet"));
    assert!(
        !rolled.contains("Deployment"),
        "the ethstats Deployment must not roll"
    );
}

/// checksum/config follows the consensus ConfigMap (genesis state, config.yaml): a
/// new chain restarts every pod; a beacon key or wallet changes only its group's
/// checksum/secret.
#[test]
fn pos_checksums_follow_the_genesis_state_config_and_beacon_secrets() {
    let ex = pos_example("network:pos-groups");
    let base = checksums(&ex.render());
    let public = ex.public();
    let net = network_name(&public).to_string();
    let groups: Vec<String> = node_groups(&public)
        .iter()
        .map(|g| format!("{net}-{}", g["name"].as_str().unwrap()))
        .collect();
    // Another genesis state, as a compile would write it: its one part and the checksums.
    let other_state = {
        let mut state = exported_consensus(ex).1;
        state[0] ^= 1;
        let dir = scratch().join("modified");
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("genesis.ssz");
        fs::write(&f, &state).unwrap();
        let gz = Command::new("gzip")
            .arg("-c")
            .arg(&f)
            .output()
            .unwrap()
            .stdout;
        (sha256_hex(&state), sha256_hex(&gz), base64(&gz))
    };
    for (tag, change) in [
        (
            "genesis-state",
            Box::new(move |p: &mut Value| {
                let (state_sum, part_sum, part) = other_state;
                let s = &mut p["proofOfStake"]["genesisState"];
                assert_eq!(s["parts"].as_array().unwrap().len(), 1);
                s["sha256"] = json!(state_sum);
                s["parts"][0]["sha256"] = json!(part_sum);
                s["parts"][0]["data"] = json!(part);
            }) as Box<dyn FnOnce(&mut Value)>,
        ),
        (
            "chain-config",
            Box::new(|p: &mut Value| {
                let c = p["proofOfStake"]["chainConfig"]
                    .as_str()
                    .unwrap()
                    .to_string();
                p["proofOfStake"]["chainConfig"] =
                    json!(c.replace("SECONDS_PER_SLOT: 4", "SECONDS_PER_SLOT: 5"));
                assert_ne!(
                    p["proofOfStake"]["chainConfig"].as_str().unwrap(),
                    c,
                    "config.yaml has SECONDS_PER_SLOT: 4"
                );
            }),
        ),
    ] {
        let after = checksums(&render_modified(ex, tag, |p, _| change(p)));
        for g in &groups {
            assert_ne!(
                after[g].0, base[g].0,
                "checksum/config of {g} after a {tag} change"
            );
            assert_eq!(
                after[g].1, base[g].1,
                "checksum/secret of {g} after a {tag} change"
            );
        }
    }
    // One pod's beacon key, then one validator pod's wallet password: that group only.
    let first = |i: usize| {
        public["nodeGroups"][i]["nodes"][0]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (p0, p1) = (first(0), first(1));
    for (tag, at) in [("beacon-key", 0), ("wallet", 1)] {
        let (p0, p1) = (p0.clone(), p1.clone());
        let after = checksums(&render_modified(ex, tag, move |_, s| {
            if at == 0 {
                s["secrets"]["beacon"][&p0]["nodeKey"] = json!("22".repeat(32));
            } else {
                s["secrets"]["validatorWallets"][&p1]["password"] = json!("another-password");
            }
        }));
        for (i, g) in groups.iter().enumerate() {
            assert_eq!(
                after[g].1 != base[g].1,
                i == at,
                "checksum/secret of {g} after a {tag} change"
            );
            assert_eq!(
                after[g].0, base[g].0,
                "checksum/config of {g} after a {tag} change"
            );
        }
    }
}

/// A Prysm release bump is a rolling upgrade: only the Prysm containers' image tags
/// change; chain, keys, flags and identities stay.
#[test]
fn pos_a_prysm_version_bump_changes_only_prysm_image_tags() {
    let ex = pos_example("network:pos-tiny");
    let (config, _) = ex.source.as_ref().unwrap();
    let text = fs::read_to_string(config).unwrap();
    let render_with = |version: &str| {
        let marker = "        prysm:\n";
        assert!(text.contains(marker));
        let cfg_text = text.replace(marker, &format!("{marker}          version: {version}\n"));
        let dir = scratch().join("prysm-bump").join(version);
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, cfg_text).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        (parse_docs(&render(&[&v, &s])), read_yaml(&s))
    };
    let (old, old_secrets) = render_with("v7.0.0");
    let (new, new_secrets) = render_with("v7.1.2");
    assert_eq!(
        old_secrets["secrets"]["beacon"],
        new_secrets["secrets"]["beacon"]
    );
    assert_eq!(
        old_secrets["secrets"]["nodeKeys"],
        new_secrets["secrets"]["nodeKeys"]
    );
    assert_eq!(
        old.len(),
        new.len(),
        "the Prysm bump changed the set of objects"
    );
    let mut changes = Vec::new();
    for (a, b) in old.iter().zip(&new) {
        assert_eq!((kind(a), name(a)), (kind(b), name(b)));
        if kind(a) == "Secret" {
            assert_eq!(a, b, "Secret {} changed", name(a));
        }
        diff(&format!("{}/{}", kind(a), name(a)), a, b, &mut changes);
    }
    assert!(!changes.is_empty(), "the Prysm bump changed nothing");
    for (path, before, after) in &changes {
        assert!(
            path.starts_with("StatefulSet/")
                && path.contains("/spec/template/spec/containers/")
                && path.ends_with("/image"),
            "a Prysm bump changed {path}: {before} -> {after}"
        );
        assert!(
            before.contains("prysm") && before.contains(":v7.0.0"),
            "{path}: {before}"
        );
        assert!(after.contains(":v7.1.2"), "{path}: {after}");
    }
    // Every Prysm container rolled: the beacon node in each StatefulSet, the validator
    // client in the validator group.
    let statefulsets = of_kind(&new, "StatefulSet").len();
    let validator_groups = of_kind(&new, "StatefulSet")
        .iter()
        .filter(|s| {
            s["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                == "validator"
        })
        .count();
    assert_eq!(
        changes.len(),
        statefulsets + validator_groups,
        "{changes:?}"
    );
}
