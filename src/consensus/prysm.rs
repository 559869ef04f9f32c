//! Prysm's command lines: the beacon node beside each geth, and the validator
//! client of validator pods. Like geth's flags, they come from the compiler, so
//! the chart and `export` run one checked command line per release.

/// Where a pod's consensus files are.
#[derive(Clone, Copy, Debug)]
pub struct PrysmPaths<'a> {
    /// The beacon node's database (on the pod's volume).
    pub beacon_data_dir: &'a str,
    /// The validator client's database, with its slashing-protection history
    /// (on the pod's volume, so a restarted or rescheduled pod never signs twice).
    pub validator_data_dir: &'a str,
    pub chain_config: &'a str,
    pub genesis_state: &'a str,
    /// The engine API's JWT secret, shared with geth.
    pub jwt_secret: &'a str,
    /// The beacon node's P2P key file (64 hex).
    pub p2p_key: &'a str,
    pub wallet_dir: &'a str,
    pub wallet_password: &'a str,
}

/// Ports of one pod's beacon node and validator client.
#[derive(Clone, Copy, Debug)]
pub struct PrysmPorts {
    pub tcp: u16,
    pub udp: u16,
    /// REST API (Beacon API): readiness, users, tools.
    pub api: u16,
    /// gRPC, for the pod's own validator client only.
    pub grpc: u16,
    pub beacon_metrics: u16,
    pub validator_metrics: u16,
}

pub struct BeaconInput<'a> {
    pub paths: PrysmPaths<'a>,
    pub ports: PrysmPorts,
    /// Where geth's engine API listens (`http://127.0.0.1:8551`).
    pub execution_endpoint: String,
    /// The address the REST API and metrics bind to.
    pub bind_host: &'a str,
    /// Multiaddrs of the beacon nodes every node keeps connected to.
    pub peers: Vec<String>,
    pub fee_recipient: String,
    pub metrics: bool,
    /// Custody every data column (Fulu): with a handful of nodes, no column may
    /// be left to nobody, or a restarted node could not sample blobs.
    pub supernode: bool,
    pub verbosity: &'static str,
}

pub struct ValidatorInput<'a> {
    pub paths: PrysmPaths<'a>,
    pub ports: PrysmPorts,
    pub bind_host: &'a str,
    pub fee_recipient: String,
    pub verbosity: &'static str,
}

/// Prysm's level for geth's verbosity number (0 silent … 5 detail).
pub fn verbosity(geth_verbosity: u8) -> &'static str {
    match geth_verbosity {
        0 | 1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    }
}

/// A beacon node's multiaddr, reached by host name (a Service in the cluster).
pub fn peer_multiaddr(host: &str, tcp_port: u16, peer_id: &str) -> String {
    format!("/dns4/{host}/tcp/{tcp_port}/p2p/{peer_id}")
}

/// A beacon node in a pod (the chart): gRPC on localhost, for the pod's own
/// validator client only; libp2p on every interface of the pod.
pub fn beacon_flags(input: &BeaconInput) -> Vec<String> {
    beacon(input, None)
}

/// A beacon node outside Kubernetes (`export`), beside other nodes on one host:
/// every listener (libp2p TCP and discovery UDP, gRPC, the REST API, metrics) on
/// `bind_host`, the node's own address, which its record (ENR) advertises too.
pub fn standalone_beacon_flags(input: &BeaconInput) -> Vec<String> {
    beacon(input, Some(input.bind_host))
}

