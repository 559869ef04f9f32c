//! Proof of stake: engine API, fee recipient, Prysm files, consensus ConfigMap, secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::args::flag;
use crate::beacon_state::{address_credentials, BeaconState};
use crate::support::{
    base64, base64_decode, container, containers, exported_consensus, exported_wallet,
    geth_container, init_container, kind, name, network_name, node_groups, object, pod_specs,
    pos_example, pos_examples, read_yaml, rendered_toml, run_prepare, scratch, sha256_hex, strings,
    Example,
};

/// geth's engine API listens on the pod's localhost only, with the pod's JWT; the
/// beacon node calls it there with the same JWT file.
#[test]
fn pos_engine_api_is_local_and_shares_the_jwt() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let engine_port = public["proofOfStake"]["engineApiPort"].as_i64().unwrap();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: {group}", ex.name);
            let toml = rendered_toml(&docs, net, group);
            let geth_args = strings(&geth_container(&docs, net, group)["args"]);
            let addr = toml["Node"]["AuthAddr"]
                .as_str()
                .map(String::from)
                .or_else(|| flag(&geth_args, "--authrpc.addr").map(String::from))
                .unwrap_or_else(|| "localhost".into());
            assert!(
                addr == "localhost" || addr == "127.0.0.1",
                "{ctx}: engine API on {addr}"
            );
            let port = toml["Node"]["AuthPort"]
                .as_i64()
                .or_else(|| flag(&geth_args, "--authrpc.port").map(|p| p.parse().unwrap()))
                .unwrap_or(8551);
            assert_eq!(port, engine_port, "{ctx}: engine API port");
            let jwt = toml["Node"]["JWTSecret"]
                .as_str()
                .or_else(|| flag(&geth_args, "--authrpc.jwtsecret"))
                .unwrap_or_else(|| panic!("{ctx}: geth has no JWT secret file"));
            let beacon = strings(&container(&docs, net, group, "beacon")["args"]);
            assert_eq!(flag(&beacon, "--jwt-secret"), Some(jwt), "{ctx}: JWT files");
            assert_eq!(
                flag(&beacon, "--execution-endpoint"),
                Some(format!("http://127.0.0.1:{engine_port}").as_str()),
                "{ctx}"
            );
        }
        // Nothing outside the pod reaches the engine API: no container, Service or
        // NetworkPolicy names its port.
        let mut named = Vec::new();
        for o in &docs {
            let ports: Vec<&Value> = match kind(o) {
                "Service" => o["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .collect(),
                "NetworkPolicy" => o["spec"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r["ports"].as_array().into_iter().flatten())
                    .collect(),
                _ => pod_specs(std::slice::from_ref(o))
                    .into_iter()
                    .flat_map(|(_, spec)| containers(spec))
                    .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                    .collect(),
            };
            for p in ports {
                for k in ["port", "targetPort", "containerPort"] {
                    if p[k].as_i64() == Some(engine_port) {
                        named.push(format!("{} {}", kind(o), name(o)));
                    }
                }
            }
        }
        assert!(
            named.is_empty(),
            "{}: the engine API port is exposed by {named:?}",
            ex.name
        );
    }
}

