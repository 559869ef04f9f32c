//! Probes: geth's, run against a fake `geth attach` in every node state; the Prysm clients'.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::args::flag;
use crate::support::{
    container, container_ports, examples, geth_container, install_fake, network_name, node_groups,
    pos_example, pos_examples, rendered_toml, strings,
};

/// The node state a probe sees through `geth attach`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct NodeState {
    /// geth answers on its IPC socket.
    attaches: bool,
    peers: u32,
    syncing: bool,
    /// Peers of the pod's beacon node (proof of stake), as its Beacon API reports.
    beacon_peers: u32,
}

/// A fake `geth` for probes: records its argv and answers `attach --exec EXPR` by
/// evaluating EXPR (JavaScript, as geth's console does) over `net.peerCount`,
/// `eth.syncing` (block `$FAKE_CURRENT_BLOCK`, default 7, of 9) and `eth.blockNumber`,
/// printing the value (a string quoted, as geth's console prints it) and exiting 0
/// whatever it is, as geth does. Node.js evaluates the expression.
const FAKE_ATTACH: &str = r#"#!/bin/sh
printf '%s\n' "$@" > "$FAKE_ARGV"
[ "$FAKE_ATTACHES" = true ] || { echo "Fatal: Unable to attach to remote geth" >&2; exit 1; }
expr=""
while [ $# -gt 0 ]; do [ "$1" = --exec ] && expr=$2; shift; done
[ -n "$expr" ] || { echo "fake geth: no --exec (a console would wait forever)" >&2; exit 2; }
exec node -e '
  const net = { peerCount: Number(process.env.FAKE_PEERS) };
  const current = Number(process.env.FAKE_CURRENT_BLOCK || 7);
  const eth = { blockNumber: current, syncing: process.env.FAKE_SYNCING === "true" && { currentBlock: current, highestBlock: 9, healedTrienodes: 0 } };
  const value = eval(process.argv[1]);
  console.log(typeof value === "string" ? JSON.stringify(value) : String(value));
' "$expr"
"#;

/// A fake busybox `wget` for probes: answers the beacon node's Beacon API on
/// 127.0.0.1 at `$FAKE_BEACON_API` (`/eth/v1/node/peer_count`, as Prysm prints it)
/// and records the URLs asked for; anything else fails, as a refused connection does.
const FAKE_WGET: &str = r#"#!/bin/sh
url=""
for a in "$@"; do case "$a" in http://*) url=$a ;; esac; done
echo "$url" >> "$FAKE_WGET_LOG"
case "$url" in
  "http://127.0.0.1:$FAKE_BEACON_API/eth/v1/node/peer_count")
    printf '{"data":{"disconnected":"0","connecting":"0","connected":"%s","disconnecting":"0"}}\n' "$FAKE_BEACON_PEERS" ;;
  *) echo "wget: can't connect to remote host: Connection refused" >&2; exit 1 ;;
esac
"#;

/// What a probe run gave: whether it passed, and the argv of the `geth` it ran.
type ProbeRun = (bool, Vec<String>);

/// Runs a probe's exec command against the fake geth (each command and state once).
fn run_probe(command: &[String], state: NodeState) -> ProbeRun {
    run_probe_with_api(command, state, 0).0
}

/// Runs a probe as `run_probe` does, with the beacon node's Beacon API at `api`
/// (port); also gives the URLs the probe fetched.
fn run_probe_with_api(command: &[String], state: NodeState, api: i64) -> (ProbeRun, Vec<String>) {
    type Runs = BTreeMap<(Vec<String>, NodeState, i64), (ProbeRun, Vec<String>)>;
    static CACHE: OnceLock<std::sync::Mutex<Runs>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (command.to_vec(), state, api);
    if let Some(hit) = cache.lock().unwrap().get(&key) {
        return hit.clone();
    }
    let dir = tempfile::tempdir().unwrap();
    let result = run_probe_in(dir.path(), command, state, api, 7);
    cache.lock().unwrap().insert(key, result.clone());
    result
}