/// `own_address`: the one address every listener binds to (`None`: in a pod).
fn beacon(input: &BeaconInput, own_address: Option<&str>) -> Vec<String> {
    let p = &input.paths;
    let ports = &input.ports;
    let mut args = vec![
        "--accept-terms-of-use".to_string(),
        format!("--datadir={}", p.beacon_data_dir),
        format!("--chain-config-file={}", p.chain_config),
        format!("--genesis-state={}", p.genesis_state),
        format!("--execution-endpoint={}", input.execution_endpoint),
        format!("--jwt-secret={}", p.jwt_secret),
        // Deposits arrive as execution requests (EIP-6110); the deposit contract
        // is in the genesis block.
        "--contract-deployment-block=0".to_string(),
        format!("--p2p-priv-key={}", p.p2p_key),
        format!("--p2p-tcp-port={}", ports.tcp),
        format!("--p2p-udp-port={}", ports.udp),
    ];
    if let Some(address) = own_address {
        args.push(format!("--p2p-local-ip={address}"));
        args.push(format!("--p2p-host-ip={address}"));
    }
    args.extend([
        // TCP only: a killed peer's TCP connections close at once, while a QUIC
        // connection lingers until its idle timeout and the restarted peer's new
        // connection is not taken up meanwhile.
        "--disable-quic".to_string(),
        // Peers are the static --peer list below. Discovery v5 still runs, with no
        // bootstrap node (a --chain-config-file network has none, Prysm's
        // UseCustomNetworkConfig), so it never asks a node outside the network: Prysm
        // v7.1.2 keeps its record (ENR, `/eth/v1/node/identity`) and fills its
        // persistent attestation subnets only when its discovery listener exists
        // (RefreshPersistentSubnets), and without them --subscribe-all-subnets
        // leaves attestation subnets no peer listens on. (No flag: it is the default.)

        // A (re)started node resumes from its own head and takes part at once,
        // catching up on what it missed from its peers as it goes. Prysm's default
        // instead starts from the justified checkpoint and first syncs, from peers
        // whose heads are ahead of its own, towards the wall-clock slot. After
        // every pod stopped at once (a power cut), or most of the stake, no peer is
        // ahead of the others and none is at that slot: every node syncs for hours
        // (1,000 rounds of 15 s) and the chain makes no block. And a single
        // restarted node rewinds its geth to that checkpoint, which geth refuses
        // past 32 blocks.
        "--min-sync-peers=0".to_string(),
        "--sync-from=head".to_string(),
        // Few nodes: every node hears every attestation and sync committee subnet.
        "--subscribe-all-subnets".to_string(),
        format!("--http-host={}", input.bind_host),
        format!("--http-port={}", ports.api),
        format!("--rpc-host={}", own_address.unwrap_or("127.0.0.1")),
        format!("--rpc-port={}", ports.grpc),
        format!("--suggested-fee-recipient={}", input.fee_recipient),
        format!("--verbosity={}", input.verbosity),
    ]);
    if input.supernode {
        args.push("--supernode".into());
    }
    args.extend(input.peers.iter().map(|peer| format!("--peer={peer}")));
    args.extend(monitoring(
        input.metrics,
        input.bind_host,
        ports.beacon_metrics,
    ));
    args
}

/// The validator client of a validator pod (the chart): its beacon node's gRPC on
/// localhost.
pub fn validator_flags(input: &ValidatorInput) -> Vec<String> {
    validator(input, "127.0.0.1")
}

/// A validator client outside Kubernetes (`export`): its beacon node's gRPC and its
/// own metrics on `bind_host`, the node's own address.
pub fn standalone_validator_flags(input: &ValidatorInput) -> Vec<String> {
    validator(input, input.bind_host)
}

fn validator(input: &ValidatorInput, beacon_host: &str) -> Vec<String> {
    let p = &input.paths;
    let mut args = vec![
        "--accept-terms-of-use".to_string(),
        format!("--datadir={}", p.validator_data_dir),
        format!("--chain-config-file={}", p.chain_config),
        format!("--wallet-dir={}", p.wallet_dir),
        format!("--wallet-password-file={}", p.wallet_password),
        format!("--beacon-rpc-provider={beacon_host}:{}", input.ports.grpc),
        format!("--suggested-fee-recipient={}", input.fee_recipient),
        format!("--verbosity={}", input.verbosity),
    ];
    // Always on, metrics or not: `/healthz` there is what its liveness probe asks.
    args.extend(monitoring(
        true,
        input.bind_host,
        input.ports.validator_metrics,
    ));
    args
}

