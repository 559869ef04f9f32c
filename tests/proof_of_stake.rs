//! Proof-of-stake networks as users compile them: the binary, real files, exit codes.
//! The byte-level checks against independent implementations (the executable
//! consensus spec, geth, ethstaker-deposit) are in `scripts/oracle-pos.sh`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Output;

mod common;
use common::args::flag;
use common::beacon_state::{address_credentials, BeaconState};
use common::{run, run_at, stderr, BIN};

/// The test networks' `genesisTimestamp`: 2027-01-01 00:00 UTC. Tests that look
/// at warnings check at a fixed moment relative to it, never at the clock.
const GENESIS: u64 = 1_798_761_600;
const DAY: u64 = 86_400;

/// A proof-of-stake network: `{validators}` validator groups are spliced in.
fn network(validators: &str) -> String {
    format!(
        "network:
  name: stake
  chainId: 4343
  genesisTimestamp: {GENESIS}
  consensus:
    proofOfStake:
      secondsPerSlot: 6
      preset: minimal
      client: {{prysm: {{beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}
geth: {{version: v1.17.10}}
nodes:
{validators}  - {{name: rpc, role: rpc}}
keystore: {{kdf: light}}
"
    )
}

const FOUR_PODS: &str = "  - {name: val, role: validator, replicas: 4, validatorsPerPod: 4}\n";

fn dir_with(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("net.yaml"), text).unwrap();
    dir
}

fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\n{}", o.status, stderr(o));
}

fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(dir: &Path, rel: &str) -> serde_json::Value {
    serde_norway::from_str(&read(dir, rel)).unwrap()
}

fn export(dir: &Path, out: &str) -> serde_json::Value {
    ok(&run(&["export", "-c", "net.yaml", "-o", out], dir));
    serde_json::from_str(&read(dir, &format!("{out}/consensus/validators.json"))).unwrap()
}

/// The gzipped genesis state the values carry (`largeObjects: release`): its parts, joined.
fn genesis_state_gz(pos: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    pos["genesisState"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p["data"].as_str().unwrap())
                .unwrap()
        })
        .collect()
}

/// Validator pubkeys by the node holding them.
fn pubkeys_by_node(validators: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let mut by_node: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in validators.as_array().unwrap() {
        by_node
            .entry(v["node"].as_str().unwrap().to_string())
            .or_default()
            .push(v["pubkey"].as_str().unwrap().to_string());
    }
    by_node
}