/// Runs a probe once in `dir` (its TMPDIR, as the pod's /tmp keeps what a probe
/// wrote for the next one), geth syncing at block `current_block`.
fn run_probe_in(
    dir: &Path,
    command: &[String],
    state: NodeState,
    api: i64,
    current_block: u64,
) -> (ProbeRun, Vec<String>) {
    let bin = dir.join("bin");
    let fake = install_fake(&bin, "geth", FAKE_ATTACH);
    install_fake(&bin, "wget", FAKE_WGET);
    let wget_log = dir.join("wget.log");
    let argv_file = dir.join("argv");
    let program = if command[0] == "geth" {
        fake.to_string_lossy().into_owned()
    } else {
        command[0].clone()
    };
    let out = Command::new(program)
        .args(&command[1..])
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("FAKE_ARGV", &argv_file)
        .env("FAKE_ATTACHES", state.attaches.to_string())
        .env("FAKE_PEERS", state.peers.to_string())
        .env("FAKE_SYNCING", state.syncing.to_string())
        .env("FAKE_BEACON_PEERS", state.beacon_peers.to_string())
        .env("FAKE_BEACON_API", api.to_string())
        .env("FAKE_WGET_LOG", &wget_log)
        .env("FAKE_CURRENT_BLOCK", current_block.to_string())
        .env("TMPDIR", dir)
        .output()
        .expect("run the probe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("fake geth:") && !stderr.contains("Error"),
        "probe {command:?} in {state:?}: {stderr}"
    );
    let argv = fs::read_to_string(&argv_file)
        .unwrap_or_else(|_| panic!("probe {command:?} never ran geth"))
        .lines()
        .map(String::from)
        .collect();
    let urls = fs::read_to_string(&wget_log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    fs::remove_file(&argv_file).ok();
    fs::remove_file(&wget_log).ok();
    ((out.status.success(), argv), urls)
}

#[test]
fn every_probe_answers_to_the_node_state_in_every_network_shape() {
    let mut shapes = BTreeSet::new();
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let nodes: u64 = node_groups(&public)
            .iter()
            .map(|g| g["replicas"].as_u64().unwrap())
            .sum();
        shapes.insert(if nodes > 1 {
            "multi-node"
        } else {
            "single-node"
        });
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let toml = rendered_toml(&docs, net, group);
            let ipc = format!(
                "{}/{}",
                toml["Node"]["DataDir"].as_str().unwrap(),
                toml["Node"]["IPCPath"].as_str().unwrap()
            );
            let geth = geth_container(&docs, net, group);
            // Proof of stake: the beacon node's Beacon API port (0: no beacon node).
            let pos = public["proofOfStake"].is_object();
            let api = public["proofOfStake"]["ports"]["api"].as_i64().unwrap_or(0);
            // Its beacon peers: a pod with its own Service (validator, bootnode),
            // when there are several, every other such pod to start (a rollout never
            // cuts one off) and all but one to stay Ready (one pod's restart leaves the
            // others Ready: the StatefulSet controller deletes unready old pods at
            // once); other pods one.
            let stable: u32 = node_groups(&public)
                .iter()
                .filter(|g| g["nodeServices"] == true)
                .map(|g| g["nodes"].as_array().unwrap().len() as u32)
                .sum();
            let (at_start, when_ready) = if g["nodeServices"] == true && stable > 1 {
                (stable - 1, stable - 2)
            } else {
                (1, 1)
            };
            let beacon_peer_counts: BTreeSet<u32> = if pos {
                [0, 1, 12, at_start, when_ready]
                    .into_iter()
                    .flat_map(|n| [n.saturating_sub(1), n])
                    .collect()
            } else {
                BTreeSet::from([0])
            };
            for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
                let ctx = format!("{}: {group} {probe}", ex.name);
                let command = strings(&geth[probe]["exec"]["command"]);
                let down = NodeState {
                    attaches: false,
                    peers: 1,
                    syncing: false,
                    beacon_peers: 1,
                };
                let (passed, argv) = run_probe(&command, down);
                assert!(!passed, "{ctx} passes while geth does not answer");
                assert_eq!(argv.first().map(String::as_str), Some("attach"), "{ctx}");
                assert!(
                    argv.contains(&ipc),
                    "{ctx}: attaches to {argv:?}, geth serves {ipc}"
                );
                for peers in [0, 1] {
                    for syncing in [false, true] {
                        for &beacon_peers in &beacon_peer_counts {
                            let state = NodeState {
                                attaches: true,
                                peers,
                                syncing,
                                beacon_peers,
                            };
                            // Alive: geth answers. Started: also (proof of stake, other
                            // nodes) its beacon node has every peer it needs to start.
                            // Ready: in step with the chain, and (when there are other
                            // nodes) connected to one, and its beacon node to enough.
                            let multi_pos = pos && nodes > 1;
                            let want = match probe {
                                "startupProbe" => !multi_pos || beacon_peers >= at_start,
                                "livenessProbe" => true,
                                _ => {
                                    !syncing
                                        && (nodes == 1
                                            || (peers > 0 && (!pos || beacon_peers >= when_ready)))
                                }
                            };
                            let ((passed, _), urls) = run_probe_with_api(&command, state, api);
                            assert_eq!(passed, want, "{ctx} in {state:?}");
                            let beacon_url =
                                format!("http://127.0.0.1:{api}/eth/v1/node/peer_count");
                            for u in &urls {
                                assert_eq!(u, &beacon_url, "{ctx}: fetched {u}");
                            }
                            if !pos {
                                assert!(urls.is_empty(), "{ctx}: asks a beacon node");
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(
        shapes,
        BTreeSet::from(["multi-node", "single-node"]),
        "the examples must include every network shape"
    );
}

/// Proof of stake: geth's liveness probe restarts a block sync that stopped making
/// progress (the same progress twice in a row, with peers, while behind), and never a
/// node that is in step, only indexing, without peers, or progressing.
#[test]
fn pos_geth_liveness_restarts_only_a_stalled_sync() {
    let ex = pos_example("network:pos-groups");
    let docs = ex.render();
    let public = ex.public();
    let net = network_name(&public);
    for g in node_groups(&public) {
        let group = g["name"].as_str().unwrap();
        let probe = &geth_container(&docs, net, group)["livenessProbe"];
        let command = strings(&probe["exec"]["command"]);
        // A restart after failureThreshold probes without progress: 3 minutes or less.
        let window =
            probe["periodSeconds"].as_i64().unwrap() * probe["failureThreshold"].as_i64().unwrap();
        assert!(
            (60..=180).contains(&window),
            "{group}: stall window {window}s"
        );
        let dir = tempfile::tempdir().unwrap();
        let state = |peers, syncing| NodeState {
            attaches: true,
            peers,
            syncing,
            beacon_peers: 1,
        };
        // (peers, syncing, current block) -> alive; in order, over one pod's /tmp.
        let steps = [
            ((1, true, 7), true),  // first sight of a sync
            ((1, true, 7), false), // no progress: stalled
            ((1, true, 7), false), // still stalled (failures in a row)
            ((1, true, 8), true),  // progress
            ((1, true, 8), false), // stalled again
            ((0, true, 8), true),  // no peers: a restart would not help
            ((1, true, 8), true),  // peers back: watched afresh
            ((1, false, 8), true), // in step
            ((1, true, 8), true),  // behind again: first sight
            ((1, true, 9), true),  // not behind (highest 9): only indexing
            ((1, true, 9), true),
        ];
        for (i, ((peers, syncing, current), alive)) in steps.into_iter().enumerate() {
            let ((passed, _), _) =
                run_probe_in(dir.path(), &command, state(peers, syncing), 0, current);
            assert_eq!(
                passed, alive,
                "{group}: step {i}: peers {peers}, syncing {syncing}, block {current} of 9"
            );
        }
        let down = NodeState {
            attaches: false,
            ..state(1, false)
        };
        assert!(
            !run_probe_in(dir.path(), &command, down, 0, 7).0 .0,
            "{group}: alive while geth does not answer"
        );
    }
    // Clique: geth's own sync is not watched; alive while geth answers.
    let clique = examples()
        .iter()
        .find(|e| !e.public()["proofOfStake"].is_object())
        .unwrap();
    let docs = clique.render();
    let public = clique.public();
    let g = &node_groups(&public)[0];
    let command = strings(
        &geth_container(&docs, network_name(&public), g["name"].as_str().unwrap())["livenessProbe"]
            ["exec"]["command"],
    );
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let ((passed, _), _) = run_probe_in(
            dir.path(),
            &command,
            NodeState {
                attaches: true,
                peers: 1,
                syncing: true,
                beacon_peers: 0,
            },
            0,
            7,
        );
        assert!(
            passed,
            "{}: a clique geth's liveness watches its sync",
            clique.name
        );
    }
}

/// The validator client is restarted when it stops answering: liveness on its
/// monitoring server's `/healthz`, which it serves on every address (the kubelet
/// probes the pod IP) whether or not metrics are collected.
#[test]
fn pos_the_validator_client_has_a_liveness_probe() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let port = public["proofOfStake"]["ports"]["validatorMetrics"]
            .as_i64()
            .unwrap();
        for g in node_groups(&public)
            .iter()
            .filter(|g| g["role"] == "validator")
        {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: {group}", ex.name);
            let vc = container(&docs, net, group, "validator");
            let alive = &vc["livenessProbe"]["httpGet"];
            assert_eq!(alive["path"], "/healthz", "{ctx}");
            let ports = container_ports(vc);
            let named = alive["port"].as_str().unwrap();
            assert_eq!(ports[named].0, port, "{ctx}");
            let args = strings(&vc["args"]);
            assert_eq!(
                flag(&args, "--monitoring-port"),
                Some(port.to_string().as_str()),
                "{ctx}"
            );
            assert_eq!(flag(&args, "--monitoring-host"), Some("0.0.0.0"), "{ctx}");
            assert!(!args.iter().any(|a| a == "--disable-monitoring"), "{ctx}");
        }
    }
}

/// The beacon node: started and alive while its Beacon API answers; ready once synced
/// (`syncing_status=503`: a syncing node answers 503, never 206, which a kubelet
/// would count as ready). The API listens on every address (the kubelet probes the
/// pod IP); gRPC, which only the pod's validator client uses, on localhost only.
#[test]
fn pos_beacon_probes_ask_the_beacon_api() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let api = public["proofOfStake"]["ports"]["api"].as_i64().unwrap();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: {group}", ex.name);
            let beacon = container(&docs, net, group, "beacon");
            let ports = container_ports(beacon);
            assert_eq!(ports["beacon-api"], (api, "TCP".to_string()), "{ctx}");
            let ready = &beacon["readinessProbe"]["httpGet"];
            assert_eq!(
                ready["path"], "/eth/v1/node/health?syncing_status=503",
                "{ctx}"
            );
            assert_eq!(ready["port"], "beacon-api", "{ctx}");
            assert_eq!(
                beacon["startupProbe"]["tcpSocket"]["port"], "beacon-api",
                "{ctx}"
            );
            // Alive: not syncing for ten minutes in a row (a stalled initial sync
            // is restarted).
            let alive = &beacon["livenessProbe"];
            assert_eq!(
                alive["httpGet"], beacon["readinessProbe"]["httpGet"],
                "{ctx}"
            );
            assert_eq!(
                alive["periodSeconds"].as_i64().unwrap()
                    * alive["failureThreshold"].as_i64().unwrap(),
                600,
                "{ctx}"
            );
            let args = strings(&beacon["args"]);
            assert_eq!(
                flag(&args, "--http-port"),
                Some(api.to_string().as_str()),
                "{ctx}"
            );
            assert_eq!(flag(&args, "--http-host"), Some("0.0.0.0"), "{ctx}");
            assert_eq!(flag(&args, "--rpc-host"), Some("127.0.0.1"), "{ctx}");
            let grpc = flag(&args, "--rpc-port").unwrap();
            if g["role"] == "validator" {
                let vc = strings(&container(&docs, net, group, "validator")["args"]);
                assert_eq!(
                    flag(&vc, "--beacon-rpc-provider"),
                    Some(format!("127.0.0.1:{grpc}").as_str()),
                    "{ctx}: the validator client talks to its own pod's beacon node"
                );
            }
        }
    }
}
