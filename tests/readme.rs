//! Facts the README states that the code decides: checked here so they cannot drift.

use std::fs;

use kuberneteth::config::{ResourceName, Resources, Role};
use kuberneteth::sizing::{container_resources, ethstats_resources, rollout_resources, Container};

fn readme() -> String {
    fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The "Sizing" table: each row's CPU request, memory request and memory limit.
#[test]
fn the_sizing_table_is_the_compilers_defaults() {
    let text = readme();
    let table: Vec<Vec<String>> = text
        .split("### Sizing")
        .nth(1)
        .expect("README has a Sizing section")
        .lines()
        .skip_while(|l| !l.starts_with("| container"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let none = Resources::default();
    let rows: [(&str, Resources); 8] = [
        (
            "geth (rpc groups)",
            container_resources(Role::Rpc, Container::Geth, &none),
        ),
        (
            "geth (other groups)",
            container_resources(Role::Validator, Container::Geth, &none),
        ),
        (
            "beacon node",
            container_resources(Role::Validator, Container::Beacon, &none),
        ),
        (
            "validator client",
            container_resources(Role::Validator, Container::Validator, &none),
        ),
        (
            "each init step",
            container_resources(Role::Rpc, Container::Init, &none),
        ),
        (
            "vote-signers (clique signer pods)",
            container_resources(Role::Signer, Container::VoteSigners, &none),
        ),
        ("ethstats server", ethstats_resources()),
        ("each rollout Job step", rollout_resources()),
    ];
    assert_eq!(table.len(), rows.len(), "{table:?}");
    for ((name, r), row) in rows.iter().zip(&table) {
        assert_eq!(&row[0], name);
        assert_eq!(row[1], r.requests[&ResourceName::Cpu], "{name}");
        assert_eq!(row[2], r.requests[&ResourceName::Memory], "{name}");
        let limit = &r.limits[&ResourceName::Memory];
        assert!(
            row[3] == *limit || row[3].starts_with(&format!("{limit} (")),
            "{name}: {}",
            row[3]
        );
    }
    // The same defaults for every role but geth's on rpc groups.
    for role in [Role::Signer, Role::Bootnode, Role::Full] {
        assert_eq!(
            container_resources(role, Container::Geth, &none),
            container_resources(Role::Validator, Container::Geth, &none)
        );
    }
}

#[test]
fn the_test_table_counts_the_corpus() {
    let readme = readme();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| CLI (`tests/cli.rs`) | "))
        .expect("the test table's CLI row");
    let said: usize = row["| CLI (`tests/cli.rs`) | ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("the CLI row starts with the number of broken network files");
    let corpus = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"))
        .unwrap()
        .count();
    assert_eq!(
        said, corpus,
        "README says {said} broken network files, tests/corpus holds {corpus}"
    );
}
