//! Validator exits: the pre-upgrade Job `<network>-exits` and its NetworkPolicy render
//! only when the values list exits, and its script (chart/files/wait-for-exits.sh)
//! waits until every leaving validator has exited, run against a stand-in `wget`
//! that answers the Beacon API from files.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::support::*;

#[test]
fn networks_without_exits_render_no_exits_objects() {
    for ex in examples() {
        let docs = ex.render();
        assert!(
            docs.iter().all(|o| !name(o).ends_with("-exits")),
            "{}: an exits object without exits",
            ex.name
        );
    }
}

/// `pos-tiny` grown to 4 validator pods, compiled, then lowered to 3: the values list
/// the exits of the fourth pod.
fn compiled_with_exits(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let text = fs::read_to_string(top().join("tests/chart/networks/pos-tiny.yaml")).unwrap();
    let four = text.replace(
        "    replicas: 2\n",
        "    replicas: 4\n    genesisReplicas: 4\n",
    );
    assert_ne!(four, text);
    let net = dir.join("net.yaml");
    let compile = || {
        let o = Command::new(env!("CARGO_BIN_EXE_kuberneteth-values"))
            .arg("compile")
            .arg("-c")
            .arg(&net)
            .arg("-o")
            .arg(dir.join("out"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    fs::write(&net, &four).unwrap();
    compile();
    fs::write(&net, four.replace("    replicas: 4\n", "    replicas: 3\n")).unwrap();
    compile();
    (
        dir.join("out/values.yaml"),
        dir.join("out/secrets.values.yaml"),
    )
}

#[test]
fn the_exits_job_is_a_pre_upgrade_hook_that_reaches_only_the_beacon_api() {
    let dir = scratch().join("exits-render");
    let (values, secrets) = compiled_with_exits(&dir);
    let public = read_yaml(&values);
    let exits = public["proofOfStake"]["exits"].as_array().unwrap().clone();
    assert_eq!(exits.len(), 1);
    let docs = parse_docs(&render(&[&values, &secrets]));
    let job = object(&docs, "Job", "tiny-exits");
    let annotations = str_map(&job["metadata"]["annotations"]);
    assert_eq!(annotations["helm.sh/hook"], "pre-upgrade");
    assert_eq!(
        annotations["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded"
    );
    // A refused upgrade shows the operator the Job's log: what to run.
    assert_eq!(annotations["helm.sh/hook-output-log-policy"], "hook-failed");
    let spec = &job["spec"]["template"]["spec"];
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    let c = &containers(spec)[0];
    assert_eq!(c["image"], "ethereum/client-go:v1.17.10");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        c["args"][0].as_str().unwrap(),
        fs::read_to_string(chart_dir().join("files/wait-for-exits.sh")).unwrap()
    );
    let env: std::collections::BTreeMap<String, String> = container_env(c).into_iter().collect();
    assert_eq!(
        env["BEACON_API"],
        "http://tiny-validator-0.tiny-validator-peers.default.svc.cluster.local:3500"
    );
    let want: Vec<String> = strings(&exits[0]["pubkeys"])
        .iter()
        .map(|k| format!("tiny-validator-3 {k}"))
        .collect();
    assert_eq!(env["EXITS"], want.join("\n"));
    assert_eq!(env["INTERVAL_SECONDS"], "6");
    // The Job's pod: nothing reaches it; it reaches the Beacon API and DNS only.
    let policy = object(&docs, "NetworkPolicy", "tiny-exits");
    assert_eq!(
        str_map(&policy["metadata"]["annotations"])["helm.sh/hook"],
        "pre-upgrade"
    );
    assert_eq!(
        str_map(&policy["metadata"]["annotations"])["helm.sh/hook-weight"],
        "-1"
    );
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "exits"
    );
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"],
        "exits"
    );
    assert_eq!(
        strings(&policy["spec"]["policyTypes"]),
        ["Ingress", "Egress"]
    );
    assert!(policy["spec"].get("ingress").is_none());
    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress.len(), 2);
    assert_eq!(
        egress[0]["ports"],
        serde_json::json!([{"port": 3500, "protocol": "TCP"}])
    );
    assert_eq!(
        egress[1]["ports"],
        serde_json::json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}])
    );
    // The beacon node's pod takes its Beacon API from the release's pods, the Job's too.
    let nodes = object(&docs, "NetworkPolicy", "tiny-validator");
    assert!(nodes["spec"]["ingress"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["port"] == 3500));
}

