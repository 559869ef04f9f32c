//! Security: private keys only in Secrets, hardened pods, P2P kept inside the release.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::support::{
    base64, base64_decode, container_ports, containers, examples, kind, name, of_kind, pod_specs,
    pods, pos_examples, selects, str_map, RELEASE,
};

/// Private strings of an example: (what, text).
fn private_strings(private: &Value) -> Vec<(String, String, bool)> {
    let s = &private["secrets"];
    let mut out = Vec::new();
    for (node, key) in s["nodeKeys"].as_object().unwrap() {
        out.push((
            format!("node key of {node}"),
            key.as_str().unwrap().to_string(),
            false,
        ));
    }
    for (node, ks) in s["signerKeystores"].as_object().unwrap() {
        let text = ks["json"].as_str().unwrap();
        out.push((format!("keystore of {node}"), text.to_string(), true));
        let parsed: Value = serde_json::from_str(text).unwrap();
        for f in ["ciphertext", "mac"] {
            let c = parsed["crypto"][f].as_str().unwrap().to_string();
            out.push((format!("keystore {f} of {node}"), c, true));
        }
    }
    for k in ["keystorePassword", "ethstatsSecret"] {
        out.push((k.to_string(), s[k].as_str().unwrap().to_string(), false));
    }
    // Proof of stake: beacon P2P keys, engine-API JWTs, validator wallets (never in a
    // ConfigMap, whatever keystore.secret says).
    for (node, b) in s["beacon"].as_object().into_iter().flatten() {
        for k in ["nodeKey", "jwtSecret"] {
            let v = b[k].as_str().unwrap().to_string();
            out.push((format!("beacon {k} of {node}"), v, false));
        }
    }
    for (node, w) in s["validatorWallets"].as_object().into_iter().flatten() {
        let password = w["password"].as_str().unwrap().to_string();
        out.push((format!("wallet password of {node}"), password, false));
        for (path, text) in w["files"].as_object().unwrap() {
            let text = text.as_str().unwrap();
            out.push((
                format!("wallet file {path} of {node}"),
                text.to_string(),
                false,
            ));
            let parsed: Value = serde_json::from_str(text).unwrap();
            if let Some(c) = parsed["crypto"]["cipher"]["message"].as_str() {
                out.push((format!("wallet ciphertext of {node}"), c.to_string(), false));
            }
        }
    }
    out
}

#[test]
fn no_private_key_material_outside_secrets() {
    for ex in examples() {
        let docs = ex.render();
        let keystore_secret = ex.public()["keystore"]["secret"].as_bool().unwrap();
        let private = private_strings(&ex.private());
        assert!(!private.is_empty());
        let mut keystores_in_configmaps = 0;
        for o in &docs {
            if kind(o) == "Secret" {
                continue;
            }
            let text = serde_json::to_string(o).unwrap();
            // Keystores may sit in the <net>-<group>-keystores ConfigMaps when asked for.
            let keystore_cm =
                !keystore_secret && kind(o) == "ConfigMap" && name(o).ends_with("-keystores");
            for (what, secret, is_keystore) in &private {
                if secret.len() < 8 {
                    continue;
                }
                let found =
                    text.contains(secret.as_str()) || text.contains(&base64(secret.as_bytes()));
                if found && *is_keystore && keystore_cm {
                    keystores_in_configmaps += 1;
                    continue;
                }
                assert!(
                    !found,
                    "{}: {what} appears in {} {}",
                    ex.name,
                    kind(o),
                    name(o)
                );
            }
        }
        if !keystore_secret {
            assert!(
                keystores_in_configmaps > 0,
                "{}: keystores not in ConfigMaps",
                ex.name
            );
        }
        // And the Secrets hold every private value whole: node keys, keystores (unless
        // asked into ConfigMaps), the keystore password, the ethstats secret.
        let values_of = |k: &str| -> BTreeSet<Vec<u8>> {
            of_kind(&docs, k)
                .iter()
                .flat_map(|o| o["data"].as_object().into_iter().flatten())
                .map(|(_, v)| {
                    let v = v.as_str().unwrap();
                    if k == "Secret" {
                        base64_decode(v)
                    } else {
                        v.as_bytes().to_vec()
                    }
                })
                .collect()
        };
        let (in_secrets, in_configmaps) = (values_of("Secret"), values_of("ConfigMap"));
        let private_values = ex.private();
        let s = &private_values["secrets"];
        let mut whole: Vec<(String, &str, bool)> = Vec::new();
        for (node, key) in s["nodeKeys"].as_object().unwrap() {
            whole.push((format!("node key of {node}"), key.as_str().unwrap(), true));
        }
        for (node, ks) in s["signerKeystores"].as_object().unwrap() {
            let json = ks["json"].as_str().unwrap();
            whole.push((format!("keystore of {node}"), json, keystore_secret));
        }
        if !s["signerKeystores"].as_object().unwrap().is_empty() {
            whole.push((
                "keystorePassword".into(),
                s["keystorePassword"].as_str().unwrap(),
                true,
            ));
        }
        whole.push((
            "ethstatsSecret".into(),
            s["ethstatsSecret"].as_str().unwrap(),
            true,
        ));
        for (node, b) in s["beacon"].as_object().into_iter().flatten() {
            for k in ["nodeKey", "jwtSecret"] {
                whole.push((
                    format!("beacon {k} of {node}"),
                    b[k].as_str().unwrap(),
                    true,
                ));
            }
        }
        for (node, w) in s["validatorWallets"].as_object().into_iter().flatten() {
            let password = w["password"].as_str().unwrap();
            whole.push((format!("wallet password of {node}"), password, true));
            for (path, text) in w["files"].as_object().unwrap() {
                whole.push((
                    format!("wallet file {path} of {node}"),
                    text.as_str().unwrap(),
                    true,
                ));
            }
        }
        for (what, text, secret) in whole {
            let holders = if secret { &in_secrets } else { &in_configmaps };
            assert!(
                holders.contains(text.as_bytes()),
                "{}: no {} holds the {what}",
                ex.name,
                if secret { "Secret" } else { "ConfigMap" }
            );
        }
    }
}

