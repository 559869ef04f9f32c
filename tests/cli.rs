//! The compiler as users run it: the binary, real files, exit codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kuberneteth-values");

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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
    assert!(stderr(&o).contains("signer set"));
    assert_eq!(before, read(d, "out/values.yaml"));
    let o = compile(d, "out", &["--allow-genesis-change"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(before, read(d, "out/values.yaml"));
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
    assert!(
        toml.contains("HTTPVirtualHosts = [\"localhost\", \"testnet-rpc-rpc\"]"),
        "{toml}"
    );
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
    assert!(toml.contains("ListenAddr = \":30403\""), "{toml}");
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
}

#[test]
fn generated_files_match_the_types() {
    let r = repo();
    for (args, file) in [
        (vec!["schema"], "schema/kuberneteth.schema.json"),
        (vec!["schema", "--chart"], "chart/values.schema.json"),
        (vec!["docs"], "docs/CONFIG.md"),
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
    assert!(String::from_utf8_lossy(&o.stdout).contains("Examples:"));
    let o = run(&["completions", "bash"], dir.path());
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("kuberneteth-values")
    );
    let o = run(&["compile", "--bogus"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}