/// Both Prysm clients of every pod suggest the network file's fee recipient; the
/// withdrawal address is in the genesis validators' credentials (0x01, or 0x02 when
/// compounding; 11 zero bytes; the address) and nowhere in the clients' flags.
/// `pos-groups` has a withdrawal address unlike its fee recipient (the zero address,
/// the default), so a flag taken from the wrong one shows.
#[test]
fn pos_fee_recipient_reaches_both_prysm_clients_and_the_withdrawal_address_the_credentials() {
    let mut differing = Vec::new();
    for ex in pos_examples() {
        let (source, _) = ex.source.as_ref().expect("a compiled example");
        let file = read_yaml(source);
        let pos = &file["network"]["consensus"]["proofOfStake"];
        let fee = pos["feeRecipient"]
            .as_str()
            .unwrap_or("0x0000000000000000000000000000000000000000")
            .to_lowercase();
        let withdrawal = pos["withdrawal"]["address"].as_str().map(str::to_lowercase);
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        assert_eq!(
            public["proofOfStake"]["feeRecipient"]
                .as_str()
                .map(str::to_lowercase),
            Some(fee.clone()),
            "{}",
            ex.name
        );
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let mut clients = vec!["beacon"];
            if g["role"] == "validator" {
                clients.push("validator");
            }
            for c in clients {
                let ctx = format!("{}: {group} {c}", ex.name);
                let args = strings(&container(&docs, net, group, c)["args"]);
                assert_eq!(
                    flag(&args, "--suggested-fee-recipient").map(str::to_lowercase),
                    Some(fee.clone()),
                    "{ctx}"
                );
                if let Some(w) = withdrawal.as_ref().filter(|w| **w != fee) {
                    for a in &args {
                        assert!(
                            !a.to_lowercase().contains(&w[2..]),
                            "{ctx}: the withdrawal address in {a}"
                        );
                    }
                }
            }
        }
        let ssz = exported_consensus(ex).1;
        let preset = public["proofOfStake"]["preset"].as_str().unwrap();
        let registry = BeaconState::new(&ssz, preset).validators();
        assert!(!registry.is_empty(), "{}: no genesis validator", ex.name);
        let want = withdrawal.as_ref().map(|w| {
            let prefix = if pos["withdrawal"]["compounding"] == true {
                0x02
            } else {
                0x01
            };
            address_credentials(prefix, w)
        });
        for (i, r) in registry.iter().enumerate() {
            match want {
                Some(want) => assert_eq!(
                    r.withdrawal_credentials, want,
                    "{}: validator {i}'s credentials",
                    ex.name
                ),
                None => assert_eq!(
                    r.withdrawal_credentials[0], 0,
                    "{}: validator {i}: BLS credentials without a withdrawal address",
                    ex.name
                ),
            }
        }
        if withdrawal.is_some_and(|w| w != fee) {
            differing.push(ex.name.clone());
        }
    }
    assert!(
        differing.iter().any(|n| n == "network:pos-groups"),
        "pos-groups no longer has a withdrawal address unlike its fee recipient: {differing:?}"
    );
}