#[test]
fn same_input_same_bytes() {
    let d = dir_with(&network(FOUR_PODS));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "a"], d.path()));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "b"], d.path()));
    // The header names the output directory; everything below it is equal.
    let body = |t: String| {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for f in ["values.yaml", "secrets.values.yaml"] {
        assert_eq!(
            body(read(d.path(), &format!("a/{f}"))),
            body(read(d.path(), &format!("b/{f}"))),
            "{f}"
        );
    }
    export(d.path(), "e1");
    export(d.path(), "e2");
    for f in [
        "consensus/genesis.ssz",
        "consensus/config.yaml",
        "genesis.json",
    ] {
        assert_eq!(
            fs::read(d.path().join("e1").join(f)).unwrap(),
            fs::read(d.path().join("e2").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn values_carry_the_genesis_bundle_and_no_private_material() {
    let d = dir_with(&network(FOUR_PODS));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let v = yaml(d.path(), "out/values.yaml");
    let s = yaml(d.path(), "out/secrets.values.yaml")["secrets"].clone();
    let pos = &v["proofOfStake"];
    assert_eq!(pos["preset"], "minimal");
    assert_eq!(pos["fork"], "fulu");
    assert_eq!(pos["secondsPerSlot"], 6);
    assert_eq!(pos["slotsPerEpoch"], 8);
    assert!(pos["chainConfig"]
        .as_str()
        .unwrap()
        .contains("CONFIG_NAME: 'stake-4343'"));
    assert!(!genesis_state_gz(pos).is_empty());
    let genesis: serde_json::Value =
        serde_json::from_str(v["genesis"]["json"].as_str().unwrap()).unwrap();
    assert_eq!(genesis["config"]["terminalTotalDifficulty"], 0);
    assert_eq!(genesis["config"]["osakaTime"], 0);

    // Every node has a beacon identity; validator pods a wallet, the rpc pod none.
    let nodes: Vec<&serde_json::Value> = v["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["nodes"].as_array().unwrap())
        .collect();
    assert_eq!(nodes.len(), 5);
    for n in &nodes {
        let name = n["name"].as_str().unwrap();
        assert!(n["beacon"]["peerId"]
            .as_str()
            .unwrap()
            .starts_with("16Uiu2"));
        assert!(n["beacon"]["enr"].as_str().unwrap().starts_with("enr:"));
        let b = &s["beacon"][name];
        assert_eq!(b["jwtSecret"].as_str().unwrap().len(), 64, "{name}");
        assert_eq!(b["nodeKey"].as_str().unwrap().len(), 64, "{name}");
        assert_eq!(
            s["validatorWallets"].get(name).is_some(),
            name.contains("-val-"),
            "{name}"
        );
    }

    // No secret of the private file appears in the public one.
    let public = read(d.path(), "out/values.yaml");
    for b in s["beacon"].as_object().unwrap().values() {
        for k in ["jwtSecret", "nodeKey"] {
            assert!(!public.contains(b[k].as_str().unwrap()), "{k} leaked");
        }
    }
    for w in s["validatorWallets"].as_object().unwrap().values() {
        assert!(!public.contains(w["password"].as_str().unwrap()));
        for text in w["files"].as_object().unwrap().values() {
            let wallet: serde_json::Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
            let ciphertext = wallet["crypto"]["cipher"]["message"].as_str().unwrap();
            assert!(
                !public.contains(ciphertext),
                "a wallet in the public values"
            );
        }
    }
}

#[test]
fn adding_pods_and_groups_keeps_every_existing_key() {
    let d = dir_with(&network(FOUR_PODS));
    let before = pubkeys_by_node(&export(d.path(), "before"));
    let peers_before = yaml(d.path(), "before/nodes.json");
    fs::write(
        d.path().join("net.yaml"),
        network(
            "  - {name: early, role: validator, replicas: 1, validatorsPerPod: 3}\n  \
             - {name: val, role: validator, replicas: 5, validatorsPerPod: 4}\n",
        ),
    )
    .unwrap();
    let after = pubkeys_by_node(&export(d.path(), "after"));
    let peers_after = yaml(d.path(), "after/nodes.json");
    for (node, keys) in &before {
        assert_eq!(after.get(node), Some(keys), "{node} keys changed");
    }
    assert_eq!(after.len(), before.len() + 2);
    let peer = |nodes: &serde_json::Value, name: &str| {
        nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .map(|n| n["beacon"]["peerId"].clone())
    };
    for n in peers_before.as_array().unwrap() {
        let name = n["name"].as_str().unwrap();
        assert_eq!(
            peer(&peers_after, name),
            Some(n["beacon"]["peerId"].clone())
        );
        for f in ["jwt.hex", "beacon/p2p-key"] {
            assert_eq!(
                read(d.path(), &format!("before/nodes/{name}/{f}")),
                read(d.path(), &format!("after/nodes/{name}/{f}")),
                "{name}/{f}"
            );
        }
    }
    // Every key is in exactly one pod.
    let all: Vec<&String> = after.values().flatten().collect();
    let unique: std::collections::BTreeSet<&&String> = all.iter().collect();
    assert_eq!(all.len(), unique.len());
}

#[test]
fn a_mnemonic_numbers_validators_in_file_order() {
    let text = network(
        "  - {name: a, role: validator, replicas: 2, validatorsPerPod: 2}\n  \
         - {name: b, role: validator, replicas: 1, validatorsPerPod: 3}\n",
    )
    .replace(
        "      preset: minimal\n",
        "      preset: minimal\n      mnemonicFile: words.txt\n",
    );
    let d = dir_with(&text);
    fs::write(
        d.path().join("words.txt"),
        "abandon abandon abandon abandon abandon abandon\nabandon abandon abandon abandon abandon about\n",
    )
    .unwrap();
    let validators = export(d.path(), "e");
    let paths: Vec<(&str, &str)> = validators
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["node"].as_str().unwrap(), v["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        [
            ("stake-a-0", "m/12381/3600/0/0/0"),
            ("stake-a-0", "m/12381/3600/1/0/0"),
            ("stake-a-1", "m/12381/3600/2/0/0"),
            ("stake-a-1", "m/12381/3600/3/0/0"),
            ("stake-b-0", "m/12381/3600/4/0/0"),
            ("stake-b-0", "m/12381/3600/5/0/0"),
            ("stake-b-0", "m/12381/3600/6/0/0"),
        ]
    );

    // A broken mnemonic is an error at the option naming the file, and the
    // phrase is never echoed.
    fs::write(
        d.path().join("words.txt"),
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zebra\n",
    )
    .unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("network.consensus.proofOfStake.mnemonicFile") && err.contains("words.txt"),
        "{err}"
    );
    assert!(!err.contains("zebra"), "{err}");
    assert!(!d.path().join("out").exists());
}

#[test]
fn a_changed_beacon_genesis_is_refused_unless_allowed() {
    let d = dir_with(&network(FOUR_PODS));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    fs::write(
        d.path().join("net.yaml"),
        network(FOUR_PODS).replace("secondsPerSlot: 6", "secondsPerSlot: 4"),
    )
    .unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("the beacon chain's genesis or config"));
    ok(&run(
        &[
            "compile",
            "-c",
            "net.yaml",
            "-o",
            "out",
            "--allow-genesis-change",
        ],
        d.path(),
    ));
    // A geth upgrade changes neither genesis.
    fs::write(
        d.path().join("net.yaml"),
        network(FOUR_PODS)
            .replace("secondsPerSlot: 6", "secondsPerSlot: 4")
            .replace("v1.17.10", "v1.17.9"),
    )
    .unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    assert!(stderr(&o).contains("down to v1.17.9"), "{}", stderr(&o));
}

#[test]
fn stake_concentration_and_small_registries_warn() {
    let d = dir_with(&network(
        "  - {name: val, role: validator, replicas: 2, validatorsPerPod: 2}\n",
    ));
    let o = run(&["check", "-c", "net.yaml"], d.path());
    ok(&o);
    let err = stderr(&o);
    assert!(err.contains("more than a third"), "{err}");
    assert!(err.contains("4 validators: an epoch has 8 slots"), "{err}");
    // Four equal pods: no pod holds more than a third, and 16 ≥ 8 slots; checked
    // ten minutes before genesis, as a network is compiled just before deploying.
    let d = dir_with(&network(FOUR_PODS));
    let o = run_at(&["check", "-c", "net.yaml"], d.path(), GENESIS - 600);
    ok(&o);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// The one warning that depends on the moment: a genesis more than a day before
/// it. Fixed moments on both sides of the line, so this passes in any year.
#[test]
fn a_genesis_more_than_a_day_past_warns_and_one_within_a_day_does_not() {
    let d = dir_with(&network(FOUR_PODS));
    for now in [0, GENESIS - 600, GENESIS, GENESIS + DAY] {
        let o = run_at(&["check", "-c", "net.yaml"], d.path(), now);
        ok(&o);
        assert_eq!(stderr(&o), "net.yaml: ok\n", "now = {now}");
    }
    let warning = "net.yaml:4:21: warning: network.genesisTimestamp: genesis was";
    for (now, days) in [
        (GENESIS + DAY + 1, "1 day"),
        (GENESIS + 30 * DAY, "30 days"),
    ] {
        let o = run_at(&["check", "-c", "net.yaml"], d.path(), now);
        ok(&o);
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(lines.len(), 1, "now = {now}: {err}");
        assert!(
            lines[0].starts_with(&format!("{warning} {days} ago: ")),
            "now = {now}: {err}"
        );
    }
    // compile and export warn too, and write the same bytes whatever the moment.
    let late = GENESIS + 30 * DAY;
    for (out, now) in [("early", GENESIS - 600), ("late", late)] {
        let o = run_at(&["compile", "-c", "net.yaml", "-o", out], d.path(), now);
        ok(&o);
        assert_eq!(stderr(&o).contains(warning), now == late, "{}", stderr(&o));
        let o = run_at(
            &["export", "-c", "net.yaml", "-o", &format!("{out}-export")],
            d.path(),
            now,
        );
        ok(&o);
        assert_eq!(stderr(&o).contains(warning), now == late, "{}", stderr(&o));
    }
    let body = |rel: &str| {
        read(d.path(), rel)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body("early/values.yaml"), body("late/values.yaml"));
    assert_eq!(
        body("early/secrets.values.yaml"),
        body("late/secrets.values.yaml")
    );
    assert_eq!(
        fs::read(d.path().join("early-export/consensus/genesis.ssz")).unwrap(),
        fs::read(d.path().join("late-export/consensus/genesis.ssz")).unwrap()
    );
    let o = run_at(&["inspect", "-c", "net.yaml"], d.path(), late);
    ok(&o);
    assert!(stderr(&o).contains(warning), "{}", stderr(&o));
}

/// Without `KUBERNETETH_NOW` the command reads the clock: a genesis in 1970 is
/// past and one in the year 2500 is not, in any year this suite runs.
#[test]
fn without_kuberneteth_now_the_clock_decides() {
    for (genesis, warns) in [(1, true), (16_725_225_600_u64, false)] {
        let d = dir_with(&network(FOUR_PODS).replace(&GENESIS.to_string(), &genesis.to_string()));
        let o = std::process::Command::new(BIN)
            .args(["check", "-c", "net.yaml"])
            .current_dir(d.path())
            .env_remove("KUBERNETETH_NOW")
            .output()
            .unwrap();
        ok(&o);
        assert_eq!(stderr(&o).contains("genesis was"), warns, "{}", stderr(&o));
    }
}

#[test]
fn inspect_lists_validators_and_beacon_identities() {
    let d = dir_with(&network(FOUR_PODS));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let o = run(&["inspect", "-c", "net.yaml"], d.path());
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let v = yaml(d.path(), "out/values.yaml");
    for g in v["nodeGroups"].as_array().unwrap() {
        for n in g["nodes"].as_array().unwrap() {
            assert!(text.contains(n["beacon"]["peerId"].as_str().unwrap()));
        }
    }
    let rows = text.lines().filter(|l| l.contains("m/12381/3600/")).count();
    assert_eq!(rows, 16);
    assert!(text.contains(v["proofOfStake"]["genesisValidatorsRoot"].as_str().unwrap()));
    let secrets = read(d.path(), "out/secrets.values.yaml");
    for line in secrets.lines().filter(|l| l.contains("jwtSecret")) {
        let jwt = line.split(':').nth(1).unwrap().trim();
        assert!(!text.contains(jwt));
    }
}

/// The most genesis validators one Helm release holds in pods of 100, from what
/// `limits` prints for scripts: one `NAME VALUE` line per limit, and nothing else.
fn release_limit() -> u64 {
    let o = run(&["limits"], Path::new("."));
    ok(&o);
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let (cap, cost) = (
        kuberneteth::release::RELEASE_CAPACITY,
        kuberneteth::release::RELEASE_POD_COST,
    );
    assert_eq!(
        out,
        format!("release-capacity {cap}\nrelease-pod-cost {cost}\n")
    );
    assert_eq!(stderr(&o), "");
    cap / (100 + cost) * 100
}

/// Two validator groups holding `total` validators in pods of 100: one pod of
/// `early`, then the rest in `val`, whose `validatorsPerPod` is at the returned
/// `line:column` of the file.
fn groups_of_100(total: u64, large_objects: &str) -> (String, String) {
    let text = network(&format!(
        "  - {{name: early, role: validator, replicas: 1, validatorsPerPod: 100}}\n  \
         - {{name: val, role: validator, replicas: {}, validatorsPerPod: 100}}\n",
        total / 100 - 1
    ))
    .replace(
        "    proofOfStake:\n",
        &format!("    proofOfStake:\n      largeObjects: {large_objects}\n"),
    );
    let (line, column) = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| l.find("validatorsPerPod: ").map(|c| (i + 1, c + 19)))
        .last()
        .unwrap();
    (text, format!("{line}:{column}"))
}

/// One pod over the release limit, kept in the release (`largeObjects: release`):
/// `compile` and `check` refuse it at the group
/// that crosses the limit, naming the count and the limit, and write nothing;
/// `--no-size-limit` lets it through; `export` and `inspect`, which make no
/// release, take it as it is.
#[test]
fn a_network_one_pod_over_the_release_limit_is_refused_unless_no_size_limit() {
    let limit = release_limit();
    let over = limit + 100;
    let (text, at) = groups_of_100(over, "release");
    let d = dir_with(&text);
    let wanted = format!("net.yaml:{at}: error: nodes[1].validatorsPerPod: {over} genesis validators in all; this group's");
    for args in [
        &["compile", "-c", "net.yaml", "-o", "out"][..],
        &["check", "-c", "net.yaml"],
    ] {
        let o = run(args, d.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with(&wanted))
            .unwrap_or_else(|| panic!("{args:?}: no line starting `{wanted}` in:\n{err}"));
        for part in [
            format!("from 104 to {}", over / 100 * 104),
            format!(
                "one Helm release holds at most {}:",
                kuberneteth::release::RELEASE_CAPACITY
            ),
            "one Kubernetes Secret of at most 1 MiB".into(),
            "`--no-size-limit`".into(),
            "`HELM_DRIVER=sql`".into(),
            "Set `largeObjects: separate` in `network.consensus.proofOfStake`".into(),
        ] {
            assert!(line.contains(&part), "{args:?}: `{part}` not in {line}");
        }
        assert!(
            err.ends_with("net.yaml: 1 error(s); nothing was written\n"),
            "{err}"
        );
    }
    let names: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["net.yaml"], "compile or check wrote files");

    ok(&run(
        &["check", "-c", "net.yaml", "--no-size-limit"],
        d.path(),
    ));
    ok(&run(
        &["compile", "-c", "net.yaml", "-o", "out", "--no-size-limit"],
        d.path(),
    ));
    let values = yaml(d.path(), "out/values.yaml");
    let validators: u64 = values["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["nodes"].as_array().unwrap())
        .filter_map(|n| n["beacon"]["validators"].as_u64())
        .sum();
    assert_eq!(validators, over);

    assert_eq!(
        export(d.path(), "exported").as_array().unwrap().len() as u64,
        over
    );
    let o = run(&["inspect", "-c", "net.yaml"], d.path());
    ok(&o);
    let rows = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("m/12381/3600/"))
        .count() as u64;
    assert_eq!(rows, over);
    // Only the commands that write Helm values take the switch.
    for args in [
        &["export", "-c", "net.yaml", "-o", "x", "--no-size-limit"][..],
        &["inspect", "-c", "net.yaml", "--no-size-limit"],
    ] {
        let o = run(args, d.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--no-size-limit"), "{args:?}: {err}");
    }
}

/// A network larger than one release, left at `largeObjects: auto`: `compile` keeps
/// its genesis state and wallets beside the release, in `objects/` (ConfigMaps of
/// the state's parts, public; one keys Secret per validator pod, private), and says
/// to apply them first; the values name them and carry their SHA-256 but hold no
/// wallet and no state, so they stay small. The same input gives the same bytes.
/// Moving a running network's objects in or out of the release is refused; a pod
/// with more keys than one Secret holds is refused.
#[test]
fn a_network_larger_than_a_release_keeps_its_state_and_wallets_beside_it() {
    let limit = release_limit();
    let over = limit + 100;
    let (text, _) = groups_of_100(over, "auto");
    let d = dir_with(&text);
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    let said = stderr(&o);
    assert!(
        said.contains("they stay outside the Helm release"),
        "{said}"
    );
    assert!(said.contains("next: kubectl apply --server-side -n NAMESPACE -f out/objects, then helm upgrade --install"), "{said}");
    let values = yaml(d.path(), "out/values.yaml");
    let private = yaml(d.path(), "out/secrets.values.yaml");
    let pos = &values["proofOfStake"];
    assert_eq!(pos["largeObjects"], "separate");
    assert!(
        private["secrets"].get("validatorWallets").is_none(),
        "wallets in the secrets values"
    );
    let parts = pos["genesisState"]["parts"].as_array().unwrap();
    assert!(
        parts.iter().all(|p| p.get("data").is_none()),
        "state in the values"
    );
    let values_bytes =
        read(d.path(), "out/values.yaml").len() + read(d.path(), "out/secrets.values.yaml").len();
    assert!(
        values_bytes < 200_000,
        "{values_bytes} bytes of values for {over} validators"
    );

    let mode = |rel: &str| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(d.path().join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("out/objects/genesis-state.yaml"), 0o644);
    assert_eq!(mode("out/objects/validator-keys.yaml"), 0o600);
    let docs = |rel: &str| -> Vec<serde_json::Value> {
        let text = read(d.path(), rel);
        assert!(
            text.starts_with("# Kubernetes objects this network keeps outside its Helm release"),
            "{rel}"
        );
        serde_norway::Deserializer::from_str(&text)
            .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
            .filter(|v: &serde_json::Value| !v.is_null())
            .collect()
    };
    let config_maps = docs("out/objects/genesis-state.yaml");
    let names: Vec<&str> = config_maps
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = parts
        .iter()
        .map(|p| p["configMap"].as_str().unwrap())
        .collect();
    assert_eq!(names, want);
    let secrets = docs("out/objects/validator-keys.yaml");
    let validator_pods: Vec<String> = values["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["nodes"].as_array().unwrap())
        .filter_map(|n| n["validatorKeys"]["secret"].as_str().map(str::to_string))
        .collect();
    assert_eq!(validator_pods.len() as u64, over / 100);
    let secret_names: Vec<String> = secrets
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(secret_names, validator_pods);
    for o in config_maps.iter().chain(&secrets) {
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/part-of"],
            "stake"
        );
        assert!(
            o["metadata"].get("namespace").is_none(),
            "the namespace is kubectl's -n"
        );
        let size = serde_json::to_string(o).unwrap().len();
        assert!(size < 1 << 20, "{} is {size} bytes", o["metadata"]["name"]);
    }

    // Same input, same bytes.
    let before: Vec<String> = [
        "out/values.yaml",
        "out/objects/genesis-state.yaml",
        "out/objects/validator-keys.yaml",
    ]
    .iter()
    .map(|f| read(d.path(), f))
    .collect();
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    for (f, was) in [
        "out/values.yaml",
        "out/objects/genesis-state.yaml",
        "out/objects/validator-keys.yaml",
    ]
    .iter()
    .zip(&before)
    {
        assert!(&read(d.path(), f) == was, "{f} changed on a recompile");
    }

    // Into the release instead: refused for a running network, unless a new one.
    let in_release = text.replace("largeObjects: auto", "largeObjects: release");
    fs::write(d.path().join("net.yaml"), &in_release).unwrap();
    let o = run(
        &["compile", "-c", "net.yaml", "-o", "out", "--no-size-limit"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("where the genesis state and the validators' wallets live (`largeObjects`"),
        "{}",
        stderr(&o)
    );
    ok(&run(
        &[
            "compile",
            "-c",
            "net.yaml",
            "-o",
            "out",
            "--no-size-limit",
            "--allow-genesis-change",
        ],
        d.path(),
    ));
    assert!(
        !d.path().join("out/objects").exists(),
        "objects of the earlier compile left behind"
    );

    // More keys in one pod than its Secret holds.
    let cap = kuberneteth::release::VALIDATORS_PER_KEYS_SECRET;
    let big = network(&format!(
        "  - {{name: val, role: validator, replicas: 4, validatorsPerPod: {}}}\n",
        cap + 1
    ));
    let d = dir_with(&big);
    let o = run(&["check", "-c", "net.yaml"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("nodes[0].validatorsPerPod: {} validators in each pod of `val`, and one pod's keys Secret holds at most {cap}", cap + 1)),
        "{}",
        stderr(&o)
    );
}

/// The largest network of pods of 100 the release limit allows compiles, without
/// `--no-size-limit` (`make live-limits` installs it).
#[test]
fn the_largest_release_in_pods_of_100_compiles() {
    let limit = release_limit();
    let (text, _) = groups_of_100(limit, "release");
    let d = dir_with(&text);
    ok(&run(&["check", "-c", "net.yaml"], d.path()));
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
    let v = yaml(d.path(), "out/values.yaml");
    assert_eq!(
        v["nodeGroups"][1]["replicas"].as_u64(),
        Some(limit / 100 - 1)
    );
}

// ---------------------------------------------------------------------------------
// Where the fee recipient, the withdrawal address, the genesis time and the JWTs end
// up: each asserted on the compiled values and the exported files themselves, so a
// wrong one fails here and not only in a golden file or a pinned known answer.

const TWO_PODS: &str = "  - {name: val, role: validator, replicas: 2, validatorsPerPod: 4}\n";
/// Two addresses that differ, so a flag or a credential taken from the wrong one shows.
const FEE_RECIPIENT: &str = "0xfee0000000000000000000000000000000000fee";
const WITHDRAWAL_ADDRESS: &str = "0x00000000000000000000000000000000000d0a11";

/// [`network`] with `feeRecipient` and a withdrawal address, and `extra` settings of
/// `proofOfStake`.
fn with_addresses(validators: &str, compounding: bool, extra: &str) -> String {
    network(validators).replace(
        "      preset: minimal\n",
        &format!(
            "      preset: minimal\n      feeRecipient: \"{FEE_RECIPIENT}\"\n      \
             withdrawal: {{address: \"{WITHDRAWAL_ADDRESS}\", compounding: {compounding}}}\n{extra}"
        ),
    )
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The exported genesis state's registry, checked against `validators.json` of the
/// same export (same validators, same order): (registry, validators.json).
fn exported_registry(
    dir: &Path,
    out: &str,
) -> (Vec<common::beacon_state::Validator>, serde_json::Value) {
    let listed = export(dir, out);
    let ssz = fs::read(dir.join(out).join("consensus/genesis.ssz")).unwrap();
    let registry = BeaconState::new(&ssz, "minimal").validators();
    let pubkeys: Vec<String> = registry.iter().map(|v| hex0x(&v.pubkey)).collect();
    let listed_pubkeys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pubkey"].as_str().unwrap())
        .collect();
    assert_eq!(
        pubkeys, listed_pubkeys,
        "genesis.ssz registry vs validators.json"
    );
    (registry, listed)
}

/// The fee recipient is what both Prysm clients of every pod suggest; the withdrawal
/// address is only in the validators' credentials. (Catches either address taken
/// for the other: the beacon node's or the validator client's fee recipient from the
/// withdrawal address, or credentials to the fee recipient.)
#[test]
fn the_fee_recipient_goes_to_both_prysm_clients_and_the_withdrawal_address_to_the_credentials() {
    let d = dir_with(&with_addresses(TWO_PODS, false, ""));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let v = yaml(d.path(), "out/values.yaml");
    assert_eq!(
        v["proofOfStake"]["feeRecipient"]
            .as_str()
            .map(str::to_lowercase),
        Some(FEE_RECIPIENT.into())
    );
    let withdrawal_hex = &WITHDRAWAL_ADDRESS[2..];
    let mut validator_groups = 0;
    for g in v["nodeGroups"].as_array().unwrap() {
        let group = g["name"].as_str().unwrap();
        let beacon = strings(&g["beaconArgs"]);
        let validator = strings(&g["validatorArgs"]);
        assert_eq!(
            flag(&beacon, "--suggested-fee-recipient").map(str::to_lowercase),
            Some(FEE_RECIPIENT.into()),
            "{group}: beacon node"
        );
        if g["role"] == "validator" {
            validator_groups += 1;
            assert_eq!(
                flag(&validator, "--suggested-fee-recipient").map(str::to_lowercase),
                Some(FEE_RECIPIENT.into()),
                "{group}: validator client"
            );
        } else {
            assert!(validator.is_empty(), "{group}: a validator client");
        }
        for a in beacon.iter().chain(&validator) {
            assert!(
                !a.to_lowercase().contains(withdrawal_hex),
                "{group}: the withdrawal address in {a}"
            );
        }
    }
    assert_eq!(validator_groups, 1);

    // 0x01, 11 zero bytes, the withdrawal address: in validators.json and in the
    // genesis state the beacon nodes start from.
    let want = address_credentials(0x01, WITHDRAWAL_ADDRESS);
    let (registry, listed) = exported_registry(d.path(), "e");
    assert_eq!(registry.len(), 8);
    for (r, l) in registry.iter().zip(listed.as_array().unwrap()) {
        assert_eq!(r.withdrawal_credentials, want, "{}", l["pubkey"]);
        assert_eq!(l["withdrawalCredentials"], hex0x(&want), "{}", l["pubkey"]);
    }
}

/// `compounding: true`: every genesis validator of `genesis.ssz` has 0x02
/// credentials to the withdrawal address, and its whole balance above 32 ether
/// counts (0x01 credentials would cap it at 32). (Catches compounding writing 0x01.)
#[test]
fn a_compounding_networks_genesis_validators_carry_0x02_credentials() {
    let d = dir_with(&with_addresses(
        TWO_PODS,
        true,
        "      validatorBalance: 64 ether\n",
    ));
    let want = address_credentials(0x02, WITHDRAWAL_ADDRESS);
    let (registry, listed) = exported_registry(d.path(), "e");
    assert_eq!(registry.len(), 8);
    for (r, l) in registry.iter().zip(listed.as_array().unwrap()) {
        assert_eq!(
            hex0x(&r.withdrawal_credentials),
            hex0x(&want),
            "{}",
            l["pubkey"]
        );
        assert_eq!(l["withdrawalCredentials"], hex0x(&want), "{}", l["pubkey"]);
        assert_eq!(r.effective_balance, 64_000_000_000, "{}", l["pubkey"]);
        assert!(!r.slashed);
        assert_eq!((r.activation_epoch, r.exit_epoch), (0, u64::MAX));
    }
    let ssz = fs::read(d.path().join("e/consensus/genesis.ssz")).unwrap();
    assert_eq!(
        BeaconState::new(&ssz, "minimal").balances(),
        vec![64_000_000_000; 8]
    );
}

/// `KEY: value` of a consensus config.yaml.
fn config_value(config: &str, key: &str) -> u64 {
    let prefix = format!("{key}: ");
    let found: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect();
    assert_eq!(found.len(), 1, "{key} in config.yaml:\n{config}");
    found[0].trim().trim_matches('\'').parse().unwrap()
}

/// The execution genesis `timestamp` (a hex quantity, or a number).
fn el_timestamp(genesis_json: &str) -> u64 {
    let g: serde_json::Value = serde_json::from_str(genesis_json).unwrap();
    match &g["timestamp"] {
        serde_json::Value::String(s) => {
            u64::from_str_radix(s.strip_prefix("0x").expect("0x quantity"), 16).unwrap()
        }
        n => n.as_u64().expect("a timestamp"),
    }
}

/// The execution genesis block is made at the beacon genesis time: geth's
/// genesis.json `timestamp` equals `genesis_time` of genesis.ssz (and the payload
/// header the state embeds), as `MIN_GENESIS_TIME` and `GENESIS_DELAY` of the
/// consensus config say (genesis time = execution timestamp + GENESIS_DELAY, not
/// before MIN_GENESIS_TIME); in the compiled values and in the exported files.
/// (Catches an execution timestamp a slot, or any time, off the beacon genesis.)
#[test]
fn the_execution_genesis_timestamp_is_the_beacon_genesis_time() {
    use std::io::Read as _;
    let later = GENESIS + 3 * DAY + 7;
    for (text, time) in [
        (network(TWO_PODS), GENESIS),
        (
            network(TWO_PODS)
                .replace(&GENESIS.to_string(), &later.to_string())
                .replace(
                    "      preset: minimal\n",
                    "      preset: minimal\n      fork: electra\n",
                ),
            later,
        ),
    ] {
        let d = dir_with(&text);
        ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
        let v = yaml(d.path(), "out/values.yaml");
        let pos = &v["proofOfStake"];
        assert_eq!(pos["genesisTime"].as_u64(), Some(time));

        // Compiled values: genesis.json, the consensus config, the genesis state.
        let el = el_timestamp(v["genesis"]["json"].as_str().unwrap());
        assert_eq!(el, time, "values: execution genesis timestamp");
        let config = pos["chainConfig"].as_str().unwrap();
        let delay = config_value(config, "GENESIS_DELAY");
        let min_time = config_value(config, "MIN_GENESIS_TIME");
        assert_eq!(delay, 0, "the state is built at genesis, not from deposits");
        assert_eq!(min_time, time, "values: MIN_GENESIS_TIME");
        let gz = genesis_state_gz(pos);
        let mut ssz = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut ssz)
            .unwrap();
        let state = BeaconState::new(&ssz, "minimal");
        assert_eq!(
            hex0x(&state.genesis_validators_root()),
            pos["genesisValidatorsRoot"].as_str().unwrap(),
            "the state as read here"
        );
        assert_eq!(
            state.genesis_time(),
            time,
            "values: genesis.ssz genesis_time"
        );
        assert_eq!(el + delay, state.genesis_time());
        assert!(state.genesis_time() >= min_time);
        let header = state.latest_execution_payload_header();
        assert_eq!(
            hex0x(&header.block_hash),
            pos["executionGenesisHash"].as_str().unwrap()
        );
        assert_eq!(header.block_number, 0);
        assert_eq!(header.timestamp, el, "the execution block in the state");

        // Exported files: the same, from the files a node outside Kubernetes reads.
        export(d.path(), "e");
        let genesis_json = read(d.path(), "e/genesis.json");
        assert_eq!(el_timestamp(&genesis_json), time, "genesis.json timestamp");
        let config = read(d.path(), "e/consensus/config.yaml");
        assert_eq!(config_value(&config, "MIN_GENESIS_TIME"), time);
        assert_eq!(config_value(&config, "GENESIS_DELAY"), 0);
        let exported = fs::read(d.path().join("e/consensus/genesis.ssz")).unwrap();
        assert!(exported == ssz, "export and compile: one genesis state");
        assert_eq!(
            BeaconState::new(&exported, "minimal").genesis_time(),
            el_timestamp(&genesis_json)
        );
    }
}

/// Every pod has a JWT of its own, in the compiled secrets and in the exported
/// files, and its geth and beacon node read that one file. (Catches one JWT for
/// every pod, or for the pods of one ordinal.)
#[test]
fn every_pod_has_its_own_jwt_which_its_geth_and_beacon_node_share() {
    let d = dir_with(&network(
        "  - {name: val, role: validator, replicas: 2, validatorsPerPod: 4}\n  \
         - {name: full, role: full, replicas: 2}\n",
    ));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let v = yaml(d.path(), "out/values.yaml");
    let s = yaml(d.path(), "out/secrets.values.yaml")["secrets"].clone();
    let mut pods = Vec::new();
    for g in v["nodeGroups"].as_array().unwrap() {
        let group = g["name"].as_str().unwrap();
        // Compiled: geth's engine API secret and the beacon node's are one path in the
        // pod, where the chart puts that pod's JWT.
        let toml: toml::Value = toml::from_str(g["config"].as_str().unwrap()).unwrap();
        let geth = toml["Node"]["JWTSecret"].as_str();
        assert!(geth.is_some(), "{group}: geth has no JWT secret");
        assert_eq!(
            flag(&strings(&g["beaconArgs"]), "--jwt-secret"),
            geth,
            "{group}: geth's and the beacon node's JWT files"
        );
        pods.extend(
            g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(pods.len(), 5);
    let with_jwt: Vec<&String> = s["beacon"].as_object().unwrap().keys().collect();
    assert_eq!(
        with_jwt
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        pods.iter().collect(),
        "a JWT for exactly the pods"
    );
    let jwt = |pod: &str| s["beacon"][pod]["jwtSecret"].as_str().unwrap().to_string();
    let distinct: std::collections::BTreeSet<String> = pods.iter().map(|p| jwt(p)).collect();
    assert_eq!(distinct.len(), pods.len(), "pods share a JWT");

    // Exported: each node's directory holds its JWT, the file its geth reads.
    export(d.path(), "e");
    for pod in &pods {
        assert_eq!(
            read(d.path(), &format!("e/nodes/{pod}/jwt.hex")),
            jwt(pod),
            "{pod}"
        );
        let toml: toml::Value =
            toml::from_str(&read(d.path(), &format!("e/nodes/{pod}/config.toml"))).unwrap();
        assert_eq!(toml["Node"]["JWTSecret"].as_str(), Some("jwt.hex"), "{pod}");
    }
}

// ---------------------------------------------------------------------------------
// The outside-Kubernetes recipe (README): from each exported node's folder,
// `geth init $(cat geth-init.args) && geth $(cat geth.args)`, `beacon-chain $(cat
// beacon.args)` and, on validator nodes, `validator $(cat validator.args)`.

/// The arguments of an exported `.args` file: one a line.
fn args_file(dir: &Path, rel: &str) -> Vec<String> {
    let text = read(dir, rel);
    assert!(text.ends_with('\n'), "{rel}: no final newline");
    text.lines().map(str::to_string).collect()
}

/// `flag`, which must be there.
fn must<'a>(args: &'a [String], name: &str) -> &'a str {
    flag(args, name).unwrap_or_else(|| panic!("{name} missing: {args:?}"))
}

/// Every node's beacon node and every validator pod's validator client get their
/// argument files: every path names a file of the export (relative to the node's
/// folder), every listener binds to the node's address and no two listeners of a
/// node share a port, the JWT is the file geth reads and the engine API is where geth
/// listens, the static peers are the other nodes' beacon nodes at their addresses,
/// and the validator client asks its own beacon node. `geth-init.args` creates the
/// datadir with the hash state scheme geth runs. (Catches a pod's flags in an export:
/// gRPC or libp2p on an address another node also binds, a missing peer or the node
/// itself among its peers, a path into the cluster's mounts.)
#[test]
fn export_writes_runnable_prysm_arguments_for_every_node() {
    let d = dir_with(&format!(
        "{}monitoring: {{metrics: {{enabled: true}}}}\n",
        network(
            "  - {name: val, role: validator, replicas: 2, validatorsPerPod: 4}\n  \
                 - {name: full, role: full, replicas: 1}\n"
        )
    ));
    ok(&run(
        &[
            "export",
            "-c",
            "net.yaml",
            "-o",
            "e",
            "--ip-range",
            "127.0.1.10",
        ],
        d.path(),
    ));
    let e = d.path().join("e");
    let nodes: serde_json::Value = serde_json::from_str(&read(&e, "nodes.json")).unwrap();
    let nodes = nodes.as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    let mut validator_nodes = 0;
    for (i, n) in nodes.iter().enumerate() {
        let name = n["name"].as_str().unwrap();
        let ip = n["ip"].as_str().unwrap();
        assert_eq!(ip, format!("127.0.1.{}", 10 + i), "{name}");
        let folder = e.join(n["dir"].as_str().unwrap());
        let exists = |path: &str| folder.join(path).exists();

        // geth: the datadir created with the state scheme geth then runs, in LevelDB
        // (geth then opens it with that engine; it takes no engine flag).
        let geth = args_file(&folder, "geth.args");
        assert_eq!(flag(&geth, "--state.scheme"), Some("hash"), "{name}");
        assert_eq!(flag(&geth, "--db.engine"), None, "{name}");
        let init = args_file(&folder, "geth-init.args");
        assert_eq!(
            init,
            [
                "--datadir=data",
                "--state.scheme=hash",
                "--db.engine=leveldb",
                "../../genesis.json"
            ],
            "{name}"
        );
        assert!(
            exists(init.last().unwrap()),
            "{name}: no genesis at {init:?}"
        );
        let toml: toml::Value = toml::from_str(&read(&folder, "config.toml")).unwrap();
        let node = &toml["Node"];

        // The beacon node.
        let beacon = args_file(&folder, "beacon.args");
        assert!(
            beacon.iter().any(|a| a == "--accept-terms-of-use"),
            "{name}"
        );
        for path in [
            "--chain-config-file",
            "--genesis-state",
            "--jwt-secret",
            "--p2p-priv-key",
        ] {
            assert!(exists(must(&beacon, path)), "{name}: {path} names no file");
        }
        assert_eq!(
            must(&beacon, "--chain-config-file"),
            "../../consensus/config.yaml"
        );
        assert_eq!(
            must(&beacon, "--genesis-state"),
            "../../consensus/genesis.ssz"
        );
        assert!(
            must(&beacon, "--datadir").starts_with("beacon/"),
            "{name}: the beacon node's database outside its folder: {beacon:?}"
        );
        assert_eq!(
            Some(must(&beacon, "--jwt-secret")),
            node["JWTSecret"].as_str(),
            "{name}: geth's and the beacon node's JWT files"
        );
        assert_eq!(
            read(&folder, must(&beacon, "--jwt-secret")).len(),
            64,
            "{name}: a 32-byte hex JWT"
        );
        assert_eq!(
            must(&beacon, "--execution-endpoint"),
            format!(
                "http://{}:{}",
                node["AuthAddr"].as_str().unwrap(),
                node["AuthPort"].as_integer().unwrap()
            ),
            "{name}: the engine API is where geth listens"
        );
        for host in [
            "--p2p-local-ip",
            "--p2p-host-ip",
            "--http-host",
            "--rpc-host",
            "--monitoring-host",
        ] {
            assert_eq!(must(&beacon, host), ip, "{name}: {host}");
        }
        assert!(beacon.iter().all(|a| !a.contains("0.0.0.0")), "{beacon:?}");
        let b = &n["beacon"];
        assert_eq!(must(&beacon, "--p2p-tcp-port"), b["tcpPort"].to_string());
        assert_eq!(must(&beacon, "--p2p-udp-port"), b["udpPort"].to_string());
        assert_eq!(must(&beacon, "--http-port"), b["apiPort"].to_string());
        assert_eq!(
            b["multiaddr"],
            format!(
                "/ip4/{ip}/tcp/{}/p2p/{}",
                b["tcpPort"],
                b["peerId"].as_str().unwrap()
            )
        );
        // Its static peers: every other node's beacon node, at that node's address.
        let mut peers: Vec<&str> = beacon
            .iter()
            .filter_map(|a| a.strip_prefix("--peer="))
            .collect();
        peers.sort();
        let mut others: Vec<&str> = nodes
            .iter()
            .filter(|o| o["name"] != n["name"])
            .map(|o| o["beacon"]["multiaddr"].as_str().unwrap())
            .collect();
        others.sort();
        assert_eq!(peers, others, "{name}: static peers");

        // The validator client, on validator nodes only.
        let has_validator = folder.join("validator.args").exists();
        assert_eq!(has_validator, n["role"] == "validator", "{name}");
        let mut ports = vec![
            must(&beacon, "--p2p-tcp-port").to_string(),
            must(&beacon, "--http-port").to_string(),
            must(&beacon, "--rpc-port").to_string(),
            must(&beacon, "--monitoring-port").to_string(),
            node["AuthPort"].to_string(),
            node["P2P"]["ListenAddr"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_string(),
            must(&geth, "--metrics.port").to_string(),
        ];
        assert_eq!(
            node["P2P"]["ListenAddr"].as_str().unwrap(),
            format!("{ip}:{}", ports[5]),
            "{name}: geth's P2P"
        );
        if has_validator {
            validator_nodes += 1;
            let validator = args_file(&folder, "validator.args");
            for path in [
                "--chain-config-file",
                "--wallet-dir",
                "--wallet-password-file",
            ] {
                assert!(
                    exists(must(&validator, path)),
                    "{name}: {path} names no file"
                );
            }
            assert_eq!(
                n["beacon"]["wallet"].as_str(),
                Some(must(&validator, "--wallet-dir"))
            );
            assert!(folder
                .join(must(&validator, "--wallet-dir"))
                .join("direct/accounts/all-accounts.keystore.json")
                .is_file());
            assert!(must(&validator, "--datadir").starts_with("validator/"));
            assert_eq!(
                must(&validator, "--beacon-rpc-provider"),
                format!("{ip}:{}", must(&beacon, "--rpc-port")),
                "{name}: the validator client asks its own beacon node"
            );
            assert_eq!(must(&validator, "--monitoring-host"), ip, "{name}");
            ports.push(must(&validator, "--monitoring-port").to_string());
        }
        let distinct: std::collections::BTreeSet<&String> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{name}: TCP ports {ports:?}");
    }
    assert_eq!(validator_nodes, 2);

    // A clique network's nodes have nothing of Prysm, and `geth init` only needs the
    // datadir and the genesis.
    let clique = dir_with(
        "network: {name: pa, chainId: 4344, consensus: {clique: {}}}\n\
         nodes:\n  - {name: signer, role: signer, replicas: 1}\n",
    );
    ok(&run(
        &["export", "-c", "net.yaml", "-o", "e"],
        clique.path(),
    ));
    let folder = clique.path().join("e/nodes/pa-signer-0");
    assert_eq!(
        args_file(&folder, "geth-init.args"),
        ["--datadir=data", "../../genesis.json"]
    );
    for absent in ["beacon.args", "validator.args", "jwt.hex"] {
        assert!(!folder.join(absent).exists(), "{absent}");
    }
}

/// The registry of `out`'s values: its genesis state, decoded.
fn values_registry(dir: &Path, out: &str) -> Vec<String> {
    let v = yaml(dir, &format!("{out}/values.yaml"));
    let ssz = {
        use std::io::Read as _;
        let gz = genesis_state_gz(&v["proofOfStake"]);
        let mut ssz = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut ssz)
            .unwrap();
        ssz
    };
    BeaconState::new(&ssz, "minimal")
        .validators()
        .iter()
        .map(|v| hex0x(&v.pubkey))
        .collect()
}

#[test]
fn validators_join_by_deposit_and_the_genesis_stays() {
    let joining = "  - {name: val, role: validator, replicas: 2, validatorsPerPod: 4}\n  \
                   - {name: late, role: validator, replicas: 1, genesisReplicas: 0, validatorsPerPod: 2}\n";
    let d = dir_with(&with_addresses(TWO_PODS, false, ""));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let before = yaml(d.path(), "out/values.yaml");
    let registry = values_registry(d.path(), "out");
    assert!(!d.path().join("out/deposit_data-stake.json").exists());

    // A group joins, and a pod of the genesis group: their validators are not in
    // the genesis, which stays byte for byte; the compile says what to deposit.
    fs::write(
        d.path().join("net.yaml"),
        with_addresses(
            &joining.replace(
                "replicas: 2, validatorsPerPod: 4",
                "replicas: 3, genesisReplicas: 2, validatorsPerPod: 4",
            ),
            false,
            "",
        ),
    )
    .unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    let after = yaml(d.path(), "out/values.yaml");
    assert_same_genesis(&after, &before);
    assert_eq!(values_registry(d.path(), "out"), registry);
    let said = stderr(&o);
    let line = said
        .lines()
        .find(|l| l.starts_with("deposits:"))
        .unwrap_or_else(|| panic!("no deposits line:\n{said}"));
    assert!(
        line.starts_with(
            "deposits: 6 validators of stake-val-2, stake-late-0 join by deposit (192 ether"
        ) && line.contains("kuberneteth-values deposit -c net.yaml --rpc URL --from ACCOUNT"),
        "{line}"
    );
    // deposit_data-<network>.json: the joining pods' keys, as the export holds them,
    // with the network's withdrawal credentials and genesis fork version.
    let deposits: serde_json::Value =
        serde_json::from_str(&read(d.path(), "out/deposit_data-stake.json")).unwrap();
    let by_node = pubkeys_by_node(&export(d.path(), "e"));
    let joined: Vec<String> = ["stake-val-2", "stake-late-0"]
        .iter()
        .flat_map(|n| by_node[*n].clone())
        .collect();
    let listed: Vec<String> = deposits
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("0x{}", d["pubkey"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, joined);
    let config = read(d.path(), "e/consensus/config.yaml");
    let fork_version = config
        .lines()
        .find_map(|l| l.strip_prefix("GENESIS_FORK_VERSION: 0x"))
        .unwrap()
        .to_string();
    for entry in deposits.as_array().unwrap() {
        assert_eq!(entry["amount"], 32_000_000_000u64);
        assert_eq!(entry["fork_version"], fork_version.as_str());
        assert_eq!(
            entry["withdrawal_credentials"],
            format!("010000000000000000000000{}", &WITHDRAWAL_ADDRESS[2..])
        );
        assert_eq!(entry["network_name"], "stake-4343");
    }
    // The exported registry marks the joining validators: no genesis index.
    let exported = export(d.path(), "e2");
    let unindexed: Vec<&str> = exported
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["index"].is_null())
        .map(|v| v["node"].as_str().unwrap())
        .collect();
    assert_eq!(unindexed.len(), 6, "{exported}");

    // The joined group goes (its validators exit): the deposit file keeps the others'.
    fs::write(
        d.path().join("net.yaml"),
        with_addresses(
            "  - {name: val, role: validator, replicas: 3, genesisReplicas: 2, validatorsPerPod: 4}\n",
            false,
            "",
        ),
    )
    .unwrap();
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let deposits: serde_json::Value =
        serde_json::from_str(&read(d.path(), "out/deposit_data-stake.json")).unwrap();
    assert_eq!(deposits.as_array().unwrap().len(), 4);
}

#[test]
fn a_new_validator_group_in_the_genesis_is_refused_with_the_fix() {
    let d = dir_with(&network(TWO_PODS));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    fs::write(
        d.path().join("net.yaml"),
        network(&format!(
            "{TWO_PODS}  - {{name: late, role: validator, replicas: 1, validatorsPerPod: 2}}\n"
        )),
    )
    .unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("net.yaml:13:5: error: nodes[1]: group `late` is new: give it `genesisReplicas: 0`, so its validators join by deposit rather than written into the genesis"),
        "{err}"
    );
    // The genesis group grown without saying which pods are in the genesis.
    fs::write(
        d.path().join("net.yaml"),
        network(&TWO_PODS.replace("replicas: 2", "replicas: 3")),
    )
    .unwrap();
    let err = stderr(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    assert!(
        err.contains(
            "nodes[0]: 2 of this group's pods hold genesis validators: set `genesisReplicas: 2`"
        ),
        "{err}"
    );
}

/// A network of four genesis pods of 4 validators, 2-second slots and a shard
/// committee period of 4 epochs, for the exits.
fn exits_network(replicas: u32) -> String {
    network(&format!(
        "  - {{name: val, role: validator, replicas: {replicas}, genesisReplicas: 4, validatorsPerPod: 4}}\n"
    ))
    .replace("secondsPerSlot: 6", "secondsPerSlot: 2\n      shardCommitteePeriod: 4")
}

#[test]
fn leaving_validator_pods_get_exits_in_the_values_and_cannot_come_back() {
    let d = dir_with(&exits_network(4));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let before = yaml(d.path(), "out/values.yaml");
    assert!(before["proofOfStake"].get("exits").is_none());
    assert!(before["proofOfStake"]["chainConfig"]
        .as_str()
        .unwrap()
        .contains("\nSHARD_COMMITTEE_PERIOD: 4\n"));
    let keys = pubkeys_by_node(&export(d.path(), "e"));

    // One pod goes: its validators exit; the genesis stays.
    fs::write(d.path().join("net.yaml"), exits_network(3)).unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    let after = yaml(d.path(), "out/values.yaml");
    assert_same_genesis(&after, &before);
    assert_eq!(
        after["proofOfStake"]["chainConfig"],
        before["proofOfStake"]["chainConfig"]
    );
    let exits = &after["proofOfStake"]["exits"];
    assert_eq!(exits.as_array().unwrap().len(), 1, "{exits}");
    assert_eq!(exits[0]["node"], "stake-val-3");
    assert_eq!(exits[0]["group"], "val");
    assert_eq!(exits[0]["ordinal"], 3);
    assert_eq!(strings(&exits[0]["pubkeys"]), keys["stake-val-3"]);
    assert_eq!(after["proofOfStake"]["exitsBeaconNode"], "stake-val-0");
    let said = stderr(&o);
    let lines: Vec<&str> = said.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            l.starts_with("exits: the 4 validators of stake-val-3 leave by voluntary exit")
        })
        .unwrap_or_else(|| panic!("no exits line:\n{said}"));
    assert!(
        lines[at].contains("run kuberneteth-values exit -c net.yaml -o out --beacon-api URL"),
        "{}",
        lines[at]
    );
    assert!(lines[at + 1].starts_with("next:"), "{said}");

    // A later compile carries the exits over and says nothing more of them.
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    assert!(!stderr(&o).contains("exits:"), "{}", stderr(&o));
    assert_eq!(
        yaml(d.path(), "out/values.yaml")["proofOfStake"]["exits"],
        *exits
    );

    // Another pod would take the validators to two thirds: refused, at the group.
    fs::write(d.path().join("net.yaml"), exits_network(2)).unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("net.yaml:13:44: error: nodes[0].replicas: removing 4 of the 12 validators at once (stake-val-2) leaves 8: finality needs more than two thirds"), "{}", stderr(&o));

    // The exited pod back: refused, and the values keep the exits.
    fs::write(d.path().join("net.yaml"), exits_network(4)).unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("net.yaml:13:44: error: nodes[0].replicas: pod stake-val-3 left the network, and its validators exited"), "{}", stderr(&o));
    assert!(stderr(&o).contains("add a new group"), "{}", stderr(&o));
    assert_eq!(
        yaml(d.path(), "out/values.yaml")["proofOfStake"]["exits"],
        *exits
    );

    // A joined group leaves whole: its validators exit too.
    let joined =
        "  - {name: late, role: validator, replicas: 1, genesisReplicas: 0, validatorsPerPod: 2}\n";
    fs::write(
        d.path().join("net.yaml"),
        exits_network(3).replace("  - {name: rpc", &format!("{joined}  - {{name: rpc")),
    )
    .unwrap();
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    fs::write(d.path().join("net.yaml"), exits_network(3)).unwrap();
    let o = run(&["compile", "-c", "net.yaml", "-o", "out"], d.path());
    ok(&o);
    let exits = yaml(d.path(), "out/values.yaml")["proofOfStake"]["exits"].clone();
    let nodes: Vec<&str> = exits
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["stake-val-3", "stake-late-0"]);
    assert!(
        stderr(&o).contains("exits: the 2 validators of stake-late-0 leave"),
        "{}",
        stderr(&o)
    );
}

