//! The pods' shell steps, run for real: the `prepare` and `init-genesis` init steps
//! and the geth wrapper.

use std::fs;
use std::process::Command;

use crate::support::{
    chart_dir, container_env, container_script, default_example, examples, helm, init_container,
    install_fake, name, network_name, node_groups, object, of_kind, parse_docs, run_prepare,
    NAMESPACE, RELEASE,
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
            let spec = &sts["spec"]["template"]["spec"];
            let step = init_container(spec, "init-genesis");
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            fs::create_dir_all(&data).unwrap();
            let bin = echoing_geth(dir.path());
            // The script file of the `<network>-scripts` ConfigMap, run as the pod does:
            // `sh <file> <args>`, with the container's environment.
            let (script, args) = container_script(&docs, spec, step);
            let file = dir.path().join("init-genesis.sh");
            fs::write(&file, script.replace("/data", &data.to_string_lossy())).unwrap();
            let env = container_env(step);
            let run = || {
                let out = Command::new("sh")
                    .arg(&file)
                    .args(&args)
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}: {}",
                    ex.name,
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8(out.stdout).unwrap()
            };
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
            // Exactly: `geth init --datadir /data <the group's --state.scheme and
            // --db.engine flags> [newDatabaseArgs] <genesis>`, after one line of its own.
            let init_args: Vec<String> = group["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .filter(|a| a.starts_with("--state.scheme") || a.starts_with("--db.engine"))
                .collect();
            let argv = |extra: &[String]| -> Vec<String> {
                let mut v = vec![
                    "init".to_string(),
                    "--datadir".to_string(),
                    data.to_string_lossy().into_owned(),
                ];
                v.extend(init_args.iter().cloned());
                v.extend(extra.iter().cloned());
                v.push("/etc/kuberneteth/genesis/genesis.json".into());
                v
            };
            let lines = |out: &str| -> Vec<String> { out.lines().map(String::from).collect() };
            let mut want =
                vec!["init-genesis: empty datadir; writing the genesis block".to_string()];
            want.extend(argv(&new_args));
            assert_eq!(lines(&empty), want, "{}: {}", ex.name, name(sts));
            let mut want = vec![format!(
                "init-genesis: checking that {} holds the compiled genesis",
                data.display()
            )];
            want.extend(argv(&[]));
            assert_eq!(lines(&existing), want, "{}: {}", ex.name, name(sts));
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

/// Every network ships the chart's init scripts (files/init-genesis.sh, files/prepare.sh)
/// verbatim in its `<network>-scripts` ConfigMap, and every node pod's init steps run
/// them from there.
#[test]
fn init_steps_run_the_charts_scripts_from_the_scripts_config_map() {
    let file = |f: &str| fs::read_to_string(chart_dir().join("files").join(f)).unwrap();
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let scripts = object(&docs, "ConfigMap", &format!("{net}-scripts"));
        for f in ["init-genesis.sh", "prepare.sh"] {
            assert_eq!(
                scripts["data"][f].as_str(),
                Some(file(f).as_str()),
                "{}: {f} ships verbatim",
                ex.name
            );
        }
        for sts in of_kind(&docs, "StatefulSet") {
            let spec = &sts["spec"]["template"]["spec"];
            for (step, f) in [
                ("init-genesis", "init-genesis.sh"),
                ("prepare", "prepare.sh"),
            ] {
                let (text, _) = container_script(&docs, spec, init_container(spec, step));
                assert_eq!(text, file(f), "{}: {} {step}", ex.name, name(sts));
            }
        }
    }
}

/// A change to an init script rolls every node pod (their checksum/config covers the
/// scripts they run); the signer voting script only the pods that run it.
#[test]
fn a_changed_script_rolls_the_pods_that_run_it() {
    let ex = default_example();
    let base = ex.render();
    let checksums = |docs: &[serde_json::Value]| -> Vec<(String, String, bool)> {
        of_kind(docs, "StatefulSet")
            .into_iter()
            .map(|sts| {
                let t = &sts["spec"]["template"];
                (
                    name(sts).to_string(),
                    t["metadata"]["annotations"]["checksum/config"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    t["spec"]["containers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c["name"] == "vote-signers"),
                )
            })
            .collect()
    };
    let before = checksums(&base);
    assert!(before.iter().any(|(_, _, votes)| *votes));
    assert!(before.iter().any(|(_, _, votes)| !*votes));
    for f in ["init-genesis.sh", "prepare.sh", "vote-signers.sh"] {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        copy_dir(&chart_dir(), &chart);
        let script = chart.join("files").join(f);
        let mut text = fs::read_to_string(&script).unwrap();
        text.push_str("# changed\n");
        fs::write(&script, text).unwrap();
        let mut cmd = Command::new(helm());
        cmd.args(["template", RELEASE])
            .arg(&chart)
            .args(["--namespace", NAMESPACE]);
        for v in ex.files() {
            cmd.arg("-f").arg(v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = checksums(&parse_docs(&String::from_utf8(out.stdout).unwrap()));
        for ((sts, was, votes), (_, now, _)) in before.iter().zip(&after) {
            let runs = f != "vote-signers.sh" || *votes;
            assert_eq!(was != now, runs, "{f}: checksum/config of {sts}");
        }
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
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