/// Every file a Prysm flag names is under a volume mount of that container: the
/// databases on the pod's volume (`data`, the PVC: a validator's slashing protection
/// survives restarts and rescheduling), the consensus ConfigMap's config.yaml, and
/// what the `prepare` step writes (JWT, P2P key, wallet, password, genesis state),
/// which each pod gets for itself.
#[test]
fn pos_prysm_reads_only_mounted_files_that_prepare_wrote() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let private = ex.private();
        let net = network_name(&public);
        let genesis_ssz = exported_consensus(ex).1;
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
            let spec = &sts["spec"]["template"]["spec"];
            assert_eq!(
                sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
                "data"
            );
            let prepare = init_container(spec, "prepare");
            let prepare_mounts: BTreeMap<String, String> = prepare["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().into(),
                        m["mountPath"].as_str().unwrap().into(),
                    )
                })
                .collect();
            let validator = g["role"] == "validator";
            for pod_node in g["nodes"].as_array().unwrap() {
                let pod = pod_node["name"].as_str().unwrap();
                let ctx = format!("{}: {pod}", ex.name);
                let r = run_prepare(ex, group, pod, &[]);
                assert!(r.status.success(), "{ctx}: prepare failed:\n{}", r.stderr);
                // Where a path of a pod is on this test's disk: (volume, file).
                let locate = |c: &Value, path: &str| -> (String, Option<PathBuf>) {
                    let m = c["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| {
                            let at = m["mountPath"].as_str().unwrap();
                            path == at || path.starts_with(&format!("{at}/"))
                        })
                        .max_by_key(|m| m["mountPath"].as_str().unwrap().len())
                        .unwrap_or_else(|| {
                            panic!("{ctx}: {} reads {path}, on no volume it mounts", c["name"])
                        });
                    let volume = m["name"].as_str().unwrap().to_string();
                    let rest =
                        path[m["mountPath"].as_str().unwrap().len()..].trim_start_matches('/');
                    let local = match volume.as_str() {
                        "run" => Some(r.run.join(rest)),
                        "genesis-state" => {
                            // prepare writes it through its own mount of the same emptyDir.
                            let at = &prepare_mounts["genesis-state"];
                            let under = at.strip_prefix("/var/lib/kuberneteth/").unwrap();
                            Some(r.var.join(under).join(rest))
                        }
                        _ => None,
                    };
                    (volume, local)
                };
                let mut seen = BTreeSet::new();
                let mut prysm = vec!["beacon"];
                if validator {
                    prysm.push("validator");
                }
                let b = &private["secrets"]["beacon"][pod];
                for c in prysm {
                    let cont = container(&docs, net, group, c);
                    let args = strings(&cont["args"]);
                    for f in [
                        "--datadir",
                        "--jwt-secret",
                        "--p2p-priv-key",
                        "--genesis-state",
                        "--chain-config-file",
                        "--wallet-dir",
                        "--wallet-password-file",
                    ] {
                        let Some(path) = flag(&args, f) else { continue };
                        let (volume, local) = locate(cont, path);
                        seen.insert(f);
                        let ctx = format!("{ctx}: {c} {f}={path}");
                        match f {
                            "--datadir" => {
                                assert_eq!(volume, "data", "{ctx}: not on the pod's volume")
                            }
                            "--chain-config-file" => {
                                assert_eq!(volume, "consensus", "{ctx}");
                                let file = path.rsplit('/').next().unwrap();
                                let cm = object(&docs, "ConfigMap", &format!("{net}-consensus"));
                                assert!(
                                    cm["data"][file].is_string(),
                                    "{ctx}: no {file} in the ConfigMap"
                                );
                            }
                            _ => {
                                let local = local.unwrap_or_else(|| {
                                    panic!(
                                        "{ctx}: on volume {volume}, which prepare does not write"
                                    )
                                });
                                assert!(local.exists(), "{ctx}: prepare did not write it");
                                let read = |p: &Path| fs::read_to_string(p).unwrap();
                                match f {
                                    "--jwt-secret" => assert_eq!(
                                        read(&local),
                                        b["jwtSecret"].as_str().unwrap(),
                                        "{ctx}"
                                    ),
                                    "--p2p-priv-key" => assert_eq!(
                                        read(&local),
                                        b["nodeKey"].as_str().unwrap(),
                                        "{ctx}"
                                    ),
                                    "--genesis-state" => assert!(
                                        fs::read(&local).unwrap() == genesis_ssz,
                                        "{ctx}: not the compiled genesis state"
                                    ),
                                    "--wallet-password-file" => assert_eq!(
                                        read(&local),
                                        exported_wallet(ex, pod).0,
                                        "{ctx}"
                                    ),
                                    "--wallet-dir" => {
                                        // Exactly this pod's wallet files, byte for byte.
                                        let mut got = BTreeMap::new();
                                        collect_files(&local, &local, &mut got);
                                        let want: BTreeMap<String, String> =
                                            exported_wallet(ex, pod)
                                                .1
                                                .into_iter()
                                                .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
                                                .collect();
                                        assert!(!want.is_empty(), "{ctx}: no wallet compiled");
                                        assert_eq!(got, want, "{ctx}: wallet files");
                                    }
                                    _ => unreachable!(),
                                }
                            }
                        }
                    }
                }
                let mut want: BTreeSet<&str> = [
                    "--datadir",
                    "--jwt-secret",
                    "--p2p-priv-key",
                    "--genesis-state",
                    "--chain-config-file",
                ]
                .into();
                if validator {
                    want.extend(["--wallet-dir", "--wallet-password-file"]);
                } else {
                    assert!(
                        !r.run.join("validator-wallet").exists(),
                        "{ctx}: a wallet in a non-validator pod"
                    );
                }
                assert_eq!(seen, want, "{ctx}: Prysm flags naming files");
                // The validator client's database: on the volume, apart from the beacon node's.
                if validator {
                    let vc = strings(&container(&docs, net, group, "validator")["args"]);
                    let bn = strings(&container(&docs, net, group, "beacon")["args"]);
                    let (v, b) = (
                        flag(&vc, "--datadir").unwrap(),
                        flag(&bn, "--datadir").unwrap(),
                    );
                    assert!(
                        v.starts_with("/data/") && b.starts_with("/data/") && v != b,
                        "{ctx}: {v} {b}"
                    );
                }
                // geth's JWT file is the one prepare wrote (the beacon's).
                let jwt = r.run.join("jwt.hex");
                assert_eq!(
                    fs::read_to_string(jwt).unwrap(),
                    b["jwtSecret"].as_str().unwrap(),
                    "{ctx}"
                );
            }
        }
    }
}

