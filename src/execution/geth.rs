//! What each geth release can do, in one table, and the configuration text
//! (TOML and flags) written for the release a node group runs.

use std::fmt;

use crate::config::ForkAtGenesis;
use crate::version::Version;

/// A geth release, parsed from an image tag like `v1.13.15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GethVersion(Version);

impl GethVersion {
    /// Only exact release tags: see [`Version::parse_tag`].
    pub fn parse(tag: &str) -> Result<Self, String> {
        Version::parse_tag(tag, "geth", "v1.13.15").map(Self)
    }

    const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self(Version::new(major, minor, patch))
    }
}

impl fmt::Display for GethVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The consensus engines, as the version table knows them: proof of stake is
/// split by the fork the chain starts at, since each fork needs newer geth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Clique,
    ProofOfStake(ForkAtGenesis),
}

impl Engine {
    fn describe(self) -> &'static str {
        match self {
            Engine::Clique => "a clique network",
            Engine::ProofOfStake(ForkAtGenesis::Electra) => {
                "a proof-of-stake network starting at Electra/Prague"
            }
            Engine::ProofOfStake(ForkAtGenesis::Fulu) => {
                "a proof-of-stake network starting at Fulu/Osaka"
            }
        }
    }
}

/// One row of the table: a range of releases and what they support.
struct Support {
    engine: Engine,
    first: GethVersion,
    last: GethVersion,
    /// Why the range starts where it does, for the error message.
    before: &'static str,
    /// Why the range ends where it does, for the error message.
    after: &'static str,
}

/// The newest release this compiler has checked: configuration keys and flags
/// drift between releases, so newer ones are refused until checked.
const NEWEST_CHECKED: &str = "it is the newest release this compiler knows; newer releases are refused until their configuration is checked";

/// Which geth releases can run which consensus. Clique sealing exists only in 1.13.x:
/// 1.14.0 refuses to start a chain that has not merged to proof of stake. Prague's
/// system contracts are final from 1.16.0 on; 1.16.7 is the first release with the
/// Osaka rules mainnet activated (it schedules mainnet's Osaka and BPO forks).
const SUPPORT: &[Support] = &[
    Support {
        engine: Engine::Clique,
        first: GethVersion::new(1, 13, 0),
        last: GethVersion::new(1, 13, 15),
        before: "older releases lack fixes the chart relies on",
        after: "clique ended at v1.13.15: geth v1.14.0 and later refuse to start a network that has not moved to proof of stake",
    },
    Support {
        engine: Engine::ProofOfStake(ForkAtGenesis::Electra),
        first: GethVersion::new(1, 16, 0),
        last: GethVersion::new(1, 17, 10),
        before: "the 1.16 line is the oldest this compiler checks for proof of stake",
        after: NEWEST_CHECKED,
    },
    Support {
        engine: Engine::ProofOfStake(ForkAtGenesis::Fulu),
        first: GethVersion::new(1, 16, 7),
        last: GethVersion::new(1, 17, 10),
        before: "earlier releases run a draft of Osaka that the consensus clients' Fulu does not match",
        after: NEWEST_CHECKED,
    },
];

/// Checks that `version` can run `engine`; the error names the versions that can.
pub fn check_support(engine: Engine, version: GethVersion) -> Result<(), String> {
    let row = SUPPORT
        .iter()
        .find(|s| s.engine == engine)
        .ok_or_else(|| "no geth release supports this consensus".to_string())?;
    let (first, last, what) = (row.first, row.last, engine.describe());
    if version < first {
        return Err(format!(
            "geth {version} is too old for {what}: {}. Use {first} to {last} (the newest, {last}, is recommended)",
            row.before
        ));
    }
    if version > last {
        let hint = if engine == Engine::Clique {
            "; proof of stake is the path for newer geth"
        } else {
            ""
        };
        return Err(format!(
            "geth {version} cannot run {what}: {}. Use {first} to {last}{hint}",
            row.after
        ));
    }
    Ok(())
}

