//! Clique signer votes: the wanted signers' ConfigMap, the `vote-signers` container of
//! signer pods, and what its script (chart/files/vote-signers.sh) has geth do, run
//! against a stand-in `geth attach` whose console is a model of geth's clique API
//! evaluated by Node.js.

use std::fs;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::*;

fn wanted_lines(public: &Value) -> Vec<String> {
    public["clique"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["address"].as_str().unwrap(),
                s["node"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn signer_pods_vote_toward_the_compiled_signers() {
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let clique = public["clique"].is_object();
        let mut signer_pods = Vec::new();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
            let spec = &sts["spec"]["template"]["spec"];
            let voter = containers(spec)
                .into_iter()
                .find(|c| c["name"] == "vote-signers");
            let signer = g["role"] == "signer";
            assert_eq!(voter.is_some(), clique && signer, "{}: {group}", ex.name);
            if signer {
                signer_pods.extend(
                    g["nodes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n["name"].as_str().unwrap().to_string()),
                );
            }
            let Some(voter) = voter else { continue };
            let geth = geth_container(&docs, net, group);
            assert_eq!(
                voter["image"], geth["image"],
                "{}: {group}: geth's image, for `geth attach`",
                ex.name
            );
            let env: Vec<(String, String)> = voter["env"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().into(),
                        e["value"].as_str().unwrap_or("").into(),
                    )
                })
                .collect();
            assert!(
                env.contains(&("IPC_SOCKET".into(), "/data/geth.ipc".into())),
                "{env:?}"
            );
            let mounts: Vec<&str> = voter["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["mountPath"].as_str().unwrap())
                .collect();
            assert!(
                mounts.contains(&"/data"),
                "{}: {group}: {mounts:?}",
                ex.name
            );
            assert!(voter["livenessProbe"].is_object(), "{}: {group}", ex.name);
        }
        let signers = docs
            .iter()
            .find(|d| kind(d) == "ConfigMap" && name(d) == format!("{net}-signers"));
        if !clique {
            assert!(signers.is_none(), "{}", ex.name);
            continue;
        }
        let cm = signers.unwrap_or_else(|| panic!("{}: no ConfigMap {net}-signers", ex.name));
        let lines: Vec<String> = cm["data"]["signers"]
            .as_str()
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines, wanted_lines(&public), "{}", ex.name);
        // The compiled set is exactly the running signer pods.
        let wanted_pods: Vec<String> = lines
            .iter()
            .map(|l| l.split(' ').nth(1).unwrap().to_string())
            .collect();
        assert_eq!(wanted_pods, signer_pods, "{}", ex.name);
        let scripts = object(&docs, "ConfigMap", &format!("{net}-scripts"));
        assert_eq!(
            scripts["data"]["vote-signers.sh"].as_str().unwrap(),
            fs::read_to_string(chart_dir().join("files/vote-signers.sh")).unwrap(),
            "{}: the script ships verbatim",
            ex.name
        );
    }
}

#[test]
fn a_new_signer_list_restarts_no_pod() {
    let ex = default_example();
    let mut public = ex.public();
    let before = ex.render();
    let signers = public["clique"]["signers"].as_array_mut().unwrap();
    signers.pop();
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("values.json");
    write_json(&edited, &public);
    let after = parse_docs(&render(&[&edited, ex.files()[1]]));
    let cm = object(
        &after,
        "ConfigMap",
        &format!("{}-signers", network_name(&public)),
    );
    assert_eq!(
        cm["data"]["signers"].as_str().unwrap().lines().count(),
        wanted_lines(&public).len()
    );
    for sts in of_kind(&before, "StatefulSet") {
        let now = object(&after, "StatefulSet", name(sts));
        assert_eq!(
            sts["spec"]["template"],
            now["spec"]["template"],
            "{}: its pods would restart for a vote",
            name(sts)
        );
    }
}