/// Files under `root`, by path relative to `base`, as text.
fn collect_files(base: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    for e in fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_files(base, &p, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            out.insert(rel, fs::read_to_string(&p).unwrap());
        }
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run gzip");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "gzip -dc failed");
    out.stdout
}

/// The consensus ConfigMap holds what `export` writes for the same network: the
/// consensus clients' config.yaml verbatim and the genesis state, gzipped.
#[test]
fn pos_consensus_configmap_is_the_compiled_genesis_state_and_config() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let (config, ssz) = exported_consensus(ex);
        let cm = object(&docs, "ConfigMap", &format!("{net}-consensus"));
        assert_eq!(
            cm["data"]["config.yaml"].as_str(),
            Some(config.as_str()),
            "{}",
            ex.name
        );
        assert_eq!(
            cm["data"]["config.yaml"],
            public["proofOfStake"]["chainConfig"]
        );
        // The pods join the parts named in the consensus ConfigMap, each checked, and
        // check the whole: as the cluster holds them, from the release or beside it.
        let installed = ex.installed();
        let state_values = &public["proofOfStake"]["genesisState"];
        let mut gz = Vec::new();
        let lines: Vec<&str> = cm["data"]["genesis-state-parts"]
            .as_str()
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert_eq!(lines.len(), state_values["parts"].as_array().unwrap().len());
        for (i, line) in lines.iter().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f[0], i.to_string(), "{}: {line}", ex.name);
            let part_cm = object(&installed, "ConfigMap", f[1]);
            let part = base64_decode(part_cm["binaryData"]["part"].as_str().unwrap());
            assert_eq!(sha256_hex(&part), f[2], "{}: part {i}", ex.name);
            // A ConfigMap holds at most 1 MiB (data and binaryData together).
            let size = serde_json::to_string(part_cm).unwrap().len();
            assert!(size < 1 << 20, "{}: part {i} of {size} bytes", ex.name);
            gz.extend(part);
        }
        let state = gunzip(&gz);
        assert!(
            state == ssz,
            "{}: the genesis state in the ConfigMaps is not the compiled one ({} vs {} bytes)",
            ex.name,
            state.len(),
            ssz.len()
        );
        assert_eq!(
            cm["data"]["genesis-state-sha256"].as_str(),
            Some(sha256_hex(&ssz).as_str())
        );
        // With `largeObjects: separate` the release holds none of it.
        let separate = public["proofOfStake"]["largeObjects"] == "separate";
        let release = ex.render();
        for part in state_values["parts"].as_array().unwrap() {
            let in_release = release
                .iter()
                .any(|o| kind(o) == "ConfigMap" && name(o) == part["configMap"].as_str().unwrap());
            assert_eq!(in_release, !separate, "{}: {part}", ex.name);
            assert_eq!(part["data"].is_string(), !separate, "{}: {part}", ex.name);
        }
        // The genesis validators root Prysm will compute is in the state: bytes 8..40
        // of a BeaconState (after genesis_time).
        let root = public["proofOfStake"]["genesisValidatorsRoot"]
            .as_str()
            .unwrap();
        let in_state: String = ssz[8..40].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            root.trim_start_matches("0x"),
            in_state,
            "{}: genesis validators root",
            ex.name
        );
    }
}

