//! The compiler as users run it: the binary, real files, exit codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{run, stderr, BIN};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const NETWORK: &str = "\
network:
  name: testnet
  chainId: 31337
  consensus: {clique: {period: 2}}
nodes:
  - {name: signer, role: signer, replicas: 3}
  - {name: rpc, role: rpc, replicas: 2, rpc: {http: true, ws: true}}
accounts:
  - {name: deployer, balance: 1000 ether}
  - {address: \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\", balance: 5 gwei}
keystore: {kdf: light}
";

/// A temp dir with `net.yaml`; returns (dir, path to net.yaml).
fn network(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.yaml");
    fs::write(&path, text).unwrap();
    (dir, path)
}

fn compile(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["compile", "-c", "net.yaml", "-o", out];
    args.extend_from_slice(extra);
    run(&args, dir)
}

fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn values(dir: &Path, out: &str) -> serde_json::Value {
    serde_norway::from_str(&read(dir, &format!("{out}/values.yaml"))).unwrap()
}

fn secrets(dir: &Path, out: &str) -> serde_json::Value {
    serde_norway::from_str(&read(dir, &format!("{out}/secrets.values.yaml"))).unwrap()
}

#[test]
fn broken_files_report_every_expected_problem_with_position_and_write_nothing() {
    let corpus = repo().join("tests/corpus");
    let mut files: Vec<_> = fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus has {} files", files.len());
    for file in files {
        // Bytes: some files are deliberately not UTF-8 (or hold a NUL).
        let bytes = fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .expect("first line: # expect: L:C: message");
        let (pos, message) = expect.split_at(expect.find(": ").unwrap());
        let message = &message[2..];
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("net.yaml"), &bytes).unwrap();
        let started = std::time::Instant::now();
        let o = compile(dir.path(), "out", &[]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{}: took {:?}",
            file.display(),
            started.elapsed()
        );
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}: exit code\n{err}",
            file.display()
        );
        let wanted = format!("net.yaml:{pos}: error: ");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&wanted) && l.contains(message)),
            "{}: expected a line starting `{wanted}` containing `{message}`, got:\n{err}",
            file.display()
        );
        assert!(err.contains("nothing was written"), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("net.yaml")],
            "{}: wrote files",
            file.display()
        );
    }
}

#[test]
fn all_problems_are_reported_not_just_the_first() {
    let (dir, _) = network(
        "network: {name: n, chainId: 1, consensus: {clique: {}}}\nnodes:\n  - {name: a, role: rpc}\n  - {name: a, role: rpc}\naccounts: [{name: x, balance: lots}]\n",
    );
    let err = stderr(&run(&["check", "-c", "net.yaml"], dir.path()));
    for part in [
        "chain id 1",
        "already used",
        "at least one node group with `role: signer`",
        "`lots` is not an amount",
    ] {
        assert!(err.contains(part), "missing `{part}` in:\n{err}");
    }
}

/// The short forms users write compile to exactly what their full forms do.
#[test]
fn short_forms_compile_like_their_full_forms() {
    let short = "\
network: {name: testnet, chainId: 31337, consensus: clique}
nodes:
  - {name: signer, role: signer, replicas: 3}
  - {name: rpc, role: rpc, rpc: true}
  - {name: quiet, role: full, rpc: false}
monitoring: {ethstats: false, metrics: true}
networkPolicy: false
keystore: {kdf: light}
";
    let full = "\
network: {name: testnet, chainId: 31337, consensus: {clique: {}}}
nodes:
  - {name: signer, role: signer, replicas: 3}
  - {name: rpc, role: rpc, rpc: {}}
  - {name: quiet, role: full}
monitoring: {ethstats: {enabled: false}, metrics: {enabled: true}}
networkPolicy: {enabled: false}
keystore: {kdf: light}
";
    let (dir, path) = network(short);
    let o = compile(dir.path(), "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    fs::rename(dir.path().join("out"), dir.path().join("short")).unwrap();
    fs::write(&path, full).unwrap();
    let o = compile(dir.path(), "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["values.yaml", "secrets.values.yaml"] {
        assert_eq!(
            read(dir.path(), &format!("short/{file}")),
            read(dir.path(), &format!("out/{file}")),
            "{file}"
        );
    }
    let v = values(dir.path(), "out");
    assert_eq!(v["ethstats"]["enabled"], false);
    assert_eq!(v["networkPolicy"]["enabled"], false);
}

#[test]
fn same_input_same_bytes() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "a", &[]).status.success());
    assert!(compile(d, "b", &[]).status.success());
    for f in ["values.yaml", "secrets.values.yaml"] {
        assert_eq!(
            read(d, &format!("a/{f}")).replace(" a/", " X/"),
            read(d, &format!("b/{f}")).replace(" b/", " X/")
        );
    }
    let before = read(d, "a/values.yaml");
    let o = compile(d, "a", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        before,
        read(d, "a/values.yaml"),
        "recompiling changed values.yaml"
    );
}

#[test]
fn adding_and_reordering_groups_keeps_every_other_key() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "a", &[]).status.success());
    let grown = NETWORK.replace(
        "nodes:\n  - {name: signer, role: signer, replicas: 3}\n  - {name: rpc, role: rpc, replicas: 2, rpc: {http: true, ws: true}}\n",
        "nodes:\n  - {name: full, role: full, replicas: 2}\n  - {name: rpc, role: rpc, replicas: 2, rpc: {http: true, ws: true}}\n  - {name: boot, role: bootnode}\n  - {name: signer, role: signer, replicas: 3}\n",
    );
    assert_ne!(grown, NETWORK);
    fs::write(d.join("net.yaml"), grown).unwrap();
    let o = compile(d, "b", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (secrets(d, "a"), secrets(d, "b"));
    for (node, key) in a["secrets"]["nodeKeys"].as_object().unwrap() {
        assert_eq!(&b["secrets"]["nodeKeys"][node], key, "{node} changed key");
    }
    assert_eq!(b["secrets"]["nodeKeys"].as_object().unwrap().len(), 8);
    assert_eq!(
        values(d, "a")["genesis"],
        values(d, "b")["genesis"],
        "signers and accounts are unchanged, so is the genesis"
    );
}