#[test]
fn every_pod_is_hardened() {
    for ex in examples() {
        let docs = ex.render();
        let specs = pod_specs(&docs);
        assert!(!specs.is_empty());
        for (at, spec) in specs {
            let ctx = format!("{}: {at}", ex.name);
            assert_eq!(spec["automountServiceAccountToken"], false, "{ctx}");
            let psc = &spec["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{ctx}");
            assert!(psc["runAsUser"].as_i64().unwrap() > 0, "{ctx}");
            assert_eq!(psc["fsGroup"], 10001, "{ctx}");
            assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{ctx}");
            for forbidden in ["hostNetwork", "hostPID", "hostIPC"] {
                assert!(spec.get(forbidden).is_none(), "{ctx}: {forbidden}");
            }
            for v in spec["volumes"].as_array().into_iter().flatten() {
                assert!(v.get("hostPath").is_none(), "{ctx}: hostPath volume");
            }
            for c in containers(spec) {
                let ctx = format!("{ctx} container {}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["runAsNonRoot"], true, "{ctx}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{ctx}");
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{ctx}");
                assert_ne!(sc["privileged"], true, "{ctx}");
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{ctx}");
                let drop = sc["capabilities"]["drop"].as_array().unwrap();
                assert!(drop.contains(&json!("ALL")), "{ctx}: drop ALL");
                assert!(
                    sc["capabilities"].get("add").is_none(),
                    "{ctx}: adds capabilities"
                );
                let image = c["image"].as_str().unwrap();
                assert!(image.contains(':'), "{ctx}: image {image} has no tag");
            }
        }
    }
}

#[test]
fn network_policy_limits_p2p_and_discovery_to_the_release() {
    for ex in examples() {
        let docs = ex.render();
        if !ex.public()["networkPolicy"]["enabled"].as_bool().unwrap() {
            continue;
        }
        let pods = pods(&docs);
        let policies = of_kind(&docs, "NetworkPolicy");
        for sts in of_kind(&docs, "StatefulSet") {
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            let pol = policies
                .iter()
                .find(|p| selects(&str_map(&p["spec"]["podSelector"]["matchLabels"]), &labels))
                .unwrap_or_else(|| panic!("{}: no NetworkPolicy for {}", ex.name, name(sts)));
            let ports: BTreeMap<String, (i64, String)> = sts["spec"]["template"]["spec"]
                ["containers"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(container_ports)
                .collect();
            // Peers connect over TCP and discover each other over UDP, both at the P2P port;
            // beacon nodes (proof of stake) connect over libp2p TCP, discovery v5 over UDP.
            let mut peer_ports = vec!["p2p", "discovery"];
            if ex.public()["proofOfStake"].is_object() {
                peer_ports.extend(["beacon-p2p", "beacon-discv5"]);
            }
            for port in peer_ports {
                let (number, protocol) = &ports[port];
                let ctx = format!("{}: {} {protocol} {number}", ex.name, name(sts));
                let rules: Vec<&Value> = pol["spec"]["ingress"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| {
                        r["ports"].as_array().into_iter().flatten().any(|p| {
                            p["port"].as_i64() == Some(*number)
                                && p["protocol"].as_str().unwrap_or("TCP") == protocol
                        })
                    })
                    .collect();
                assert!(!rules.is_empty(), "{ctx}: no rule admits it");
                for rule in rules {
                    let from = rule["from"].as_array().expect("P2P rule has sources");
                    for f in from {
                        let sel = str_map(&f["podSelector"]["matchLabels"]);
                        assert!(f.get("namespaceSelector").is_none() && f.get("ipBlock").is_none());
                        // Sources are pods of this release only.
                        assert_eq!(
                            sel.get("app.kubernetes.io/instance").map(String::as_str),
                            Some(RELEASE),
                            "{ctx}"
                        );
                        assert!(pods.iter().any(|p| selects(&sel, &p.labels)), "{ctx}");
                    }
                }
            }
        }
    }
}

#[test]
fn pos_prysm_containers_are_hardened_like_geth() {
    for ex in pos_examples() {
        let docs = ex.render();
        for sts in of_kind(&docs, "StatefulSet") {
            let cs = sts["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap();
            let geth = &cs[0]["securityContext"];
            for c in &cs[1..] {
                assert_eq!(
                    &c["securityContext"],
                    geth,
                    "{}: {} {}",
                    ex.name,
                    name(sts),
                    c["name"]
                );
                // Prysm writes nowhere but its mounts (root filesystem read-only).
                assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
            }
        }
    }
}
