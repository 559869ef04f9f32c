//! `deposit` against a real geth: a compiled proof-of-stake network's execution
//! genesis (deposit contract, funded accounts) run by geth in developer mode, which
//! seals a block whenever a transaction waits. The deposit contract itself checks
//! every deposit's `deposit_data_root` against its data, so an accepted deposit is
//! a correctly built one. Needs `KUBERNETETH_GETH`, a geth v1.16 or later
//! (`make test-deposit` builds one with scripts/geth.sh).

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{run, stderr};

const NETWORK: &str = "network:
  name: stake
  chainId: 4343
  genesisTimestamp: 1798761600
  consensus:
    proofOfStake:
      secondsPerSlot: 6
      withdrawal: {address: \"0x00000000000000000000000000000000000d0a11\"}
geth: {version: v1.17.10}
nodes:
  - {name: val, role: validator, replicas: 3, genesisReplicas: 2, validatorsPerPod: 4}
  - {name: late, role: validator, replicas: 1, genesisReplicas: 0, validatorsPerPod: 2}
  - {name: rpc, role: rpc}
accounts:
  - {name: deployer, balance: 1000 ether}
  - {name: poor, balance: 100 ether}
  - {address: \"0x000000000000000000000000000000000000bEEF\", balance: 1000 ether}
keystore: {kdf: light}
";

fn geth_binary() -> PathBuf {
    let path = std::env::var_os("KUBERNETETH_GETH").unwrap_or_else(|| {
        panic!("KUBERNETETH_GETH is not set: give a geth v1.16 or later (make test-deposit builds one: scripts/geth.sh v1.17.10)")
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "KUBERNETETH_GETH={}: no such file",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// geth in developer mode on the network's execution genesis; killed on drop.
struct Geth {
    child: Child,
    url: String,
}

impl Geth {
    fn start(dir: &Path) -> Geth {
        let geth = geth_binary();
        let datadir = dir.join("geth");
        let init = Command::new(&geth)
            .args(["init", "--state.scheme=hash", "--datadir"])
            .arg(&datadir)
            .arg(dir.join("export/genesis.json"))
            .output()
            .unwrap();
        assert!(init.status.success(), "geth init: {}", stderr(&init));
        let http = free_port();
        let child = Command::new(&geth)
            // The block builders' minimum tip as in the network's pods (geth's
            // default; developer mode alone takes any).
            .args(["--miner.gasprice", "1000000"])
            .args([
                "--dev",
                "--dev.period",
                "1",
                "--state.scheme=hash",
                "--datadir",
            ])
            .arg(&datadir)
            .args([
                "--nodiscover",
                "--port",
                "0",
                "--ipcdisable",
                "--http",
                "--http.addr",
                "127.0.0.1",
            ])
            .args(["--http.port", &http.to_string()])
            .args(["--authrpc.port", &free_port().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::from(fs::File::create(dir.join("geth.log")).unwrap()))
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", http)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "geth did not open its HTTP port:\n{}",
                fs::read_to_string(dir.join("geth.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Geth {
            child,
            url: format!("http://127.0.0.1:{http}"),
        }
    }
}

impl Drop for Geth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn deposit(dir: &Path, file: &str, url: &str, from: &str, extra: &[&str]) -> Output {
    let mut args = vec!["deposit", "-c", file, "--rpc", url, "--from", from];
    args.extend(extra);
    run(&args, dir)
}

fn lines_starting(o: &Output, prefix: &str) -> usize {
    stderr(o).lines().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn deposits_reach_the_chain_once_and_only_when_they_can() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("net.yaml"), NETWORK).unwrap();
    let o = run(&["export", "-c", "net.yaml", "-o", "export"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let geth = Geth::start(d);
    let url = geth.url.as_str();

    // Refused before anything is sent: an account that cannot pay 6 deposits
    // (192 ether), one without a key here, an unknown one, another chain.
    let o = deposit(d, "net.yaml", url, "poor", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("account `poor` (0x")
            && stderr(&o)
                .contains("holds 100 ether, and 6 deposits need 192 ether of stake plus up to"),
        "{}",
        stderr(&o)
    );
    let o = deposit(d, "net.yaml", url, "nobody", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--from nobody: no account of the network file has that name and a key here; the accounts that can pay: deployer, poor"),
        "{}",
        stderr(&o)
    );
    fs::write(
        d.join("other.yaml"),
        NETWORK.replace("chainId: 4343", "chainId: 4344"),
    )
    .unwrap();
    let o = deposit(
        d,
        "other.yaml",
        url,
        "deployer",
        &["--secrets", "kuberneteth.secrets.yaml"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("serves chain 4343, and this network is chain 4344"),
        "{}",
        stderr(&o)
    );

    // A dry run compares and checks, and sends nothing.
    let o = deposit(d, "net.yaml", url, "deployer", &["--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 deposits planned: 0 on chain already, 6 to send"));
    assert_eq!(
        lines_starting(&o, "would deposit 32 ether for validator 0x"),
        6
    );
    assert!(stderr(&o).contains("(stake-val-2)") && stderr(&o).contains("(stake-late-0)"));

    // Sent, each in a block, each accepted by the contract.
    let o = deposit(d, "net.yaml", url, "deployer", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        lines_starting(&o, "deposited 32 ether for validator 0x"),
        6,
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("sent 6 deposits"));

    // Again: the chain has them all, nothing is sent.
    let o = deposit(d, "net.yaml", url, "deployer", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 deposits planned: 6 on chain already, 0 to send"));
    assert_eq!(lines_starting(&o, "deposited"), 0);

    // One more joining pod: only its deposits go.
    fs::write(
        d.join("net.yaml"),
        NETWORK.replace(
            "replicas: 1, genesisReplicas: 0",
            "replicas: 2, genesisReplicas: 0",
        ),
    )
    .unwrap();
    let o = deposit(d, "net.yaml", url, "deployer", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("8 deposits planned: 6 on chain already, 2 to send"));
    assert_eq!(lines_starting(&o, "deposited"), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("(stake-late-1)"));

    // A network whose validators are all in the genesis has nothing to deposit.
    fs::write(
        d.join("net.yaml"),
        NETWORK
            .replace("replicas: 3, genesisReplicas: 2", "replicas: 2")
            .replace("  - {name: late, role: validator, replicas: 1, genesisReplicas: 0, validatorsPerPod: 2}\n", ""),
    )
    .unwrap();
    let o = deposit(d, "net.yaml", url, "deployer", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to deposit"), "{}", stderr(&o));
    drop(geth);

    // Nothing listens: an I/O error that says where it looked.
    let o = deposit(
        d,
        "net.yaml",
        &format!("http://127.0.0.1:{}", free_port()),
        "deployer",
        &[],
    );
    assert!(
        o.status.success(),
        "nothing to deposit needs no RPC: {}",
        stderr(&o)
    );
    fs::write(d.join("net.yaml"), NETWORK).unwrap();
    let o = deposit(
        d,
        "net.yaml",
        &format!("http://127.0.0.1:{}", free_port()),
        "deployer",
        &[],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot read the chain id"),
        "{}",
        stderr(&o)
    );
    let o = deposit(d, "net.yaml", "not a url", "deployer", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_clique_network_has_no_deposits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("net.yaml"),
        "network: {name: c, chainId: 4343, consensus: clique}\nnodes:\n  - {name: s, role: signer, replicas: 3}\naccounts:\n  - {name: deployer, balance: 1 ether}\nkeystore: {kdf: light}\n",
    )
    .unwrap();
    assert!(run(&["compile", "-c", "net.yaml", "-o", "out"], d)
        .status
        .success());
    let o = deposit(d, "net.yaml", "http://127.0.0.1:8545", "deployer", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("this network runs clique"),
        "{}",
        stderr(&o)
    );
}