/// SIGTERM, as the kubelet stops a container: the script ends its sleep too, so
/// nothing holds its output open.
fn stop(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Runs one round of the vote script against a console whose chain has
/// `chain_signers` and open `proposals`, wanting `wanted`; returns what the script
/// logged and the console calls it made, one per line.
fn vote_round(chain_signers: &[&str], proposals: &str, wanted: &[&str]) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ipc = d.join("geth.ipc");
    let _socket = UnixListener::bind(&ipc).unwrap();
    let signers_file = d.join("signers");
    fs::write(
        &signers_file,
        wanted
            .iter()
            .map(|a| format!("{a} pod\n"))
            .collect::<String>(),
    )
    .unwrap();
    let calls = d.join("calls");
    // geth's console API, as web3ext.go defines it for clique: getSigners() and
    // proposals (a property) read, propose(address, auth) and discard(address) record.
    let console = format!(
        "const fs = require('fs');\n\
         const record = (c) => fs.appendFileSync({calls:?}, c + '\\n');\n\
         const clique = {{\n\
           getSigners: () => {signers},\n\
           proposals: {proposals},\n\
           propose: (a, auth) => record('propose ' + a + ' ' + auth),\n\
           discard: (a) => record('discard ' + a),\n\
         }};\n\
         const js = fs.readFileSync(process.argv[2], 'utf8');\n\
         console.log(JSON.stringify(eval(js)));\n",
        calls = calls.to_string_lossy(),
        signers = serde_json::to_string(chain_signers).unwrap(),
    );
    fs::write(d.join("console.js"), console).unwrap();
    let bin = d.join("bin");
    install_fake(
        &bin,
        "geth",
        &format!(
            "#!/bin/sh\n[ \"$1 $2\" = \"attach --exec\" ] || exit 2\nprintf '%s' \"$3\" > {dir}/round.js\nexec node {dir}/console.js {dir}/round.js\n",
            dir = d.display()
        ),
    );
    let heartbeat = d.join("alive");
    let child = Command::new("sh")
        .arg(chart_dir().join("files/vote-signers.sh"))
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("IPC_SOCKET", &ipc)
        .env("SIGNERS_FILE", &signers_file)
        .env("HEARTBEAT", &heartbeat)
        .env("INTERVAL_SECONDS", "600")
        .env("SETTLED_INTERVAL_SECONDS", "600")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !heartbeat.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no round in 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(&child);
    let out = child.wait_with_output().unwrap();
    let made = fs::read_to_string(&calls).unwrap_or_default();
    (
        String::from_utf8(out.stdout).unwrap(),
        made.lines().map(String::from).collect(),
    )
}

#[test]
fn a_vote_round_proposes_what_differs_and_discards_what_passed() {
    let (a, b, c, d) = (
        "0xAaaa000000000000000000000000000000000001",
        "0xbbbb000000000000000000000000000000000002",
        "0xcccc000000000000000000000000000000000003",
        "0xdddd000000000000000000000000000000000004",
    );
    let e = "0xEeee000000000000000000000000000000000005";
    // The chain counts a, b, c, d; the file wants a, b, e. Open: e in (still needed),
    // d out (still needed), a out (not wanted: discarded), f in (not wanted: discarded).
    let f = "0xffff000000000000000000000000000000000006";
    let proposals = format!("{{'{e}': true, '{d}': false, '{a}': false, '{f}': true}}");
    let (log, calls) = vote_round(&[a, b, c, d], &proposals, &[a, b, e]);
    let lower = |s: &str| s.to_lowercase();
    assert_eq!(calls.len(), 5, "{log}");
    assert_eq!(
        calls,
        vec![
            format!("propose {} true", lower(e)),
            format!("propose {} false", lower(c)),
            format!("propose {} false", lower(d)),
            format!("discard {a}"),
            format!("discard {f}"),
        ]
    );
    assert!(
        log.contains(&format!(
            "proposed +{} -{} -{} (signers now: 4)",
            lower(e),
            lower(c),
            lower(d)
        )),
        "{log}"
    );
    // Settled: nothing proposed, only stale proposals discarded.
    let (log, calls) = vote_round(&[a, b], &format!("{{'{c}': true}}"), &[b, a]);
    assert_eq!(calls, vec![format!("discard {c}")]);
    assert!(log.trim_end().ends_with("vote-signers: settled"), "{log}");
}

#[test]
fn a_vote_round_waits_for_geth_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let heartbeat = dir.path().join("alive");
    let signers = dir.path().join("signers");
    fs::write(&signers, "0xAaaa000000000000000000000000000000000001 pod\n").unwrap();
    let child = Command::new("sh")
        .arg(chart_dir().join("files/vote-signers.sh"))
        .env("IPC_SOCKET", dir.path().join("absent.ipc"))
        .env("SIGNERS_FILE", &signers)
        .env("HEARTBEAT", &heartbeat)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !Path::new(&heartbeat).exists() {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
    }
    // SIGTERM (the kubelet stopping the pod) ends it at once, mid-sleep, and cleanly.
    let term = Instant::now();
    stop(&child);
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{:?}", done.status);
    assert!(
        term.elapsed() < Duration::from_secs(5),
        "{:?}",
        term.elapsed()
    );
    let out = String::from_utf8(done.stdout).unwrap();
    assert!(out.contains("waiting for geth's IPC socket"), "{out}");
}