/// A Beacon API stand-in (Python's standard library): the genesis, the head at
/// `HEAD_SLOT`, each validator's status from `statuses.json` (pubkey → [index,
/// status, activation epoch]); a POSTed exit is kept in `posted.jsonl` and waits in
/// the pool (`GET /eth/v1/beacon/pool/voluntary_exits`) with its validator's status
/// unchanged, as a real node's does until a block includes it: the second read of
/// that status after the POST includes it (`active_exiting`), the next one
/// `exited_unslashed`.
const FAKE_BEACON_API: &str = r#"
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
root, gvr, head = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load():
    with open(os.path.join(root, "statuses.json")) as f:
        return json.load(f)
def save(s):
    with open(os.path.join(root, "statuses.json"), "w") as f:
        json.dump(s, f)
pool = {}  # pubkey -> [the exit, reads of its status since the POST]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        p = self.path
        if p == "/eth/v1/beacon/genesis":
            return self.answer(200, {"data": {"genesis_validators_root": gvr, "genesis_time": "0", "genesis_fork_version": "0x00000000"}})
        if p == "/eth/v1/beacon/headers/head":
            return self.answer(200, {"data": {"header": {"message": {"slot": str(head)}}}})
        if p == "/eth/v1/beacon/pool/voluntary_exits":
            return self.answer(200, {"data": [e for e, _ in pool.values()]})
        prefix = "/eth/v1/beacon/states/head/validators/"
        if p.startswith(prefix):
            s = load()
            v = s.get(p[len(prefix):])
            if v is None:
                return self.answer(404, {"code": 404, "message": "Unknown validator"})
            index, status, activation = v
            key = p[len(prefix):]
            if status == "active_exiting":
                s[key] = [index, "exited_unslashed", activation]
                save(s)
            if key in pool:
                pool[key][1] += 1
                if pool[key][1] == 2:
                    del pool[key]
                    s[key] = [index, "active_exiting", activation]
                    save(s)
                    status = "active_exiting"
            return self.answer(200, {"data": {"index": str(index), "balance": "32000000000", "status": status, "validator": {"pubkey": p[len(prefix):], "activation_epoch": str(activation)}}})
        self.answer(404, {"code": 404, "message": "no route"})
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        if self.path != "/eth/v1/beacon/pool/voluntary_exits" or self.headers.get("content-type") != "application/json":
            return self.answer(400, {"code": 400, "message": "bad request"})
        exit = json.loads(body)
        for k, v in load().items():
            if str(v[0]) == exit["message"]["validator_index"]:
                pool[k] = [exit, 0]
        with open(os.path.join(root, "posted.jsonl"), "a") as f:
            f.write(body + "\n")
        self.answer(200, {})
server = HTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(root, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(root, "port.tmp"), os.path.join(root, "port"))
server.serve_forever()
"#;

/// The execution genesis and the genesis state of two compiles are the same.
fn assert_same_genesis(after: &serde_json::Value, before: &serde_json::Value) {
    assert_eq!(after["genesis"], before["genesis"]);
    assert_eq!(
        after["proofOfStake"]["genesisState"],
        before["proofOfStake"]["genesisState"]
    );
}

/// `exit -c net.yaml -o out --beacon-api URL` and `extra`, in `dir`.
fn run_exit(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["exit", "-c", "net.yaml", "-o", "out", "--beacon-api", url];
    args.extend_from_slice(extra);
    run(&args, dir)
}

struct FakeBeaconApi {
    child: std::process::Child,
    url: String,
}

impl Drop for FakeBeaconApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fake_beacon_api(dir: &Path, gvr: &str, head_slot: u64) -> FakeBeaconApi {
    fs::write(dir.join("fake.py"), FAKE_BEACON_API).unwrap();
    let child = std::process::Command::new("python3")
        .arg(dir.join("fake.py"))
        .arg(dir)
        .arg(gvr)
        .arg(head_slot.to_string())
        .spawn()
        .expect("python3 runs the fake Beacon API");
    let port_file = dir.join("port");
    let start = std::time::Instant::now();
    while !port_file.exists() {
        assert!(
            start.elapsed().as_secs() < 20,
            "the fake Beacon API did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    FakeBeaconApi {
        child,
        url: format!(
            "http://127.0.0.1:{}",
            fs::read_to_string(port_file).unwrap()
        ),
    }
}

/// The signing root of `VoluntaryExit(epoch, index)` under the EIP-7044 domain,
/// computed here from the spec (SSZ of two uint64, `compute_domain`,
/// `compute_signing_root`), apart from the crate's code.
fn exit_signing_root(epoch: u64, index: u64, capella: [u8; 4], gvr: [u8; 32]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let chunk = |n: u64| {
        let mut c = [0u8; 32];
        c[..8].copy_from_slice(&n.to_le_bytes());
        c
    };
    let h = |a: &[u8], b: &[u8]| -> [u8; 32] {
        Sha256::new()
            .chain_update(a)
            .chain_update(b)
            .finalize()
            .into()
    };
    let object_root = h(&chunk(epoch), &chunk(index));
    let mut version = [0u8; 32];
    version[..4].copy_from_slice(&capella);
    let fork_data_root = h(&version, &gvr);
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&[4, 0, 0, 0]);
    domain[4..].copy_from_slice(&fork_data_root[..28]);
    h(&object_root, &domain)
}

