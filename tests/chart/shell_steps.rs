//! The pods' shell steps, run for real: the `prepare` and `init-genesis` init steps
//! and the geth wrapper.

use std::fs;
use std::process::Command;

use crate::support::{
    default_example, examples, init_container, install_fake, name, network_name, node_groups,
    object, of_kind, run_prepare, NAMESPACE,
};

#[test]
fn prepare_step_writes_the_final_config_and_this_pods_keys() {
    for ex in examples() {
        let public = ex.public();
        let private = ex.private();
        for g in public["nodeGroups"].as_array().unwrap() {
            let group = g["name"].as_str().unwrap();
            let node = &g["nodes"][g["nodes"].as_array().unwrap().len() - 1];
            let pod = node["name"].as_str().unwrap();
            let r = run_prepare(ex, group, pod, &[]);
            assert!(
                r.status.success(),
                "{}: prepare failed for {pod}:\n{}",
                ex.name,
                r.stderr
            );
            let config = fs::read_to_string(r.run.join("config.toml")).unwrap();
            let mut want = g["config"].as_str().unwrap().to_string();
            for (i, h) in g["peerHosts"].as_array().unwrap().iter().enumerate() {
                let h = h.as_str().unwrap();
                want = want.replace(&format!("@{h}:"), &format!("@10.96.0.{}:", 10 + i));
            }
            let want = want
                .replace("__NODE_NAME__", pod)
                .replace("__NAMESPACE__", NAMESPACE)
                .replace("__CLUSTER_DOMAIN__", "cluster.local")
                .replace(
                    "__ETHSTATS_SECRET__",
                    private["secrets"]["ethstatsSecret"].as_str().unwrap(),
                );
            assert_eq!(config, want, "{}: final config of {pod}", ex.name);
            assert_eq!(
                fs::read_to_string(r.run.join("nodekey")).unwrap(),
                private["secrets"]["nodeKeys"][pod].as_str().unwrap(),
                "{}: node key of {pod}",
                ex.name
            );
            let address = node["signerAddress"].as_str().unwrap();
            if address.is_empty() {
                assert!(
                    !r.run.join("keystore").exists(),
                    "{}: {pod} got a keystore",
                    ex.name
                );
                assert!(!r.run.join("password").exists());
                continue;
            }
            let ks = &private["secrets"]["signerKeystores"][pod];
            let file = r
                .run
                .join("keystore")
                .join(ks["fileName"].as_str().unwrap());
            assert_eq!(
                fs::read_to_string(&file).unwrap(),
                ks["json"].as_str().unwrap()
            );
            assert_eq!(
                fs::read_dir(r.run.join("keystore")).unwrap().count(),
                1,
                "only this pod's keystore"
            );
            assert_eq!(
                fs::read_to_string(r.run.join("password")).unwrap(),
                private["secrets"]["keystorePassword"].as_str().unwrap()
            );
            assert_eq!(
                fs::read_to_string(r.run.join("signer-address"))
                    .unwrap()
                    .trim(),
                address
            );
        }
    }
}

#[test]
fn prepare_step_fails_clearly_when_a_peer_does_not_resolve() {
    let ex = default_example();
    let public = ex.public();
    let g = &public["nodeGroups"][0];
    let pod = g["nodes"][0]["name"].as_str().unwrap();
    let missing = g["peerHosts"][g["peerHosts"].as_array().unwrap().len() - 1]
        .as_str()
        .unwrap();
    let started = std::time::Instant::now();
    let r = run_prepare(ex, g["name"].as_str().unwrap(), pod, &[missing]);
    assert!(!r.status.success(), "prepare succeeded without {missing}");
    assert!(
        r.stderr
            .contains(&format!("peer Service {missing} did not resolve within 2s")),
        "unclear failure:\n{}",
        r.stderr
    );
    assert!(started.elapsed().as_secs() < 30);
    assert!(!r.run.join("config.toml").exists());
}

#[test]
fn geth_wrapper_appends_this_pods_signer_address() {
    for ex in examples() {
        let docs = ex.render();
        for sts in of_kind(&docs, "StatefulSet") {
            let geth = &sts["spec"]["template"]["spec"]["containers"][0];
            let dir = tempfile::tempdir().unwrap();
            let bin = echoing_geth(dir.path());
            fs::write(dir.path().join("signer-address"), "0xAbC\n").unwrap();
            let script = geth["command"][2]
                .as_str()
                .unwrap()
                .replace("/run/kuberneteth", &dir.path().to_string_lossy());
            let args: Vec<&str> = geth["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let mut argv: Vec<&str> = geth["command"][3].as_str().into_iter().collect();
            argv.extend(&args);
            let stdout = run_step(&script, &argv, &bin, &ex.name);
            let got: Vec<String> = stdout.lines().map(String::from).collect();
            let mut want: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if serde_json::to_string(&geth["command"])
                .unwrap()
                .contains("--unlock")
            {
                want.push("--miner.etherbase=0xAbC".into());
                want.push("--unlock=0xAbC".into());
            }
            assert_eq!(got, want, "{}: geth argv of {}", ex.name, name(sts));
        }
    }
}

/// `geth init` creates a new database with the group's `newDatabaseArgs` (proof of
/// stake: LevelDB), and opens an existing one without them: geth refuses an engine
/// flag unlike the database's, and a running network keeps the engine it began with.
#[test]
fn init_genesis_adds_new_database_args_only_to_an_empty_datadir() {
    for ex in examples() {
        let public = ex.public();
        let docs = ex.render();
        let net = network_name(&public);
        for group in node_groups(&public) {
            let sts = object(
                &docs,
                "StatefulSet",
                &format!("{net}-{}", group["name"].as_str().unwrap()),
            );
            let step = init_container(&sts["spec"]["template"]["spec"], "init-genesis");
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            fs::create_dir_all(&data).unwrap();
            let bin = echoing_geth(dir.path());
            let script = step["command"][2]
                .as_str()
                .unwrap()
                .replace("/data", &data.to_string_lossy());
            let argv: Vec<&str> = step["command"].as_array().unwrap()[3..]
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let run = || run_step(&script, &argv, &bin, &ex.name);
            let new_args: Vec<String> = group["newDatabaseArgs"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let empty = run();
            fs::create_dir_all(data.join("geth/chaindata")).unwrap();
            let existing = run();
            for a in &new_args {
                assert!(
                    empty.lines().any(|l| l == a),
                    "{}: {}: {a} not given to a new database:\n{empty}",
                    ex.name,
                    name(sts)
                );
                assert!(
                    !existing.lines().any(|l| l == a),
                    "{}: {}: {a} given to an existing database",
                    ex.name,
                    name(sts)
                );
            }
            let pos = public["proofOfStake"].is_object();
            assert_eq!(
                new_args == ["--db.engine=leveldb"],
                pos,
                "{}: {}: {new_args:?}",
                ex.name,
                name(sts)
            );
        }
    }
}

/// A `geth` in `<dir>/bin` that prints each of its arguments on a line; returns the bin.
fn echoing_geth(dir: &std::path::Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    install_fake(
        &bin,
        "geth",
        "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n",
    );
    bin
}

/// Runs a container's `sh -c` step with `argv` (`$0` first) and the tools in `bin`;
/// it must succeed. Returns what it printed.
fn run_step(script: &str, argv: &[&str], bin: &std::path::Path, example: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .args(argv)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{example}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