#[test]
fn secrets_file_is_created_private_and_never_overwritten() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let o = compile(d, "out", &[]);
    assert!(stderr(&o).contains("created"), "{}", stderr(&o));
    let path = d.join("kuberneteth.secrets.yaml");
    let first = fs::read(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let sv = d.join("out/secrets.values.yaml");
        assert_eq!(
            fs::metadata(sv).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(compile(d, "out", &[]).status.success());
    assert_eq!(first, fs::read(&path).unwrap());
    // The secret itself is never printed.
    let secret_hex = String::from_utf8(first).unwrap();
    let secret_hex = secret_hex
        .lines()
        .find(|l| l.starts_with("masterSecret"))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    for args in [
        vec!["inspect", "-c", "net.yaml"],
        vec!["compile", "-c", "net.yaml", "-o", "out"],
    ] {
        let o = run(&args, d);
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains(&secret_hex)
                && !stderr(&o).contains(&secret_hex)
        );
    }
}

#[test]
fn corrupt_secrets_file_is_an_error_and_kept() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    fs::write(
        d.join("kuberneteth.secrets.yaml"),
        "version: 1\nmasterSecret: \"abc\"\n",
    )
    .unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("corrupt"));
    assert_eq!(
        read(d, "kuberneteth.secrets.yaml"),
        "version: 1\nmasterSecret: \"abc\"\n"
    );
    assert!(!d.join("out").exists());
    // `check` finds it too (and creates nothing when there is no secrets file).
    let o = run(&["check", "-c", "net.yaml"], d);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("corrupt"));
    fs::remove_file(d.join("kuberneteth.secrets.yaml")).unwrap();
    let o = run(&["check", "-c", "net.yaml"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.join("kuberneteth.secrets.yaml").exists());
}