fn monitoring(enabled: bool, host: &str, port: u16) -> Vec<String> {
    if enabled {
        vec![
            format!("--monitoring-host={host}"),
            format!("--monitoring-port={port}"),
        ]
    } else {
        vec!["--disable-monitoring".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: PrysmPaths = PrysmPaths {
        beacon_data_dir: "/data/beacon",
        validator_data_dir: "/data/validator",
        chain_config: "/c/config.yaml",
        genesis_state: "/g/genesis.ssz",
        jwt_secret: "/r/jwt.hex",
        p2p_key: "/r/beacon-p2p-key",
        wallet_dir: "/r/wallet",
        wallet_password: "/r/wallet-password",
    };
    const PORTS: PrysmPorts = PrysmPorts {
        tcp: 13000,
        udp: 12000,
        api: 3500,
        grpc: 4000,
        beacon_metrics: 8080,
        validator_metrics: 8081,
    };

    fn beacon(metrics: bool, supernode: bool) -> Vec<String> {
        beacon_flags(&BeaconInput {
            paths: PATHS,
            ports: PORTS,
            execution_endpoint: "http://127.0.0.1:8551".into(),
            bind_host: "0.0.0.0",
            peers: vec![peer_multiaddr("n-v-0", 13000, "16Uiu2X")],
            fee_recipient: "0x00000000000000000000000000000000000000aa".into(),
            metrics,
            supernode,
            verbosity: verbosity(3),
        })
    }

    #[test]
    fn beacon_node_has_its_peers_tcp_only_and_no_bootstrap_node() {
        let args = beacon(true, true);
        for want in [
            "--disable-quic",
            "--subscribe-all-subnets",
            "--peer=/dns4/n-v-0/tcp/13000/p2p/16Uiu2X",
            "--p2p-priv-key=/r/beacon-p2p-key",
            "--jwt-secret=/r/jwt.hex",
            "--execution-endpoint=http://127.0.0.1:8551",
            "--rpc-host=127.0.0.1",
            "--monitoring-port=8080",
            "--supernode",
            "--verbosity=info",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing: {args:?}");
        }
        // Discovery stays on (see beacon_flags), with no bootstrap node to ask.
        for unwanted in ["--no-discovery", "--bootstrap-node", "--p2p-quic-port"] {
            assert!(
                !args.iter().any(|a| a.starts_with(unwanted)),
                "{unwanted}: {args:?}"
            );
        }
        let quiet = beacon(false, false);
        assert!(quiet.iter().any(|a| a == "--disable-monitoring"));
        assert!(!quiet.iter().any(|a| a == "--supernode"));
    }

    #[test]
    fn a_standalone_node_listens_only_on_its_own_address() {
        let input = |bind_host| BeaconInput {
            paths: PATHS,
            ports: PORTS,
            execution_endpoint: "http://127.0.0.3:8551".into(),
            bind_host,
            peers: Vec::new(),
            fee_recipient: "0x00000000000000000000000000000000000000aa".into(),
            metrics: true,
            supernode: false,
            verbosity: verbosity(3),
        };
        let args = standalone_beacon_flags(&input("127.0.0.3"));
        for want in [
            "--p2p-local-ip=127.0.0.3",
            "--p2p-host-ip=127.0.0.3",
            "--http-host=127.0.0.3",
            "--rpc-host=127.0.0.3",
            "--monitoring-host=127.0.0.3",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing: {args:?}");
        }
        // The pod's flags are those, less the P2P address, with gRPC on localhost.
        let pod = beacon_flags(&input("0.0.0.0"));
        let standalone: Vec<String> = standalone_beacon_flags(&input("0.0.0.0"))
            .into_iter()
            .filter(|a| !a.starts_with("--p2p-local-ip") && !a.starts_with("--p2p-host-ip"))
            .map(|a| a.replace("--rpc-host=0.0.0.0", "--rpc-host=127.0.0.1"))
            .collect();
        assert_eq!(pod, standalone);
        let validator = standalone_validator_flags(&ValidatorInput {
            paths: PATHS,
            ports: PORTS,
            bind_host: "127.0.0.3",
            fee_recipient: "0x00000000000000000000000000000000000000aa".into(),
            verbosity: verbosity(3),
        });
        for want in [
            "--beacon-rpc-provider=127.0.0.3:4000",
            "--monitoring-host=127.0.0.3",
        ] {
            assert!(validator.iter().any(|a| a == want), "{want}: {validator:?}");
        }
    }

    #[test]
    fn validator_client_keeps_its_database_on_the_volume() {
        let args = validator_flags(&ValidatorInput {
            paths: PATHS,
            ports: PORTS,
            bind_host: "0.0.0.0",
            fee_recipient: "0x00000000000000000000000000000000000000aa".into(),
            verbosity: verbosity(5),
        });
        for want in [
            "--datadir=/data/validator",
            "--wallet-dir=/r/wallet",
            "--beacon-rpc-provider=127.0.0.1:4000",
            "--monitoring-port=8081",
            "--verbosity=trace",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing: {args:?}");
        }
    }
}
