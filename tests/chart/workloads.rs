//! Workloads: StatefulSets follow the values, stable selectors, every container sized.

use std::collections::BTreeSet;
use std::fs;

use serde_json::{json, Value};

use crate::args::flag;
use crate::support::{
    compile, container, containers, examples, init_container, kind, name, network_name,
    node_groups, of_kind, parse_docs, pos_example, read_yaml, render, scratch, selects, str_map,
    strings, RELEASE, ROLLOUT_HOLD,
};

/// `repository:tag` of an image block of the values.
fn image_of(image: &Value) -> String {
    format!(
        "{}:{}",
        image["repository"].as_str().unwrap(),
        image["tag"].as_str().unwrap()
    )
}

#[test]
fn workload_selectors_are_stable_and_match_their_pods() {
    for ex in examples() {
        let docs = ex.render();
        for o in docs
            .iter()
            .filter(|o| matches!(kind(o), "StatefulSet" | "Deployment"))
        {
            let sel = str_map(&o["spec"]["selector"]["matchLabels"]);
            let labels = str_map(&o["spec"]["template"]["metadata"]["labels"]);
            assert!(selects(&sel, &labels), "{}: {} selector", ex.name, name(o));
            assert!(
                !sel.contains_key("app.kubernetes.io/version"),
                "{}: {} selector has the version label (immutable!)",
                ex.name,
                name(o)
            );
            if kind(o) == "StatefulSet" {
                let vct = &o["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"];
                assert!(
                    vct.get("app.kubernetes.io/version").is_none(),
                    "{}: {} volumeClaimTemplates carry the version label (immutable!)",
                    ex.name,
                    name(o)
                );
                assert_eq!(o["spec"]["podManagementPolicy"], "Parallel");
                assert_eq!(o["spec"]["updateStrategy"]["type"], "RollingUpdate");
            }
        }
        for pdb in of_kind(&docs, "PodDisruptionBudget") {
            let sel = str_map(&pdb["spec"]["selector"]["matchLabels"]);
            assert!(!sel.contains_key("app.kubernetes.io/version"));
        }
    }
}

#[test]
fn statefulsets_follow_the_values() {
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = public["network"]["name"].as_str().unwrap();
        for g in public["nodeGroups"].as_array().unwrap() {
            let gname = g["name"].as_str().unwrap();
            let sts = docs
                .iter()
                .find(|o| kind(o) == "StatefulSet" && name(o) == format!("{net}-{gname}"))
                .unwrap_or_else(|| panic!("{}: no StatefulSet {net}-{gname}", ex.name));
            assert_eq!(sts["spec"]["replicas"], g["replicas"]);
            // A coordinated group's StatefulSet holds every pod; the rollout Job walks
            // it down to the group's partition (rollout_job_replaces_one_coordinated_pod_at_a_time).
            let held = if g["updateStrategy"]["coordinated"] == true {
                json!(ROLLOUT_HOLD)
            } else {
                g["updateStrategy"]["partition"].clone()
            };
            assert_eq!(
                sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
                held
            );
            let spec = &sts["spec"]["template"]["spec"];
            let geth = &spec["containers"][0];
            assert_eq!(geth["args"], g["args"], "{}: geth args", ex.name);
            let image = format!(
                "{}:{}",
                g["image"]["repository"].as_str().unwrap(),
                g["image"]["tag"].as_str().unwrap()
            );
            // geth's image runs every container but the Prysm ones (proof of stake),
            // which run the compiled Prysm images with the compiled flags.
            let pos = &public["proofOfStake"];
            for c in containers(spec) {
                let (want_image, want_args) = match c["name"].as_str().unwrap() {
                    "beacon" => (image_of(&pos["beaconImage"]), Some(&g["beaconArgs"])),
                    "validator" => (image_of(&pos["validatorImage"]), Some(&g["validatorArgs"])),
                    _ => (image.clone(), None),
                };
                assert_eq!(c["image"], json!(want_image), "{}: {}", ex.name, c["name"]);
                if let Some(args) = want_args {
                    assert_eq!(&c["args"], args, "{}: {gname} {} args", ex.name, c["name"]);
                    assert!(
                        c.get("command").is_none(),
                        "{}: the image's entrypoint runs",
                        ex.name
                    );
                }
            }
            let names: Vec<&str> = spec["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            let want: &[&str] = match (pos.is_object(), g["role"].as_str().unwrap()) {
                (false, "signer") if g["resources"]["voteSigners"].is_object() => {
                    &["geth", "vote-signers"]
                }
                (false, _) => &["geth"],
                (true, "validator") => &["geth", "beacon", "validator"],
                (true, _) => &["geth", "beacon"],
            };
            assert_eq!(names, want, "{}: containers of {gname}", ex.name);
            let wrapper = geth["command"][2].as_str().unwrap();
            assert_eq!(
                wrapper.contains("--unlock="),
                g["unlockSigner"].as_bool().unwrap(),
                "{}: --unlock only when unlockSigner",
                ex.name
            );
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            assert_eq!(
                labels["app.kubernetes.io/version"],
                g["gethVersion"].as_str().unwrap()
            );
            assert_eq!(
                labels["app.kubernetes.io/component"],
                g["role"].as_str().unwrap()
            );
            assert_eq!(labels["kuberneteth.io/group"], gname);
            assert_eq!(labels["app.kubernetes.io/part-of"], net);
            assert_eq!(labels["app.kubernetes.io/instance"], RELEASE);
            // Storage.
            let pvc = &sts["spec"]["volumeClaimTemplates"][0]["spec"];
            assert_eq!(
                pvc["resources"]["requests"]["storage"],
                g["storage"]["size"]
            );
            let class = g["storage"]["storageClass"].as_str().unwrap();
            if class.is_empty() {
                assert!(pvc.get("storageClassName").is_none());
            } else {
                assert_eq!(pvc["storageClassName"], class);
            }
            // Every ConfigMap and Secret the pods mount is rendered.
            for v in spec["volumes"].as_array().unwrap() {
                for (key, k, field) in [
                    ("configMap", "ConfigMap", "name"),
                    ("secret", "Secret", "secretName"),
                ] {
                    if let Some(n) = v[key][field].as_str() {
                        assert!(
                            docs.iter().any(|o| kind(o) == k && name(o) == n),
                            "{}: {k} {n} mounted but not rendered",
                            ex.name
                        );
                    }
                }
            }
            // Peer hosts resolved by the init step.
            let prepare = init_container(spec, "prepare");
            let env = prepare["env"].as_array().unwrap();
            let hosts = env.iter().find(|e| e["name"] == "PEER_HOSTS").unwrap();
            let want: Vec<&str> = g["peerHosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect();
            assert_eq!(hosts["value"], json!(want.join(" ")));
        }
    }
}