#[test]
fn genesis_change_is_refused_unless_allowed() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let before = read(d, "out/values.yaml");
    fs::write(
        d.join("net.yaml"),
        NETWORK.replace("replicas: 3", "replicas: 4"),
    )
    .unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot change its genesis"),
        "{}",
        stderr(&o)
    );
    // Raising `replicas` without `genesisReplicas` would change the genesis signers:
    // the refusal names the setting that keeps them, at the group.
    assert!(
        stderr(&o).contains("net.yaml:6:5: error: nodes[0]: 3 of this group's pods hold genesis signers: set `genesisReplicas: 3`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(before, read(d, "out/values.yaml"));
    let o = compile(d, "out", &["--allow-genesis-change"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(before, read(d, "out/values.yaml"));
}

#[test]
fn signers_are_voted_in_and_out_and_the_genesis_stays() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let genesis = values(d, "out")["genesis"]["json"].clone();
    // The file with its signer group line replaced by `groups`.
    let signer_groups = |groups: &str| {
        let text = NETWORK.replace("  - {name: signer, role: signer, replicas: 3}", groups);
        fs::write(d.join("net.yaml"), text).unwrap();
    };
    let address = |v: &serde_json::Value, node: &str| -> String {
        v["clique"]["signers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["node"] == node)
            .unwrap_or_else(|| panic!("{node} is not a wanted signer: {v}"))["address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = values(d, "out");
    let kept = address(&first, "testnet-signer-0");
    // Two signers more, in the genesis group (replicas) and in a new group.
    signer_groups("  - {name: signer, role: signer, replicas: 4, genesisReplicas: 3}\n  - {name: late, role: signer, replicas: 1, genesisReplicas: 0}");
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let grown = values(d, "out");
    assert_eq!(grown["genesis"]["json"], genesis, "the genesis changed");
    assert_eq!(
        address(&grown, "testnet-signer-0"),
        kept,
        "an existing key changed"
    );
    let (in1, in2) = (
        address(&grown, "testnet-signer-3"),
        address(&grown, "testnet-late-0"),
    );
    let said = stderr(&o);
    let line = said
        .lines()
        .find(|l| l.starts_with("signer votes:"))
        .unwrap_or_else(|| panic!("no vote line:\n{said}"));
    assert!(
        line.contains(&format!(
            "in: {in1} (testnet-signer-3), {in2} (testnet-late-0)"
        )),
        "{line}"
    );
    assert!(!line.contains("out:"), "{line}");
    // The same file again: nothing to vote.
    let o = compile(d, "out", &[]);
    assert!(!stderr(&o).contains("signer votes:"), "{}", stderr(&o));
    // Three of the five out at once leaves two: refused, at the group, nothing written.
    let five = read(d, "out/values.yaml");
    signer_groups("  - {name: signer, role: signer, replicas: 1, genesisReplicas: 3}\n  - {name: late, role: signer, replicas: 1, genesisReplicas: 0}");
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "net.yaml:6:44: error: nodes[0].replicas: removing 3 of the 5 signers at once"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(five, read(d, "out/values.yaml"));
    // Two out (a majority of three stays) is voted through; the genesis stays.
    signer_groups("  - {name: signer, role: signer, replicas: 2, genesisReplicas: 3}\n  - {name: late, role: signer, replicas: 1, genesisReplicas: 0}");
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stderr(&o)
        .lines()
        .find(|l| l.starts_with("signer votes:"))
        .unwrap()
        .to_string();
    assert!(
        line.contains("out: ")
            && line.contains("(testnet-signer-2)")
            && line.contains("(testnet-signer-3)"),
        "{line}"
    );
    let shrunk = values(d, "out");
    assert_eq!(shrunk["genesis"]["json"], genesis);
    let pods: Vec<&str> = shrunk["clique"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["node"].as_str().unwrap())
        .collect();
    assert_eq!(
        pods,
        ["testnet-signer-0", "testnet-signer-1", "testnet-late-0"]
    );
}

#[test]
fn geth_downgrade_warns_and_upgrade_changes_only_versions() {
    let (dir, _) = network(&NETWORK.replace("nodes:", "geth: {version: v1.13.15}\nnodes:"));
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let newer = values(d, "out");
    fs::write(
        d.join("net.yaml"),
        NETWORK.replace("nodes:", "geth: {version: v1.13.14}\nnodes:"),
    )
    .unwrap();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("forward-only"), "{}", stderr(&o));
    let older = values(d, "out");
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v["generation"] = "X".into();
        for g in v["nodeGroups"].as_array_mut().unwrap() {
            g["gethVersion"] = "X".into();
            g["image"]["tag"] = "X".into();
        }
        v
    };
    assert_eq!(
        strip(&newer),
        strip(&older),
        "a version change must change only versions"
    );
    assert_eq!(older["nodeGroups"][0]["image"]["tag"], "v1.13.14");
}

#[test]
fn public_values_hold_no_private_material() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let public = read(d, "out/values.yaml");
    let s = secrets(d, "out");
    let mut private = vec![
        s["secrets"]["keystorePassword"]
            .as_str()
            .unwrap()
            .to_string(),
        s["secrets"]["ethstatsSecret"].as_str().unwrap().to_string(),
    ];
    private.extend(
        s["secrets"]["nodeKeys"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap().to_string()),
    );
    for ks in s["secrets"]["signerKeystores"]
        .as_object()
        .unwrap()
        .values()
    {
        let json: serde_json::Value = serde_json::from_str(ks["json"].as_str().unwrap()).unwrap();
        private.push(json["crypto"]["ciphertext"].as_str().unwrap().to_string());
    }
    assert_eq!(private.len(), 2 + 5 + 3);
    for p in private {
        assert!(
            p.len() >= 32 && !public.contains(&p),
            "private value in values.yaml"
        );
    }
    assert!(public.starts_with("# Public Helm values"));
    assert!(public.contains(
        "helm upgrade --install testnet chart/ -f out/values.yaml -f out/secrets.values.yaml"
    ));
}

#[test]
fn values_are_complete_and_consistent() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let v = values(d, "out");
    let groups = v["nodeGroups"].as_array().unwrap();
    let signer = &groups[0];
    assert_eq!(signer["unlockSigner"], true);
    assert_eq!(signer["podDisruptionBudget"]["minAvailable"], 2);
    assert_eq!(
        signer["peerHosts"],
        serde_json::json!(["testnet-signer-0", "testnet-signer-1", "testnet-signer-2"])
    );
    let genesis: serde_json::Value =
        serde_json::from_str(v["genesis"]["json"].as_str().unwrap()).unwrap();
    let extra = genesis["extraData"].as_str().unwrap();
    assert_eq!(extra.len(), 2 + 2 * (97 + 3 * 20));
    let mut addrs: Vec<String> = signer["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["signerAddress"].as_str().unwrap()[2..].to_lowercase())
        .collect();
    addrs.sort();
    assert_eq!(&extra[2 + 64..2 + 64 + 120], addrs.concat());
    let rpc = &groups[1];
    assert_eq!(rpc["unlockSigner"], false);
    let toml = rpc["config"].as_str().unwrap();
    let vhosts = toml_of(rpc)["Node"]["HTTPVirtualHosts"].clone();
    for host in [
        "localhost",
        "testnet-rpc-rpc",
        "testnet-rpc-rpc.__NAMESPACE__.svc.__CLUSTER_DOMAIN__",
    ] {
        assert!(
            vhosts.as_array().unwrap().contains(&host.into()),
            "{host}: {vhosts}"
        );
    }
    assert!(toml.contains("BootstrapNodes = []"));
    for n in signer["nodes"].as_array().unwrap() {
        assert!(toml.contains(n["enode"].as_str().unwrap()));
    }
    assert!(toml.contains("URL = \"__NODE_NAME__:__ETHSTATS_SECRET__@testnet-ethstats:3000\""));
    assert_eq!(
        v["accounts"][1]["address"],
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    );
    assert!(
        genesis["alloc"]["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"]["balance"] == "0x12a05f200"
    );
}

/// A group's geth TOML (from the values), as JSON.
fn toml_of(group: &serde_json::Value) -> serde_json::Value {
    let parsed: toml::Value = toml::from_str(group["config"].as_str().unwrap()).unwrap();
    serde_json::to_value(parsed).unwrap()
}

#[test]
fn a_network_id_unlike_the_chain_id_goes_to_geth_and_the_chain_id_to_the_genesis() {
    let (dir, _) = network(&NETWORK.replace("chainId: 31337", "chainId: 31337\n  networkId: 777"));
    let d = dir.path();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = values(d, "out");
    assert_eq!(v["network"]["chainId"], 31337);
    assert_eq!(v["network"]["networkId"], 777);
    let genesis: serde_json::Value =
        serde_json::from_str(v["genesis"]["json"].as_str().unwrap()).unwrap();
    assert_eq!(genesis["config"]["chainId"], 31337);
    for g in v["nodeGroups"].as_array().unwrap() {
        assert_eq!(toml_of(g)["Eth"]["NetworkId"], 777, "{}", g["name"]);
        for a in g["args"].as_array().unwrap() {
            if let Some(id) = a.as_str().unwrap().strip_prefix("--networkid=") {
                assert_eq!(id, "777");
            }
        }
    }
    let o = run(&["export", "-c", "net.yaml", "-o", "exp"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let genesis: serde_json::Value = serde_json::from_str(&read(d, "exp/genesis.json")).unwrap();
    assert_eq!(genesis["config"]["chainId"], 31337);
    let toml: toml::Value =
        toml::from_str(&read(d, "exp/nodes/testnet-rpc-0/config.toml")).unwrap();
    assert_eq!(toml["Eth"]["NetworkId"].as_integer(), Some(777));
    assert!(
        !read(d, "exp/nodes/testnet-rpc-0/config.toml").contains("__NAMESPACE__"),
        "outside Kubernetes nothing fills the namespace in"
    );
}

#[test]
fn an_rpc_group_serves_http_by_default() {
    let (dir, _) = network(&NETWORK.replace(", rpc: {http: true, ws: true}}", "}"));
    let d = dir.path();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = values(d, "out");
    let rpc = &v["nodeGroups"][1];
    assert_eq!(rpc["rpc"]["http"], true);
    assert_eq!(rpc["rpc"]["ws"], false);
    let toml = rpc["config"].as_str().unwrap();
    assert!(
        toml.contains("HTTPPort = 8545")
            && toml.contains("HTTPModules = [\"eth\", \"net\", \"web3\", \"txpool\"]"),
        "{toml}"
    );
    assert_eq!(v["tests"]["enabled"], true);
}

#[test]
fn inspect_lists_nodes_without_private_keys() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let o = run(&["inspect", "-c", "net.yaml"], d);
    assert_eq!(
        o.status.code(),
        Some(4),
        "inspect needs the secrets file and never creates it"
    );
    assert!(!d.join("kuberneteth.secrets.yaml").exists());
    assert!(compile(d, "out", &[]).status.success());
    let o = run(&["inspect", "-c", "net.yaml"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).unwrap();
    let v = values(d, "out");
    for g in v["nodeGroups"].as_array().unwrap() {
        for n in g["nodes"].as_array().unwrap() {
            assert!(table.contains(n["enode"].as_str().unwrap()));
        }
    }
    for key in secrets(d, "out")["secrets"]["nodeKeys"]
        .as_object()
        .unwrap()
        .values()
    {
        assert!(!table.contains(key.as_str().unwrap()));
    }
    assert!(table.contains("deployer"));
}

#[test]
fn export_without_an_ip_range_gives_each_node_its_own_loopback_address() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let o = run(&["export", "-c", "net.yaml", "-o", "exp"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let nodes: serde_json::Value = serde_json::from_str(&read(d, "exp/nodes.json")).unwrap();
    for (i, n) in nodes.as_array().unwrap().iter().enumerate() {
        let ip = format!("127.0.0.{}", 1 + i);
        let enode = n["enode"].as_str().unwrap();
        assert!(enode.contains(&format!("@{ip}:")), "{enode}");
        let toml = read(
            d,
            &format!("exp/{}/config.toml", n["dir"].as_str().unwrap()),
        );
        // No in-cluster name anywhere (geth would fail to resolve it at start) and
        // no placeholder the chart would fill.
        assert!(!toml.contains("testnet-signer-"), "{toml}");
        assert!(!toml.contains("__"), "{toml}");
        assert!(toml.contains(&format!("AuthAddr = \"{ip}\"")), "{toml}");
    }
}

#[test]
fn export_writes_runnable_files_and_never_replaces_other_keys() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let o = run(
        &[
            "export",
            "-c",
            "net.yaml",
            "-o",
            "exp",
            "--ip-range",
            "127.0.0.2",
            "--port-range",
            "30400",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let nodes: serde_json::Value = serde_json::from_str(&read(d, "exp/nodes.json")).unwrap();
    let nodes = nodes.as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    assert_eq!(
        nodes[2]["enode"].as_str().unwrap().rsplit('@').next(),
        Some("127.0.0.4:30402")
    );
    let toml = read(d, "exp/nodes/testnet-rpc-0/config.toml");
    assert!(toml.contains("@127.0.0.2:30400\""), "{toml}");
    // Every listener binds to the node's own address, so nodes on one host never
    // clash (P2P, HTTP, the engine API).
    assert!(toml.contains("ListenAddr = \"127.0.0.5:30403\""), "{toml}");
    assert!(toml.contains("HTTPHost = \"127.0.0.5\""), "{toml}");
    assert!(toml.contains("AuthAddr = \"127.0.0.5\""), "{toml}");
    let args = read(d, "exp/nodes/testnet-signer-1/geth.args");
    assert!(args.contains(&format!(
        "--unlock={}",
        nodes[1]["signerAddress"].as_str().unwrap()
    )));
    assert!(d.join("exp/nodes/testnet-signer-1/password").exists());
    let accounts: serde_json::Value = serde_json::from_str(&read(d, "exp/accounts.json")).unwrap();
    assert!(d
        .join("exp")
        .join(accounts[0]["keystore"].as_str().unwrap())
        .exists());
    // Same export again: fine. A different key where ours would go: refused.
    assert!(run(
        &[
            "export",
            "-c",
            "net.yaml",
            "-o",
            "exp",
            "--ip-range",
            "127.0.0.2",
            "--port-range",
            "30400"
        ],
        d
    )
    .status
    .success());
    fs::write(d.join("exp/nodes/testnet-rpc-0/nodekey"), "11".repeat(32)).unwrap();
    let o = run(&["export", "-c", "net.yaml", "-o", "exp"], d);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(read(d, "exp/nodes/testnet-rpc-0/nodekey"), "11".repeat(32));
}

#[test]
fn brought_keys_are_used() {
    let (dir, _) = network(&NETWORK.replace(
        "  - {name: rpc, role: rpc, replicas: 2, rpc: {http: true, ws: true}}",
        "  - {name: rpc, role: rpc, replicas: 2, rpc: {http: true}, nodeKeyFiles: [rpc0.key]}",
    ).replace("accounts:\n", "accounts:\n  - {name: mine, keystore: mine.json, passwordFile: mine.pw, balance: 1 ether}\n"));
    let d = dir.path();
    fs::write(
        d.join("rpc0.key"),
        format!(
            "{}\n",
            "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032"
        ),
    )
    .unwrap();
    // The public V3 test vector (scrypt n=262144 r=1 p=8).
    fs::write(d.join("mine.json"), r#"{"address":"008aeeda4d805471df9b2a5b0f38a0c3bcba786b","crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"83dbcc02d8ccb40e466191a123791e0e"},"ciphertext":"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c","kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":8,"r":1,"salt":"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},"mac":"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#).unwrap();
    fs::write(d.join("mine.pw"), "wrong\n").unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrong password"), "{}", stderr(&o));
    fs::write(d.join("mine.pw"), "testpassword\n").unwrap();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = secrets(d, "out");
    assert_eq!(
        s["secrets"]["nodeKeys"]["testnet-rpc-0"],
        "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032"
    );
    let v = values(d, "out");
    assert_eq!(
        v["accounts"][0]["address"],
        "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"
    );
    assert_eq!(
        v["nodeGroups"][1]["nodes"][0]["nodeId"],
        "ed26c72eda802a78a419eae1970e8128ab834e8eac17ab8e3812f010678cf791"
    );
    // The keystore's address funded again as an outside account: a positioned error
    // (its address is known only once the keystore is open), not a crash later.
    let text = read(d, "net.yaml").replace(
        "accounts:\n",
        "accounts:\n  - {address: \"0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b\", balance: 2 ether}\n",
    );
    fs::write(d.join("net.yaml"), text).unwrap();
    let o = run(&["check", "-c", "net.yaml"], d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: accounts[1].keystore: the keystore's address 0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b is already funded by accounts[0]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn generated_files_match_the_types() {
    let r = repo();
    for (args, file) in [
        (vec!["schema"], "schema/kuberneteth.schema.json"),
        (vec!["schema", "--chart"], "chart/values.schema.json"),
        (vec!["docs"], "docs/CONFIG.md"),
        (vec!["docs", "--chart-values"], "chart/values.yaml"),
        (vec!["docs", "--chart-readme"], "chart/README.md"),
    ] {
        let o = run(&args, &r);
        assert!(o.status.success());
        assert_eq!(
            String::from_utf8(o.stdout).unwrap(),
            fs::read_to_string(r.join(file)).unwrap(),
            "{file} is stale: run `make schema`"
        );
    }
}

/// The chart's values table: every row names a value and says what it does.
#[test]
fn every_chart_value_has_a_description() {
    let o = run(&["docs", "--chart-readme"], &repo());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| !l.starts_with("| value | type | default | description |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            // Cells split at `|` but not at an escaped `\|`.
            let mut cells = vec![String::new()];
            let mut escaped = false;
            for c in l.trim().trim_matches('|').chars() {
                if c == '|' && !escaped {
                    cells.push(String::new());
                } else {
                    cells.last_mut().unwrap().push(c);
                }
                escaped = c == '\\';
            }
            cells.iter().map(|c| c.trim().to_string()).collect()
        })
        .collect();
    assert!(rows.len() > 100, "only {} rows", rows.len());
    for row in &rows {
        assert_eq!(row.len(), 4, "{row:?}");
        assert!(row[0].starts_with('`') && row[0].len() > 2, "{row:?}");
        assert!(!row[1].is_empty(), "{}: no type", row[0]);
        assert!(!row[3].is_empty(), "{}: no description", row[0]);
    }
    for path in [
        "`proofOfStake.beaconImage.tag`",
        "`nodeGroups[].role`",
        "`nodeGroups[].validatorArgs`",
        "`nodeGroups[].resources.validator`",
        "`secrets.validatorWallets.<node>.password`",
        "`clusterDomain`",
    ] {
        assert!(rows.iter().any(|r| r[0] == path), "no row for {path}");
    }
}

#[test]
fn examples_check_and_point_editors_at_the_schema() {
    let r = repo();
    let mut n = 0;
    for e in fs::read_dir(r.join("values")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("yaml")
            || p.to_string_lossy().contains("secrets")
        {
            continue;
        }
        n += 1;
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/kuberneteth.schema.json"),
            "{}",
            p.display()
        );
        let o = run(&["check", "-c", p.to_str().unwrap()], &r);
        assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
    }
    assert!(n >= 2, "expected several examples in values/");
}

#[test]
fn no_arguments_compiles_the_default_network() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v = values(dir.path(), "out");
    let groups = v["nodeGroups"].as_array().unwrap();
    assert_eq!(groups[0]["role"], "signer");
    assert_eq!(groups[0]["replicas"], 3);
    assert_eq!(groups[1]["role"], "rpc");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 1);
    // Standard-strength keystores by default.
    let s = secrets(dir.path(), "out");
    let ks = s["secrets"]["signerKeystores"]["devnet-signer-0"]["json"]
        .as_str()
        .unwrap();
    assert!(ks.contains("\"n\":262144"), "{ks}");
}

#[test]
fn help_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--help"], dir.path());
    assert!(o.status.success(), "--help exits {:?}", o.status.code());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Examples:"));
    let o = run(&["completions", "bash"], dir.path());
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("kuberneteth-values")
    );
    let o = run(&["compile", "--bogus"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

/// `KUBERNETETH_NOW` sets the moment networks are checked at; a value that is no
/// Unix time is a usage error (exit 2) naming the variable, before anything is
/// read or written, and never a panic.
#[test]
fn an_invalid_kuberneteth_now_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let with_now = |args: &[&str], now: &str| {
        Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env("KUBERNETETH_NOW", now)
            .output()
            .unwrap()
    };
    for bad in [
        "",
        "soon",
        "-1",
        "1.5",
        "2027-01-01",
        "99999999999999999999",
    ] {
        for args in [
            &["check"][..],
            &["compile", "-o", "out"],
            &["inspect"],
            &["export", "-o", "local"],
            &[],
        ] {
            let o = with_now(args, bad);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{bad:?} {args:?}: {err}");
            assert!(
                err.starts_with("KUBERNETETH_NOW=") && err.contains("Unix seconds"),
                "{bad:?} {args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "wrote files");
    // Commands that check no network do not read it.
    let o = with_now(&["schema"], "soon");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = with_now(&["check"], "0");
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------
// Hostile input and faults: the compiler never crashes, hangs, mixes outputs or
// loses a key. The corpus above covers the refused YAML (aliases, NUL, second
// documents, tags, floats, flags, versions, encodings); these cover the rest.

/// Files in `dir` (recursively) whose name marks them as our temporary files.
fn temps(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(temps(&p));
            } else if e
                .file_name()
                .to_string_lossy()
                .starts_with(".kuberneteth-tmp-")
            {
                out.push(p);
            }
        }
    }
    out
}

fn generation_of(v: &serde_json::Value) -> String {
    v["generation"].as_str().unwrap_or_default().to_string()
}

/// The pair in `out` carries one generation.
fn assert_pair(d: &Path, out: &str) {
    let public = values(d, out);
    let private = secrets(d, out);
    assert_eq!(public["generation"].as_str().unwrap().len(), 64);
    assert_eq!(
        generation_of(&public),
        private["secrets"]["generation"].as_str().unwrap(),
        "values.yaml and secrets.values.yaml come from one compile"
    );
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn encodings_a_bom_utf16_and_long_values() {
    // A UTF-8 byte order mark is skipped, as editors write it.
    let (dir, _) = network("");
    let d = dir.path();
    fs::write(d.join("net.yaml"), format!("\u{feff}{NETWORK}")).unwrap();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // UTF-16 is refused with a position, as an invalid network file.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(NETWORK.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    fs::write(d.join("net.yaml"), utf16).unwrap();
    let o = compile(d, "out2", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("net.yaml:1:1: error: the file is UTF-16"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("out2").exists());
    // A megabyte value is not echoed whole.
    let long = NETWORK.replace("name: testnet", &format!("name: {}", "x".repeat(1_000_000)));
    fs::write(d.join("net.yaml"), long).unwrap();
    let o = run(&["check", "-c", "net.yaml"], d);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).len() < 2000,
        "{} bytes of messages",
        stderr(&o).len()
    );
    assert!(
        stderr(&o).contains("net.yaml:2:9: error: network.name"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unbounded_reads_are_refused() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let o = run(&["check", "-c", "/dev/zero"], d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
    let o = compile(d, "out", &["--secrets", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));
    assert!(!d.join("out").exists());
    for device in ["/dev/zero", "/dev/urandom"] {
        fs::write(
            d.join("net.yaml"),
            NETWORK.replace(
                "replicas: 2, rpc",
                &format!("replicas: 2, nodeKeyFiles: [{device}], rpc"),
            ),
        )
        .unwrap();
        let o = compile(d, "out", &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("net.yaml:7:56: error: nodes[1].nodeKeyFiles[0]: ")
                && stderr(&o).contains("larger than"),
            "{}",
            stderr(&o)
        );
        assert!(!d.join("out").exists());
    }
}

#[test]
fn check_finds_what_compile_would_refuse_in_brought_files() {
    let (dir, _) = network(&NETWORK.replace(
        "replicas: 2, rpc",
        "replicas: 2, nodeKeyFiles: [missing.key], rpc",
    ).replace(
        "accounts:\n",
        "accounts:\n  - {name: mine, keystore: mine.json, passwordFile: mine.pw, balance: 1 ether}\n",
    ));
    let d = dir.path();
    for args in [
        vec!["check", "-c", "net.yaml"],
        vec!["compile", "-c", "net.yaml", "-o", "out"],
    ] {
        let o = run(&args, d);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("net.yaml:7:56: error: nodes[1].nodeKeyFiles[0]: "),
            "{err}"
        );
        assert!(err.contains("missing.key"), "{err}");
        assert!(
            err.contains("net.yaml:9:53: error: accounts[0].passwordFile: "),
            "{err}"
        );
    }
    assert!(!d.join("out").exists());
    assert!(!d.join("kuberneteth.secrets.yaml").exists());
}

/// Values an older release wrote in another shape: recognised as ours (its
/// header) and refused with what to do, never taken for a foreign file or replaced.
#[test]
fn values_of_another_release_are_named_so_and_kept() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    fs::create_dir_all(d.join("out")).unwrap();
    let old = "# Generated by kuberneteth-values 0.0.9 from net.yaml.\ngeneration: a\nnetwork: {name: testnet, genesisStateGz: x}\n";
    fs::write(d.join("out/values.yaml"), old).unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was written by another release of kuberneteth-values"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(d, "out/values.yaml"), old);
}

#[test]
fn an_unreadable_earlier_output_stops_the_compile() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    let other_chain = NETWORK.replace("chainId: 31337", "chainId: 31338");
    fs::write(d.join("net.yaml"), &other_chain).unwrap();
    // Not UTF-8: not ours, refused (3), nothing replaced.
    let mut bytes = fs::read(d.join("out/values.yaml")).unwrap();
    bytes.extend_from_slice(b"# caf\xe9\n");
    fs::write(d.join("out/values.yaml"), &bytes).unwrap();
    let secrets_before = read(d, "out/secrets.values.yaml");
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    assert_eq!(fs::read(d.join("out/values.yaml")).unwrap(), bytes);
    assert_eq!(read(d, "out/secrets.values.yaml"), secrets_before);
    // Cannot be read at all (a directory; mode 000 where root cannot bypass it).
    fs::remove_file(d.join("out/values.yaml")).unwrap();
    fs::create_dir(d.join("out/values.yaml")).unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be read"), "{}", stderr(&o));
    assert_eq!(read(d, "out/secrets.values.yaml"), secrets_before);
    #[cfg(unix)]
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        fs::remove_dir(d.join("out/values.yaml")).unwrap();
        fs::write(d.join("out/values.yaml"), "x: 1\n").unwrap();
        fs::set_permissions(d.join("out/values.yaml"), fs::Permissions::from_mode(0o000)).unwrap();
        let o = compile(d, "out", &[]);
        assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
        assert!(stderr(&o).contains("cannot be read"), "{}", stderr(&o));
    }
}

#[test]
fn the_pair_is_one_unit() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    assert!(compile(d, "out", &[]).status.success());
    assert_pair(d, "out");
    let first = (
        read(d, "out/values.yaml"),
        read(d, "out/secrets.values.yaml"),
    );
    // A directory where secrets.values.yaml goes: nothing is replaced.
    fs::write(
        d.join("net.yaml"),
        NETWORK.replace("replicas: 2", "replicas: 3"),
    )
    .unwrap();
    fs::remove_file(d.join("out/secrets.values.yaml")).unwrap();
    fs::create_dir(d.join("out/secrets.values.yaml")).unwrap();
    let o = compile(d, "out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        read(d, "out/values.yaml"),
        first.0,
        "values.yaml is the old one"
    );
    assert!(temps(d).is_empty(), "{:?}", temps(d));
    fs::remove_dir(d.join("out/secrets.values.yaml")).unwrap();
    // A pair from two compiles is recognised by the next compile, which rewrites both.
    assert!(compile(d, "other", &[]).status.success());
    fs::write(
        d.join("out/secrets.values.yaml"),
        read(d, "other/secrets.values.yaml"),
    )
    .unwrap();
    let o = compile(d, "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("came from different compiles"),
        "{}",
        stderr(&o)
    );
    assert_pair(d, "out");
    // Same inputs, same generation; another input, another generation.
    assert_eq!(values(d, "out"), values(d, "other"));
    assert_ne!(
        generation_of(&values(d, "out")),
        generation_of(&serde_norway::from_str(&first.0).unwrap())
    );
}

/// Compiles `config` into `out` (writing `b.yaml`, the test network with 4 signers,
/// first) and returns the pair it wrote.
fn reference_pair(d: &Path, config: &str, out: &str) -> (String, String) {
    fs::write(
        d.join("b.yaml"),
        NETWORK.replace("replicas: 2", "replicas: 4"),
    )
    .unwrap();
    let o = run(&["compile", "-c", config, "-o", out], d);
    assert!(o.status.success(), "{}", stderr(&o));
    (
        read(d, &format!("{out}/values.yaml")),
        read(d, &format!("{out}/secrets.values.yaml")),
    )
}

/// A values file without its comment header (which names the compile).
fn header_free(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Twenty compiles of two networks into one directory at once: every run
/// succeeds and the pair left is always one compile's.
#[test]
fn concurrent_compiles_never_mix_the_pair() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    // References, one at a time (this also creates the shared secret).
    let refs = [
        reference_pair(d, "net.yaml", "ref-a"),
        reference_pair(d, "b.yaml", "ref-b"),
    ];
    for round in 0..2 {
        let children: Vec<_> = (0..20)
            .map(|i| {
                let config = if i % 2 == 0 { "net.yaml" } else { "b.yaml" };
                Command::new(BIN)
                    .args(["compile", "-c", config, "-o", "shared"])
                    .current_dir(d)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", stderr(&o));
        }
        assert_pair(d, "shared");
        let got = (
            header_free(&read(d, "shared/values.yaml")),
            header_free(&read(d, "shared/secrets.values.yaml")),
        );
        assert!(
            refs.iter()
                .any(|(v, s)| header_free(v) == got.0 && header_free(s) == got.1),
            "round {round}: the pair is not one compile's output"
        );
        assert!(temps(d).is_empty());
    }
}

/// kill -9 at spread-out moments of a compile: every file left is complete (an
/// old or a new version), a torn pair is recognised, the next run leaves no
/// temporary file and a consistent pair.
#[test]
fn kill_at_random_points_loses_nothing() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let a = reference_pair(d, "net.yaml", "out");
    let b = reference_pair(d, "b.yaml", "ref-b");
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let config = if i % 2 == 0 { "b.yaml" } else { "net.yaml" };
        let mut child = Command::new(BIN)
            .args(["compile", "-c", config, "-o", "out"])
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(seed % 150_000));
        let _ = child.kill();
        let _ = child.wait();
        let now = (
            read(d, "out/values.yaml"),
            read(d, "out/secrets.values.yaml"),
        );
        for (file, text) in [("values.yaml", &now.0), ("secrets.values.yaml", &now.1)] {
            let whole = [&a, &b].iter().any(|p| {
                let reference = if file == "values.yaml" { &p.0 } else { &p.1 };
                header_free(reference) == header_free(text)
            });
            assert!(whole, "kill {i}: {file} is no complete version");
        }
        for t in temps(d) {
            assert!(t
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".kuberneteth-tmp-"));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&t)
                    .map(|m| m.permissions().mode() & 0o777)
                    .unwrap_or(0o600);
                assert!(mode == 0o600 || mode == 0o644, "{t:?}: mode {mode:o}");
            }
        }
    }
    let o = compile(d, "out", &["--allow-genesis-change"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(temps(d).is_empty(), "{:?}", temps(d));
    assert_pair(d, "out");
}

/// A full disk (a small tmpfs, when this test may mount one): the compile fails
/// with exit 4, the old pair stays, no temporary file is left, and a master secret
/// is created complete or not at all.
#[test]
fn a_full_disk_leaves_the_old_outputs() {
    if !is_root() {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let mnt = d.join("small");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    assert!(compile(d, "small/out", &[]).status.success());
    let before = (
        read(d, "small/out/values.yaml"),
        read(d, "small/out/secrets.values.yaml"),
    );
    // Fill the disk.
    let mut filler = fs::File::create(mnt.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    drop(filler);
    fs::write(
        d.join("net.yaml"),
        NETWORK.replace("replicas: 2", "replicas: 4"),
    )
    .unwrap();
    let o = compile(d, "small/out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(read(d, "small/out/values.yaml"), before.0);
    assert_eq!(read(d, "small/out/secrets.values.yaml"), before.1);
    assert!(temps(&mnt).is_empty(), "{:?}", temps(&mnt));
    // The master secret on a full disk: no file, never a 0-byte one.
    let o = compile(d, "out", &["--secrets", "small/new.secrets.yaml"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(!mnt.join("new.secrets.yaml").exists());
    assert!(temps(&mnt).is_empty(), "{:?}", temps(&mnt));
}

#[test]
fn closed_pipes_and_full_outputs_are_clean_exits() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let closed_pipe = |args: &[&str]| {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(d)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close both read ends before the child writes.
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().unwrap()
    };
    assert_eq!(closed_pipe(&["check", "-c", "nope"]).code(), Some(4));
    assert_eq!(closed_pipe(&["schema"]).code(), Some(0));
    assert_eq!(closed_pipe(&["completions", "bash"]).code(), Some(0));
    assert_eq!(closed_pipe(&["--help"]).code(), Some(0));
    if Path::new("/dev/full").exists() {
        for args in [
            vec!["completions", "bash"],
            vec!["schema", "--chart"],
            vec!["docs"],
        ] {
            let o = Command::new(BIN)
                .args(&args)
                .current_dir(d)
                .stdout(
                    fs::OpenOptions::new()
                        .write(true)
                        .open("/dev/full")
                        .unwrap(),
                )
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
        }
        let o = Command::new(BIN)
            .args(["check", "-c", "nope"])
            .current_dir(d)
            .stderr(
                fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(4));
    }
}

#[test]
fn export_ranges_are_usage_errors_before_anything_is_created() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    for (flag, value, says) in [
        ("--ip-range", "255.255.255.254", "255.255.255.255"),
        ("--port-range", "65533", "65535"),
        ("--port-range", "0", "port 0"),
    ] {
        let o = run(&["export", "-c", "net.yaml", "-o", "exp", flag, value], d);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
        assert!(!d.join("exp").exists());
        assert!(!d.join("kuberneteth.secrets.yaml").exists());
    }
    // Exactly enough: 5 nodes from 65531 end at 65535.
    let o = run(
        &[
            "export",
            "-c",
            "net.yaml",
            "-o",
            "exp",
            "--port-range",
            "65531",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_secret_goes_only_where_it_can_be_found_again() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let mut child = Command::new(BIN)
        .args(["compile", "-c", "/dev/stdin", "-o", "out"])
        .current_dir(d)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), NETWORK.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/kuberneteth.secrets.yaml") && stderr(&o).contains("--secrets"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new("/dev/kuberneteth.secrets.yaml").exists());
    assert!(!d.join("out").exists());
}

#[test]
fn first_runs_at_once_share_one_secret_and_directories_are_private() {
    let (dir, _) = network(NETWORK);
    let d = dir.path();
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(BIN)
                .args([
                    "compile",
                    "-c",
                    "net.yaml",
                    "--secrets",
                    "keys/deep/s.yaml",
                    "-o",
                ])
                .arg(format!("outs/{i}"))
                .current_dir(d)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let first = values(d, "outs/0");
    for i in 1..8 {
        assert_eq!(
            values(d, &format!("outs/{i}")),
            first,
            "run {i} used another secret"
        );
    }
    assert!(temps(d).is_empty(), "{:?}", temps(d));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
        for p in ["keys", "keys/deep", "outs", "outs/0"] {
            assert_eq!(mode(p), 0o700, "{p}");
        }
        // A secrets file others can read is used, with a warning (as ssh does).
        fs::set_permissions(
            d.join("keys/deep/s.yaml"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let o = compile(d, "outs/0", &["--secrets", "keys/deep/s.yaml"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("readable or writable by group or others (mode 0644)"),
            "{}",
            stderr(&o)
        );
    }
    // A secrets file emptied by something else is explained, never replaced.
    fs::write(d.join("keys/deep/s.yaml"), "").unwrap();
    let o = compile(d, "outs/0", &["--secrets", "keys/deep/s.yaml"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("is empty"), "{}", stderr(&o));
}