/// Each group's Secret holds, for each of its pods, the beacon P2P key and JWT; each
/// validator pod's own keys Secret holds exactly its wallet (as `export` writes it)
/// and the wallet's password, which the group's `wallet-files` names with their
/// SHA-256. The release holds those Secrets with `largeObjects: release` only; the
/// compiler's `objects/` holds them otherwise. No wallet is in two Secrets.
#[test]
fn pos_secrets_hold_each_pods_beacon_key_jwt_and_own_wallet() {
    let secret_data = |o: &Value| -> BTreeMap<String, Vec<u8>> {
        o["data"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), base64_decode(v.as_str().unwrap())))
            .collect()
    };
    for ex in pos_examples() {
        let docs = ex.render();
        let installed = ex.installed();
        let public = ex.public();
        let private = ex.private();
        let s = &private["secrets"];
        let net = network_name(&public);
        let separate = public["proofOfStake"]["largeObjects"] == "separate";
        assert_eq!(
            s["validatorWallets"].is_object(),
            !separate,
            "{}: wallets in the secrets values only when the chart makes their Secrets",
            ex.name
        );
        let mut pods_seen = BTreeSet::new();
        let mut wallets_seen = BTreeSet::new();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let validator = g["role"] == "validator";
            let data = secret_data(object(&docs, "Secret", &format!("{net}-{group}-keys")));
            let cm = object(&docs, "ConfigMap", &format!("{net}-{group}-config"));
            let wallet_files = cm["data"]["wallet-files"].as_str();
            assert_eq!(
                wallet_files.is_some(),
                validator,
                "{}: {group} wallet-files",
                ex.name
            );
            let mut want_keys = BTreeSet::new();
            for n in g["nodes"].as_array().unwrap() {
                let pod = n["name"].as_str().unwrap();
                pods_seen.insert(pod.to_string());
                let ctx = format!("{}: {pod}", ex.name);
                let b = &s["beacon"][pod];
                assert_eq!(
                    data[&format!("{pod}.beacon-p2p-key")],
                    b["nodeKey"].as_str().unwrap().as_bytes(),
                    "{ctx}"
                );
                assert_eq!(
                    data[&format!("{pod}.jwt-secret")],
                    b["jwtSecret"].as_str().unwrap().as_bytes(),
                    "{ctx}"
                );
                want_keys.extend([
                    format!("{pod}.nodekey"),
                    format!("{pod}.beacon-p2p-key"),
                    format!("{pod}.jwt-secret"),
                ]);
                assert_eq!(
                    n["validatorKeys"].is_object(),
                    validator,
                    "{ctx}: validator keys only for validator pods"
                );
                if !validator {
                    continue;
                }
                assert_eq!(
                    n["beacon"]["validators"].as_u64(),
                    g["validatorsPerPod"]
                        .as_u64()
                        .or(n["beacon"]["validators"].as_u64()),
                    "{ctx}"
                );
                let secret_name = n["validatorKeys"]["secret"].as_str().unwrap();
                assert_eq!(secret_name, format!("{pod}-validator-keys"), "{ctx}");
                let in_release = docs
                    .iter()
                    .any(|o| kind(o) == "Secret" && name(o) == secret_name);
                assert_eq!(in_release, !separate, "{ctx}: {secret_name} in the release");
                let own = secret_data(object(&installed, "Secret", secret_name));
                let (password, exported) = exported_wallet(ex, pod);
                assert_eq!(
                    own[&format!("{pod}.wallet-password")],
                    password.as_bytes(),
                    "{ctx}"
                );
                // wallet-files maps the Secret's keys to paths under the wallet dir and
                // their SHA-256.
                let mut files = BTreeMap::new();
                let mut own_keys = BTreeSet::from([format!("{pod}.wallet-password")]);
                for line in wallet_files
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    assert_eq!(f.len(), 4, "{ctx}: wallet-files line {line:?}");
                    if f[0] == pod {
                        let key = format!("{pod}.{}", f[1]);
                        assert_eq!(sha256_hex(&own[&key]), f[3], "{ctx}: {line}");
                        files.insert(f[2].to_string(), own[&key].clone());
                        own_keys.insert(key);
                    }
                }
                assert_eq!(files, exported, "{ctx}: the wallet in its Secret");
                assert_eq!(
                    own.keys().cloned().collect::<BTreeSet<_>>(),
                    own_keys,
                    "{ctx}: its keys Secret holds its wallet and password, nothing else"
                );
                for bytes in files.into_values() {
                    assert!(
                        wallets_seen.insert(bytes),
                        "{ctx}: a wallet file in two pods"
                    );
                }
            }
            let keys: BTreeSet<String> = data.keys().cloned().collect();
            let extra: BTreeSet<&String> = keys
                .difference(&want_keys)
                .filter(|k| !matches!(k.as_str(), "password") && !k.ends_with(".keystore"))
                .collect();
            assert!(
                extra.is_empty(),
                "{}: {group} Secret also holds {extra:?}",
                ex.name
            );
            for k in &want_keys {
                assert!(keys.contains(k), "{}: {group} Secret lacks {k}", ex.name);
            }
        }
        let with_beacon: BTreeSet<String> =
            s["beacon"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            with_beacon, pods_seen,
            "{}: beacon secrets of exactly the pods",
            ex.name
        );
    }
}

