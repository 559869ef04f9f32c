//! Mutation fuzzing of the path from bytes to diagnostics and values, on stable
//! Rust: the corpus (tests/corpus, values/, tests/fuzz-regressions) is mutated with
//! a seeded PRNG (byte flips, YAML tokens, truncations, splices, aliases) and every
//! input must come back, within a time bound, as positioned diagnostics or as
//! values, never as a panic.
//!
//! `cargo test --release --test fuzz` runs a few seconds. For a long run:
//! `KUBERNETETH_FUZZ_SECS=600 KUBERNETETH_FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture`.
//! An input that fails is written to tests/fuzz-regressions/, which is replayed first
//! on every run.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kuberneteth::check;
use kuberneteth::input;
use kuberneteth::pair;
use kuberneteth::plan::{self, BroughtKeys, Keystores};
use kuberneteth::secrets::MasterSecret;
use kuberneteth::values;

/// One input may take this long (release build), hostile or not.
const TIME_BOUND: Duration = Duration::from_secs(5);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn regressions() -> PathBuf {
    repo().join("tests/fuzz-regressions")
}

/// splitmix64: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Text that means something to YAML or to our checks.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a]",
    "<<: *a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "---\n",
    "...\n",
    "!foo ",
    "!!float ",
    "!!str ",
    "!custom {x: 1}",
    "\0",
    "\u{feff}",
    "'",
    "\"",
    "#",
    "|\n  x\n",
    ">-\n",
    "0x",
    "0x0000000000000000000000000000000000000001",
    "1e18",
    "3.0",
    "-1",
    "~",
    "null",
    "yes",
    "on",
    "\t",
    "\r",
    "\u{85}",
    "\u{7f}",
    "%YAML 1.2\n",
    "? ",
    "v1.13.+5",
    "v01.13.15",
    "--http",
    "--unlock=0x0",
    "\\",
    "\u{1F600}",
    "replicas: 1000",
    "p2pPort: 0",
    "balance: 1e999",
    "name: a",
    "role: signer",
    "extraFlags: [\"--http\"]",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => input[at.min(len - 1)] = rng.next() as u8,
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, t.iter().copied());
            }
            3 => input.truncate(at),
            4 => {
                let end = (at + rng.below(32)).min(len);
                input.drain(at..end);
            }
            5 => {
                // Splice a piece of another corpus file.
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(200)).min(other.len());
                input.splice(at..at, other[from..to].iter().copied());
            }
            6 => {
                // Repeat a line (duplicate keys, longer lists).
                let from = rng.below(len);
                let to = (from + rng.below(80)).min(len);
                let piece = input[from..to].to_vec();
                input.splice(at..at, piece);
            }
            7 => {
                // Replace a digit run with an extreme number.
                let n = [
                    "0",
                    "4294967296",
                    "18446744073709551616",
                    "1000",
                    "65536",
                    "99999999999999999999999",
                ];
                let t = n[rng.below(n.len())].as_bytes();
                input.splice(at..at, t.iter().copied());
            }
            _ => *input = alias_bomb(rng.below(12)),
        }
    }
}

/// A "billion laughs" of `depth` levels, each ten times the one before.
fn alias_bomb(depth: usize) -> Vec<u8> {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=depth {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str("network: {name: n, chainId: 31337, consensus: {clique: {period: 2}}}\n");
    text.into_bytes()
}

/// The path under test. Panics (caught by the caller) on a broken property.
fn run_one(bytes: &[u8]) {
    let text = match input::decode(bytes.to_vec()) {
        Ok(t) => t,
        Err(e) => {
            assert!(e.position.line >= 1 && e.position.column >= 1);
            return;
        }
    };
    let lines = text.lines().count() + 2;
    // The moment of the check only decides one warning; vary it over its extremes.
    let now = [0, 1_798_761_600, u64::MAX][bytes.len() % 3];
    match check::check(&text, now) {
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed check says why");
            for d in diags {
                assert!(
                    d.position.line >= 1 && d.position.line <= lines && d.position.column >= 1,
                    "position {:?} outside the input: {}",
                    d.position,
                    d.message
                );
                assert!(
                    d.message.len() < 2000,
                    "message too long: {}",
                    d.message.len()
                );
            }
        }
        Ok(checked) => {
            let cfg = checked.network.file();
            let brings_files = cfg.nodes.iter().any(|g| !g.node_key_files.is_empty())
                || cfg.accounts.iter().any(|a| a.keystore.is_some());
            if brings_files {
                return;
            }
            let secret = MasterSecret::from_bytes([7; 32]);
            let plan = plan::build(
                &checked.network,
                &secret,
                &BroughtKeys::default(),
                Keystores::Skip,
                &|| {},
            );
            let (mut public, mut private) = values::build(&plan);
            pair::stamp(&mut public, &mut private).expect("values serialize");
        }
    }
}

enum Outcome {
    Ok,
    Panicked,
    TooSlow,
}

/// Runs one input on a worker thread, bounded in time.
fn run_bounded(bytes: Vec<u8>) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let ok = catch_unwind(AssertUnwindSafe(|| run_one(&bytes))).is_ok();
        let _ = tx.send((ok, started.elapsed()));
    });
    match rx.recv_timeout(TIME_BOUND) {
        Ok((true, _)) => Outcome::Ok,
        Ok((false, _)) => Outcome::Panicked,
        Err(_) => Outcome::TooSlow,
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for dir in ["tests/corpus", "values", "tests/fuzz-regressions"] {
        if let Ok(entries) = fs::read_dir(repo().join(dir)) {
            files.extend(entries.flatten().map(|e| e.path()));
        }
    }
    files.sort();
    files.iter().filter_map(|p| fs::read(p).ok()).collect()
}

fn save(bytes: &[u8], why: &str) -> PathBuf {
    let dir = regressions();
    let _ = fs::create_dir_all(&dir);
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{why}-{hash:016x}.yaml"));
    let _ = fs::write(&path, bytes);
    path
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_inputs_never_panic_or_hang() {
    let secs = env_u64("KUBERNETETH_FUZZ_SECS", 3);
    let mut rng = Rng(env_u64("KUBERNETETH_FUZZ_SEED", 1));
    let corpus = seeds();
    assert!(corpus.len() >= 20, "the corpus has {} files", corpus.len());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut failures: Vec<PathBuf> = Vec::new();
    let mut count = 0u64;
    // The corpus itself first (regressions included), then mutations until the deadline.
    let mut queue: Vec<Vec<u8>> = corpus.clone();
    loop {
        let input = match queue.pop() {
            Some(i) => i,
            None if Instant::now() < deadline => {
                let mut i = corpus[rng.below(corpus.len())].clone();
                mutate(&mut rng, &corpus, &mut i);
                i
            }
            None => break,
        };
        count += 1;
        match run_bounded(input.clone()) {
            Outcome::Ok => {}
            Outcome::Panicked => failures.push(save(&input, "panic")),
            Outcome::TooSlow => failures.push(save(&input, "slow")),
        }
        if failures.len() >= 10 {
            break;
        }
    }
    println!(
        "fuzz: {count} inputs in {secs} s, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "failing inputs saved: {failures:#?}");
}

#[test]
fn alias_bombs_are_refused_fast() {
    for depth in [6, 9, 12] {
        let started = Instant::now();
        let diags = check::check(&String::from_utf8(alias_bomb(depth)).unwrap(), 0)
            .err()
            .expect("refused");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            diags[0].message.contains("alias bomb"),
            "{}",
            diags[0].message
        );
        assert!(diags[0].position.line > 1);
    }
}