#[test]
fn exit_sends_signed_exits_once_and_waits_until_the_validators_have_exited() {
    let d = dir_with(&exits_network(4));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    fs::write(d.path().join("net.yaml"), exits_network(3)).unwrap();
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let values = yaml(d.path(), "out/values.yaml");
    let pos = &values["proofOfStake"];
    let gvr = pos["genesisValidatorsRoot"].as_str().unwrap().to_string();
    let leaving = strings(&pos["exits"][0]["pubkeys"]);
    let config = pos["chainConfig"].as_str().unwrap();
    let capella: [u8; 4] = hex::decode(
        config
            .lines()
            .find_map(|l| l.strip_prefix("CAPELLA_FORK_VERSION: 0x"))
            .unwrap(),
    )
    .unwrap()
    .try_into()
    .unwrap();
    // Minimal preset: 8 slots an epoch. Head at epoch 5: the validators activated at
    // epoch 0 may exit (4 epochs), one activated at epoch 3 not yet.
    let statuses = |activation_of_last: u64| {
        serde_json::json!(leaving
            .iter()
            .enumerate()
            .map(|(i, k)| (
                k.clone(),
                serde_json::json!([
                    12 + i,
                    "active_ongoing",
                    if i == 3 { activation_of_last } else { 0 }
                ])
            ))
            .collect::<serde_json::Map<_, _>>())
    };
    let api_dir = tempfile::tempdir().unwrap();
    fs::write(
        api_dir.path().join("statuses.json"),
        statuses(3).to_string(),
    )
    .unwrap();
    let api = fake_beacon_api(api_dir.path(), &gvr, 5 * 8 + 3);
    let exit_cmd = |extra: &[&str]| run_exit(d.path(), &api.url, extra);

    // Too early for one: refused with the epoch it may, and nothing sent.
    let o = exit_cmd(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("validator {} (stake-val-3) (index 15) was activated at epoch 3 and may exit from epoch 7 on", leaving[3])), "{}", stderr(&o));
    assert!(!api_dir.path().join("posted.jsonl").exists());

    // All may: a dry run sends nothing; then four exits, each signed by its key.
    fs::write(
        api_dir.path().join("statuses.json"),
        statuses(0).to_string(),
    )
    .unwrap();
    let o = exit_cmd(&["--dry-run"]);
    ok(&o);
    assert!(
        stderr(&o).contains("dry run: nothing was sent (4 exits to send)"),
        "{}",
        stderr(&o)
    );
    assert!(!api_dir.path().join("posted.jsonl").exists());
    let o = exit_cmd(&["--no-wait"]);
    ok(&o);
    assert!(
        stderr(&o).contains("4 exits sent, 0 under way or done before"),
        "{}",
        stderr(&o)
    );
    // Sent a moment ago, the exits wait in the pool, their validators still
    // active_ongoing: nothing is sent twice; then the wait until they have exited.
    let o = exit_cmd(&["--no-wait"]);
    ok(&o);
    let said = stderr(&o);
    assert!(
        said.contains("0 exits sent, 4 under way or done before")
            && said.contains("its exit waits in the beacon node's pool for a block"),
        "{said}"
    );
    let o = exit_cmd(&["--timeout", "60s"]);
    ok(&o);
    let said = stderr(&o);
    assert!(said.contains("active_exiting → exited_unslashed"), "{said}");
    assert!(
        said.contains("every validator of stake-val-3 has exited"),
        "{said}"
    );
    let posted: Vec<serde_json::Value> = read(api_dir.path(), "posted.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(posted.len(), 4);
    let gvr_bytes: [u8; 32] = hex::decode(&gvr[2..]).unwrap().try_into().unwrap();
    for (i, (exit, pubkey)) in posted.iter().zip(&leaving).enumerate() {
        assert_eq!(exit["message"]["epoch"], "5");
        assert_eq!(exit["message"]["validator_index"], (12 + i).to_string());
        let signature = hex::decode(
            exit["signature"]
                .as_str()
                .unwrap()
                .strip_prefix("0x")
                .unwrap(),
        )
        .unwrap();
        let root = exit_signing_root(5, 12 + i as u64, capella, gvr_bytes);
        let pk = blst::min_pk::PublicKey::from_bytes(&hex::decode(&pubkey[2..]).unwrap()).unwrap();
        let sig = blst::min_pk::Signature::from_bytes(&signature).unwrap();
        assert_eq!(
            sig.verify(
                true,
                &root,
                b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_",
                &[],
                &pk,
                true
            ),
            blst::BLST_ERROR::BLST_SUCCESS,
            "the exit of {pubkey}"
        );
    }

    // Again: every one exited, nothing sent twice.
    let o = exit_cmd(&[]);
    ok(&o);
    assert!(
        stderr(&o).contains("0 exits sent, 4 under way or done before"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(api_dir.path(), "posted.jsonl").lines().count(), 4);

    // A beacon node of another chain: refused.
    drop(api);
    let other = tempfile::tempdir().unwrap();
    fs::write(other.path().join("statuses.json"), "{}").unwrap();
    let api = fake_beacon_api(other.path(), &format!("0x{}", "11".repeat(32)), 40);
    let o = run_exit(d.path(), &api.url, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("point --beacon-api at a beacon node of this network; nothing was sent"),
        "{}",
        stderr(&o)
    );
    // Nobody there: an I/O error; a bad URL: usage.
    drop(api);
    let o = run_exit(d.path(), "http://127.0.0.1:9", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let o = run_exit(d.path(), "not a url", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn exit_times_out_while_the_chain_has_not_exited_them() {
    let d = dir_with(&exits_network(4));
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    fs::write(d.path().join("net.yaml"), exits_network(3)).unwrap();
    ok(&run(&["compile", "-c", "net.yaml", "-o", "out"], d.path()));
    let pos = yaml(d.path(), "out/values.yaml")["proofOfStake"].clone();
    // Exits sent before, and the chain slow: they stay active_exiting... forever here,
    // as the stand-in moves a validator on only after its own POST.
    let statuses: serde_json::Map<_, _> = strings(&pos["exits"][0]["pubkeys"])
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, serde_json::json!([i, "active_slashed", 0])))
        .collect();
    let api_dir = tempfile::tempdir().unwrap();
    fs::write(
        api_dir.path().join("statuses.json"),
        serde_json::Value::Object(statuses).to_string(),
    )
    .unwrap();
    let api = fake_beacon_api(
        api_dir.path(),
        pos["genesisValidatorsRoot"].as_str().unwrap(),
        80,
    );
    let o = run_exit(d.path(), &api.url, &["--timeout", "3s"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not every validator had exited after 3 s"),
        "{}",
        stderr(&o)
    );
    assert!(!api_dir.path().join("posted.jsonl").exists());
    // Without waiting it returns at once.
    let o = run_exit(d.path(), &api.url, &["--no-wait"]);
    ok(&o);
    assert!(
        stderr(&o).contains("not waiting (--no-wait)"),
        "{}",
        stderr(&o)
    );
}