/// With `largeObjects: separate` the pods read objects applied outside the release:
/// `prepare` rebuilds the genesis state and this pod's wallet from them and checks
/// each against the SHA-256 the release carries, and stops a pod, saying what to do,
/// when a genesis-state part or a wallet is not the compiled one.
#[test]
fn pos_prepare_refuses_separate_objects_that_are_not_the_compiled_ones() {
    let ex = pos_example("network:pos-separate");
    let public = ex.public();
    let pod = public["nodeGroups"][0]["nodes"][0]["name"]
        .as_str()
        .unwrap();
    let untouched = run_prepare(ex, "validator", pod, &[]);
    assert!(untouched.status.success(), "{}", untouched.stderr);
    assert!(
        untouched.stderr.contains("from 1 parts, SHA-256 checked"),
        "{}",
        untouched.stderr
    );
    let compiled = ex.values.parent().unwrap();
    for (tag, file, key) in [
        ("part", "genesis-state.yaml", "part: ".to_string()),
        ("wallet", "validator-keys.yaml", format!("{pod}.wallet-0: ")),
    ] {
        let dir = scratch().join("tampered").join(tag);
        fs::create_dir_all(dir.join("objects")).unwrap();
        for f in ["values.yaml", "secrets.values.yaml"] {
            fs::copy(compiled.join(f), dir.join(f)).unwrap();
        }
        for f in ["genesis-state.yaml", "validator-keys.yaml"] {
            let text = fs::read_to_string(compiled.join("objects").join(f)).unwrap();
            let text = if f != file {
                text
            } else {
                // One byte of the first object's value changed.
                let at = text.find(&key).unwrap() + key.len();
                let end = at + text[at..].find('\n').unwrap();
                let mut bytes = base64_decode(text[at..end].trim_matches('\''));
                bytes[10] ^= 1;
                format!("{}{}{}", &text[..at], base64(&bytes), &text[end..])
            };
            fs::write(dir.join("objects").join(f), text).unwrap();
        }
        let tampered = Example {
            name: format!("{}:{tag}", ex.name),
            values: dir.join("values.yaml"),
            secrets: dir.join("secrets.values.yaml"),
            compiled: true,
            source: ex.source.clone(),
        };
        let r = run_prepare(&tampered, "validator", pod, &[]);
        assert!(!r.status.success(), "{tag}: prepare accepted it");
        assert!(
            r.stderr.contains(
                "is not the compiled one: apply the objects/ of the compile these values come from"
            ),
            "{tag}: {}",
            r.stderr
        );
    }
}