/// Flag families `extraFlags` may not touch, with why: they would serve RPC
/// beyond what a group's `rpc` settings allow (where the API list is checked and
/// signers get none), unlock a key, or replace the generated configuration.
const GUARDED_FLAGS: &[(&str, &str)] = &[
    ("http", "HTTP JSON-RPC is set with a group's `rpc` settings (`role: rpc`), where the API list is checked"),
    ("ws", "WebSocket JSON-RPC is set with a group's `rpc` settings (`role: rpc`), where the API list is checked"),
    ("graphql", "GraphQL serves the node's data beside HTTP RPC; it is not offered"),
    ("authrpc", "the authenticated engine API stays on its defaults"),
    ("unlock", "only signers unlock their key, and they serve no RPC"),
    ("allow-insecure-unlock", "an unlocked key beside RPC lets any caller sign with it"),
    ("pprof", "the profiling server serves debug endpoints"),
    ("config", "the geth configuration is generated (and holds the RPC settings)"),
];

/// Why `flag` (one item of `extraFlags`) is refused, if it is.
pub fn extra_flag_problem(flag: &str) -> Option<String> {
    if flag.chars().any(char::is_control) {
        return Some("contains a control character (a newline would become a second argument); write one flag per list item".into());
    }
    let Some(body) = flag.strip_prefix('-') else {
        // A value of the flag before it (`["--syncmode", "full"]`).
        return None;
    };
    let body = body.strip_prefix('-').unwrap_or(body);
    let name = body.split_once('=').map_or(body, |(n, _)| n);
    let (_, why) = GUARDED_FLAGS
        .iter()
        .find(|(f, _)| name == *f || name.strip_prefix(f).is_some_and(|r| r.starts_with('.')))?;
    Some(format!(
        "`{}` is refused in extraFlags: {why}",
        crate::diagnostics::excerpt(flag)
    ))
}

/// What a release accepts in its TOML and on its command line. Only 1.13.x runs
/// today's networks; the flags differ from later releases (see `flags`).
#[derive(Clone, Copy, Debug)]
pub struct Release {
    pub version: GethVersion,
}

impl Release {
    /// `[Eth.Miner] NewPayloadTimeout` is refused from 1.14 on.
    pub fn toml_new_payload_timeout(&self) -> bool {
        self.version < GethVersion::new(1, 14, 0)
    }

    /// `--mine`, `--miner.etherbase`, `--unlock` work only before 1.14.
    pub fn clique_sealing_flags(&self) -> bool {
        self.version < GethVersion::new(1, 14, 0)
    }
}

/// Inputs of one node group's geth TOML.
pub struct TomlInput<'a> {
    pub release: Release,
    pub network_id: u64,
    pub gas_limit: u64,
    pub data_dir: &'a str,
    pub http: Option<HttpInput<'a>>,
    pub ws: Option<HttpInput<'a>>,
    pub p2p_port: u16,
    pub max_peers: u32,
    /// Bootnode enodes; empty means discovery is off (static peers only).
    pub bootstrap_nodes: &'a [String],
    pub static_nodes: &'a [String],
    pub ethstats_url: Option<String>,
    /// The address HTTP, WS, the engine API and P2P listen on; `None` in a pod
    /// (every interface; the engine API on localhost). Several nodes on one host
    /// need one address each, or their listeners clash.
    pub bind_host: Option<&'a str>,
    /// Proof of stake: the engine API the beacon node drives, authenticated by
    /// the JWT secret in this file (on localhost unless `bind_host` says otherwise).
    pub engine_api: Option<EngineApi<'a>>,
}

pub struct EngineApi<'a> {
    pub port: u16,
    pub jwt_secret_path: &'a str,
}

pub struct HttpInput<'a> {
    pub port: u16,
    pub modules: Vec<&'static str>,
    /// CORS (HTTP) or allowed origins (WS).
    pub origins: &'a [String],
    pub vhosts: Vec<String>,
}