/// Every container a compiled network runs (init steps, geth, Prysm, ethstats, the
/// rollout Job's steps, the test) asks for CPU and memory and has a memory limit; none
/// has a CPU limit (it would throttle a node that is catching up). A validator pod's
/// containers are sized apart: the group's `resources` is no longer copied to each.
#[test]
fn every_container_asks_for_cpu_and_memory_and_has_a_memory_limit() {
    for ex in examples().iter().filter(|ex| ex.compiled) {
        let docs = ex.render();
        let mut seen = BTreeSet::new();
        for o in &docs {
            let spec = match kind(o) {
                "StatefulSet" | "Deployment" | "Job" => &o["spec"]["template"]["spec"],
                "Pod" => &o["spec"],
                _ => continue,
            };
            for c in containers(spec) {
                let ctx = format!("{}: {}/{} {}", ex.name, kind(o), name(o), c["name"]);
                let r = &c["resources"];
                for (kind, key) in [
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "memory"),
                ] {
                    assert!(r[kind][key].is_string(), "{ctx}: no {kind}.{key} in {r}");
                }
                assert!(r["limits"]["cpu"].is_null(), "{ctx}: a CPU limit");
                seen.insert(c["name"].as_str().unwrap_or_default().to_string());
            }
        }
        if ex.public()["proofOfStake"].is_object() {
            for c in ["geth", "beacon", "validator", "init-genesis", "prepare"] {
                assert!(seen.contains(c), "{}: no container {c}", ex.name);
            }
            let net = network_name(&ex.public()).to_string();
            for g in node_groups(&ex.public())
                .iter()
                .filter(|g| g["role"] == "validator")
            {
                let group = g["name"].as_str().unwrap();
                let memory = |c: &str| {
                    container(&docs, &net, group, c)["resources"]["requests"]["memory"].clone()
                };
                assert_ne!(memory("geth"), memory("beacon"), "{}: {group}", ex.name);
                assert_ne!(
                    memory("beacon"),
                    memory("validator"),
                    "{}: {group}",
                    ex.name
                );
            }
        }
    }
}

/// Each container's size is its own: set in the file for geth, the beacon node and
/// the validator client apart, key by key over the role's defaults; geth's `--cache`
/// is a quarter of geth's own memory limit.
#[test]
fn pos_each_container_is_sized_on_its_own_and_geths_cache_follows_its_limit() {
    let ex = pos_example("network:pos-tiny");
    let (config, _) = ex.source.as_ref().unwrap();
    let text = fs::read_to_string(config).unwrap();
    let marker = "    validatorsPerPod: 4\n";
    assert!(text.contains(marker));
    let cfg_text = text.replacen(
        marker,
        &format!(
            "{marker}    resources:\n      geth: {{limits: {{memory: 8Gi}}}}\n      \
             beacon: {{requests: {{cpu: 750m}}}}\n      validator: {{requests: {{memory: 200Mi}}}}\n"
        ),
        1,
    );
    let dir = scratch().join("sized");
    fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("kuberneteth.yaml");
    fs::write(&cfg, cfg_text).unwrap();
    let (v, s) = compile(&cfg, &dir.join("compiled"));
    let docs = parse_docs(&render(&[&v, &s]));
    let public = read_yaml(&v);
    let net = network_name(&public).to_string();
    let r = |group: &str, c: &str| container(&docs, &net, group, c)["resources"].clone();
    assert_eq!(r("validator", "geth")["limits"]["memory"], "8Gi");
    assert_eq!(r("validator", "geth")["requests"]["memory"], "256Mi");
    assert_eq!(r("validator", "beacon")["requests"]["cpu"], "750m");
    assert_eq!(r("validator", "beacon")["limits"]["memory"], "2Gi");
    assert_eq!(r("validator", "validator")["requests"]["memory"], "200Mi");
    assert_eq!(r("validator", "validator")["requests"]["cpu"], "50m");
    // The rpc group keeps its defaults, a larger geth.
    assert_eq!(r("rpc", "geth")["limits"]["memory"], "4Gi");
    let cache = |group: &str| {
        flag(
            &strings(&container(&docs, &net, group, "geth")["args"]),
            "--cache",
        )
        .map(String::from)
    };
    assert_eq!(cache("validator").as_deref(), Some("2048"));
    assert_eq!(cache("rpc").as_deref(), Some("1024"));
}