/// Runs the Job's script with the rendered environment, a stand-in `wget` answering
/// each validator's status from `<dir>/<pubkey>` (one status a line, the last one
/// kept; `404`: unknown), and `extra` settings.
fn run_wait(
    dir: &Path,
    env: &[(String, String)],
    statuses: &dyn Fn(usize) -> String,
    extra: &[(&str, &str)],
) -> (bool, String) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let exits = &env.iter().find(|(k, _)| k == "EXITS").unwrap().1;
    for (i, line) in exits.lines().enumerate() {
        let pubkey = line.split_whitespace().nth(1).unwrap();
        fs::write(dir.join(pubkey), statuses(i)).unwrap();
    }
    let bin = dir.join("bin");
    install_fake(
        &bin,
        "wget",
        &format!(
            "#!/bin/sh\nurl=$4\nf={}/${{url##*/}}\nline=$(head -n 1 \"$f\")\nrest=$(tail -n +2 \"$f\")\n[ -z \"$rest\" ] || printf '%s\\n' \"$rest\" > \"$f\"\nif [ \"$line\" = 404 ]; then echo 'wget: server returned error: HTTP/1.1 404 Not Found' >&2; exit 1; fi\nprintf '{{\"data\":{{\"index\":\"1\",\"status\":\"%s\"}}}}' \"$line\"\n",
            dir.display()
        ),
    );
    let mut cmd = Command::new("sh");
    cmd.arg(chart_dir().join("files/wait-for-exits.sh"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    )
    .env("TMPDIR", dir)
    .env("INTERVAL_SECONDS", "0");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_exits_job_waits_until_every_validator_has_exited_and_fails_otherwise() {
    let dir = scratch().join("exits-script");
    let (values, secrets) = compiled_with_exits(&dir.join("compiled"));
    let docs = parse_docs(&render(&[&values, &secrets]));
    let job = object(&docs, "Job", "tiny-exits");
    let env = container_env(containers(&job["spec"]["template"]["spec"])[0]);
    let work = dir.join("run");

    // Exits under way: it waits, then succeeds (one validator never deposited: 404).
    let (ok, log) = run_wait(
        &work,
        &env,
        &|i| {
            if i == 0 {
                "404\n".into()
            } else {
                "active_exiting\nactive_exiting\nexited_unslashed\n".into()
            }
        },
        &[],
    );
    assert!(ok, "{log}");
    assert!(log.contains("tiny-validator-3:active_exiting"), "{log}");
    assert!(log.contains("tiny-validator-3:unknown"), "{log}");
    assert!(log.contains("every leaving validator has exited"), "{log}");

    // Exits that take too long: it fails, and says so.
    let (ok, log) = run_wait(
        &work,
        &env,
        &|_| "active_exiting\n".into(),
        &[("TIMEOUT_SECONDS", "1"), ("INTERVAL_SECONDS", "1")],
    );
    assert!(!ok, "{log}");
    assert!(
        log.contains("not every leaving validator has exited after 1s"),
        "{log}"
    );

    // No exit sent (`exit` not run): it fails, says what to run, and that nothing went.
    let (ok, log) = run_wait(
        &work,
        &env,
        &|_| "active_ongoing\n".into(),
        &[("GRACE_SECONDS", "0")],
    );
    assert!(!ok, "{log}");
    assert!(
        log.contains("these validators have no exit under way"),
        "{log}"
    );
    assert!(log.contains("run kuberneteth-values exit -c FILE -o DIR --beacon-api URL (port-forward pod/tiny-validator-0 3500)"), "{log}");
    assert!(log.contains("nothing was removed"), "{log}");
}