// The sections below mirror geth 1.13's config structs: keys are Go field names,
// and only keys every 1.13.x release accepts are written (decoding is strict).
#[derive(serde::Serialize)]
struct GethConfig {
    #[serde(rename = "Eth")]
    eth: EthSection,
    #[serde(rename = "Node")]
    node: NodeSection,
    #[serde(rename = "Ethstats", skip_serializing_if = "Option::is_none")]
    ethstats: Option<EthstatsSection>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct EthSection {
    network_id: u64,
    sync_mode: &'static str,
    miner: MinerSection,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct MinerSection {
    gas_ceil: u64,
    // geth replaces its whole default [Eth.Miner] with the table it reads, so every
    // field that must not fall to zero is written (zeros are "sanitized" with a
    // warning at start-up).
    gas_price: u64,
    recommit: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_payload_timeout: Option<u64>,
}

/// geth's miner defaults (miner.DefaultConfig): 1 gwei, 2 s, 2 s.
const MINER_GAS_PRICE_WEI: u64 = 1_000_000_000;
const MINER_RECOMMIT_NS: u64 = 2_000_000_000;
const MINER_NEW_PAYLOAD_TIMEOUT_NS: u64 = 2_000_000_000;

#[derive(serde::Serialize)]
struct NodeSection {
    #[serde(rename = "DataDir")]
    data_dir: String,
    #[serde(rename = "IPCPath")]
    ipc_path: &'static str,
    #[serde(rename = "HTTPHost", skip_serializing_if = "Option::is_none")]
    http_host: Option<String>,
    #[serde(rename = "HTTPPort", skip_serializing_if = "Option::is_none")]
    http_port: Option<u16>,
    #[serde(rename = "HTTPVirtualHosts", skip_serializing_if = "Option::is_none")]
    http_vhosts: Option<Vec<String>>,
    #[serde(rename = "HTTPModules", skip_serializing_if = "Option::is_none")]
    http_modules: Option<Vec<&'static str>>,
    #[serde(rename = "HTTPCors", skip_serializing_if = "Option::is_none")]
    http_cors: Option<Vec<String>>,
    #[serde(rename = "WSHost", skip_serializing_if = "Option::is_none")]
    ws_host: Option<String>,
    #[serde(rename = "WSPort", skip_serializing_if = "Option::is_none")]
    ws_port: Option<u16>,
    #[serde(rename = "WSModules", skip_serializing_if = "Option::is_none")]
    ws_modules: Option<Vec<&'static str>>,
    #[serde(rename = "WSOrigins", skip_serializing_if = "Option::is_none")]
    ws_origins: Option<Vec<String>>,
    #[serde(rename = "AuthAddr", skip_serializing_if = "Option::is_none")]
    auth_addr: Option<String>,
    #[serde(rename = "AuthPort", skip_serializing_if = "Option::is_none")]
    auth_port: Option<u16>,
    #[serde(rename = "JWTSecret", skip_serializing_if = "Option::is_none")]
    jwt_secret: Option<String>,
    #[serde(rename = "P2P")]
    p2p: P2pSection,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct P2pSection {
    max_peers: u32,
    no_discovery: bool,
    /// Always written: an absent list makes geth fall back to mainnet's bootnodes.
    bootstrap_nodes: Vec<String>,
    static_nodes: Vec<String>,
    trusted_nodes: Vec<String>,
    listen_addr: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct EthstatsSection {
    #[serde(rename = "URL")]
    url: String,
}

/// The TOML text for `--config` (written by us, never by Helm, so integers stay integers).
pub fn toml(input: &TomlInput) -> String {
    let bind = input.bind_host.unwrap_or("0.0.0.0").to_string();
    let cfg = GethConfig {
        eth: EthSection {
            network_id: input.network_id,
            sync_mode: "full",
            miner: MinerSection {
                gas_ceil: input.gas_limit,
                gas_price: MINER_GAS_PRICE_WEI,
                recommit: MINER_RECOMMIT_NS,
                new_payload_timeout: input
                    .release
                    .toml_new_payload_timeout()
                    .then_some(MINER_NEW_PAYLOAD_TIMEOUT_NS),
            },
        },
        node: NodeSection {
            data_dir: input.data_dir.to_string(),
            ipc_path: "geth.ipc",
            http_host: input.http.as_ref().map(|_| bind.clone()),
            http_port: input.http.as_ref().map(|h| h.port),
            http_vhosts: input.http.as_ref().map(|h| h.vhosts.clone()),
            http_modules: input.http.as_ref().map(|h| h.modules.clone()),
            http_cors: input.http.as_ref().map(|h| h.origins.to_vec()),
            ws_host: input.ws.as_ref().map(|_| bind.clone()),
            ws_port: input.ws.as_ref().map(|h| h.port),
            ws_modules: input.ws.as_ref().map(|h| h.modules.clone()),
            ws_origins: input.ws.as_ref().map(|h| h.origins.to_vec()),
            p2p: P2pSection {
                max_peers: input.max_peers,
                no_discovery: input.bootstrap_nodes.is_empty(),
                bootstrap_nodes: input.bootstrap_nodes.to_vec(),
                static_nodes: input.static_nodes.to_vec(),
                trusted_nodes: input.static_nodes.to_vec(),
                listen_addr: format!("{}:{}", input.bind_host.unwrap_or(""), input.p2p_port),
            },
            auth_addr: input.bind_host.map(str::to_string),
            auth_port: input.engine_api.as_ref().map(|e| e.port),
            jwt_secret: input
                .engine_api
                .as_ref()
                .map(|e| e.jwt_secret_path.to_string()),
        },
        ethstats: input
            .ethstats_url
            .clone()
            .map(|url| EthstatsSection { url }),
    };
    // Strings, integers, booleans and lists in fixed structs: nothing TOML cannot hold.
    toml::to_string(&cfg).expect("geth config serializes")
}

/// Where a node's files are, for the flags that name them.
pub struct FlagPaths<'a> {
    pub config: &'a str,
    pub nodekey: &'a str,
    pub keystore: &'a str,
    pub password: &'a str,
    /// The engine API's JWT secret (proof of stake).
    pub jwt_secret: &'a str,
}

pub struct FlagInput<'a> {
    pub release: Release,
    pub paths: FlagPaths<'a>,
    /// Also on the command line: without `--networkid` geth takes its mainnet
    /// start-up path (and its mainnet cache size), whatever the TOML says.
    pub network_id: u64,
    /// `--cache` in MiB (see `cache_mib`).
    pub cache_mib: u64,
    pub verbosity: u8,
    pub metrics_port: Option<u16>,
    /// See `TomlInput::bind_host`.
    pub bind_host: Option<&'a str>,
    pub signer: bool,
    /// Write each block's state to disk as the block is imported (hash scheme,
    /// archive): a killed geth then restarts at its head. Otherwise geth keeps the
    /// recent states in memory (the path scheme: 128 blocks and a write buffer) and,
    /// killed, rewinds to the last it wrote. Proof of stake needs it: a beacon node
    /// hands its geth each block once, so after every pod is killed at once no geth
    /// has the blocks it rewound past executed, and none can build the next.
    pub state_every_block: bool,
    pub extra: &'a [String],
}

/// The flags `geth init` creates a new database with, beyond the flags geth runs
/// with (geth opens an existing database with the engine that created it).
///
/// Proof of stake keeps geth's database in LevelDB, which hands every write to the
/// operating system at once. geth's Pebble writes without syncing (`NoSync`): its
/// log records wait inside the process until 32 KiB gather, so a killed geth loses
/// its last blocks. After every geth of a network was killed at once (a power cut),
/// each came back three blocks behind the head its beacon node agreed on, no peer
/// had those blocks, and a beacon node hands its geth each block once: the chain
/// stopped for good (a live run). Clique signers simply seal those blocks again.
pub fn new_database_flags(state_every_block: bool) -> Vec<String> {
    if state_every_block {
        vec!["--db.engine=leveldb".to_string()]
    } else {
        Vec::new()
    }
}

/// geth's `--cache` for a container with this memory limit. geth sizes its caches
/// from the host's RAM, never from the container's limit, and its memory use is
/// about the cache plus a few hundred MiB: a quarter of the limit leaves room for
/// the rest. Without a limit, 512 MiB suits a private network's small state.
pub fn cache_mib(memory_limit_bytes: Option<u64>) -> u64 {
    match memory_limit_bytes {
        Some(bytes) => (bytes >> 20).div_ceil(4).clamp(128, 4096),
        None => 512,
    }
}

/// The flags that must be flags on this release (no TOML equivalent, or TOML ignored).
/// The per-pod `--miner.etherbase`/`--unlock` address is added by whoever knows the pod.
pub fn flags(input: &FlagInput) -> Vec<String> {
    let p = &input.paths;
    let mut args = vec![
        format!("--config={}", p.config),
        format!("--nodekey={}", p.nodekey),
        "--nat=none".to_string(),
        format!("--networkid={}", input.network_id),
        format!("--cache={}", input.cache_mib),
        format!("--verbosity={}", input.verbosity),
    ];
    // Flags, not `[Metrics]`: the table is ignored up to 1.14.13, the flags work
    // on every release.
    if let Some(port) = input.metrics_port {
        args.push("--metrics".into());
        args.push(format!(
            "--metrics.addr={}",
            input.bind_host.unwrap_or("0.0.0.0")
        ));
        args.push(format!("--metrics.port={port}"));
    }
    if input.state_every_block {
        // The scheme goes to `geth init` too (the chart passes it on): a new
        // database is created with it, and an existing one must have it.
        args.push("--state.scheme=hash".into());
        args.push("--gcmode=archive".into());
    }
    if input.signer && input.release.clique_sealing_flags() {
        args.push("--mine".into());
        args.push(format!("--keystore={}", p.keystore));
        args.push(format!("--password={}", p.password));
    }
    args.extend(input.extra.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_tags_only() {
        assert_eq!(
            GethVersion::parse("v1.13.15").unwrap(),
            GethVersion::new(1, 13, 15)
        );
        assert_eq!(
            GethVersion::parse("v1.0.0").unwrap(),
            GethVersion::new(1, 0, 0)
        );
        for bad in [
            "stable",
            "latest",
            "1.13.15",
            "v1.13",
            "v1.13.x",
            "v1..1",
            "alltools-v1.13.15",
            "v1.13.+5",
            "v1.13.015",
            "v01.13.15",
            "v1.13.15.0",
            "v1.13.-1",
            "v1.13.99999999999",
        ] {
            assert!(GethVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extra_flags_cannot_open_rpc_or_unlock() {
        for bad in [
            "--http",
            "-http",
            "--http.api=admin,personal",
            "--ws.addr=0.0.0.0",
            "--graphql",
            "--authrpc.addr=0.0.0.0",
            "--allow-insecure-unlock",
            "--unlock=0x00",
            "--config=/etc/other.toml",
            "--gcmode=archive\n--http",
        ] {
            assert!(extra_flag_problem(bad).is_some(), "{bad}");
        }
        for ok in [
            "--gcmode=archive",
            "--syncmode",
            "full",
            "--rpc.gascap=0",
            "--httpx",
        ] {
            assert_eq!(extra_flag_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn clique_range() {
        let ok = |t| check_support(Engine::Clique, GethVersion::parse(t).unwrap());
        assert!(ok("v1.13.0").is_ok());
        assert!(ok("v1.13.15").is_ok());
        assert!(ok("v1.12.2")
            .unwrap_err()
            .contains("Use v1.13.0 to v1.13.15"));
        let e = ok("v1.14.0").unwrap_err();
        assert!(e.contains("clique ended at v1.13.15") && e.contains("proof of stake"));
    }

    #[test]
    fn proof_of_stake_ranges_depend_on_the_fork() {
        let fulu = |t| {
            check_support(
                Engine::ProofOfStake(ForkAtGenesis::Fulu),
                GethVersion::parse(t).unwrap(),
            )
        };
        let electra = |t| {
            check_support(
                Engine::ProofOfStake(ForkAtGenesis::Electra),
                GethVersion::parse(t).unwrap(),
            )
        };
        for v in ["v1.16.7", "v1.16.9", "v1.17.0", "v1.17.10"] {
            assert!(fulu(v).is_ok(), "{v}");
        }
        for v in ["v1.16.0", "v1.16.5", "v1.17.10"] {
            assert!(electra(v).is_ok(), "{v}");
        }
        let e = fulu("v1.16.5").unwrap_err();
        assert!(
            e.contains("Fulu/Osaka") && e.contains("Use v1.16.7 to v1.17.10"),
            "{e}"
        );
        let e = fulu("v1.13.15").unwrap_err();
        assert!(e.contains("Use v1.16.7 to v1.17.10"), "{e}");
        let e = electra("v1.17.11").unwrap_err();
        assert!(
            e.contains("newest release") && e.contains("Use v1.16.0 to v1.17.10"),
            "{e}"
        );
        assert!(!e.contains("proof of stake is the path"), "{e}");
    }

    #[test]
    fn toml_is_strict_geth_shape() {
        let statics = vec!["enode://ab@h:30303".to_string()];
        let text = toml(&TomlInput {
            release: Release {
                version: GethVersion::new(1, 13, 15),
            },
            network_id: 4242,
            gas_limit: 30_000_000,
            data_dir: "/data",
            http: Some(HttpInput {
                port: 8545,
                modules: vec!["eth", "net"],
                origins: &[],
                vhosts: vec!["localhost".into()],
            }),
            ws: None,
            p2p_port: 30303,
            max_peers: 50,
            bootstrap_nodes: &[],
            static_nodes: &statics,
            ethstats_url: None,
            bind_host: None,
            engine_api: None,
        });
        assert!(text.contains("[Eth]\nNetworkId = 4242\n"), "{text}");
        assert!(text.contains("GasCeil = 30000000"));
        assert!(
            text.contains(
                "GasPrice = 1000000000\nRecommit = 2000000000\nNewPayloadTimeout = 2000000000\n"
            ),
            "{text}"
        );
        assert!(text.contains("BootstrapNodes = []"));
        assert!(text.contains("NoDiscovery = true"));
        assert!(text.contains("HTTPModules = [\"eth\", \"net\"]"), "{text}");
        assert!(
            !text.contains("WSHost") && !text.contains("Ethstats") && !text.contains("[Miner]")
        );
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["Node"]["P2P"]["StaticNodes"][0].as_str(),
            Some("enode://ab@h:30303")
        );
    }

    #[test]
    fn signer_flags_on_1_13() {
        let args = flags(&FlagInput {
            release: Release {
                version: GethVersion::new(1, 13, 15),
            },
            paths: FlagPaths {
                config: "c",
                nodekey: "n",
                keystore: "k",
                password: "p",
                jwt_secret: "j",
            },
            verbosity: 3,
            metrics_port: Some(6060),
            bind_host: None,
            signer: true,
            network_id: 7,
            cache_mib: 256,
            state_every_block: false,
            extra: &["--x".to_string()],
        });
        assert_eq!(
            args,
            [
                "--config=c",
                "--nodekey=n",
                "--nat=none",
                "--networkid=7",
                "--cache=256",
                "--verbosity=3",
                "--metrics",
                "--metrics.addr=0.0.0.0",
                "--metrics.port=6060",
                "--mine",
                "--keystore=k",
                "--password=p",
                "--x"
            ]
        );
    }
}
