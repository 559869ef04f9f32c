//! Checking a network file: YAML syntax, then the JSON Schema ([`schema`]), then
//! the semantic rules no schema can express ([`rules`]). Every problem is
//! reported, not just the first. What passes comes out as a [`CheckedNetwork`]:
//! the file with every value the rules parsed, which is all the plan reads.

mod findings;
mod network;
mod proof_of_stake;
mod resources;
mod rules;
mod schema;

pub use network::{
    AccountKey, CheckedAccount, CheckedConsensus, CheckedGroup, CheckedNetwork, CheckedProofOfStake,
};

use crate::config::NetworkFile;
use crate::diagnostics::{display_path, sort, Diagnostic, Severity};
use crate::yaml::{self, Document};

/// A network file that passed every check, with the warnings it produced.
pub struct Checked {
    pub network: CheckedNetwork,
    pub warnings: Vec<Diagnostic>,
    /// The parsed file, for positioning problems found later (brought key files).
    pub doc: Document,
}

/// Whether a network must fit one Helm release ([`crate::release::RELEASE_CAPACITY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseLimit {
    /// The release is stored in a Kubernetes Secret: `compile`, which writes Helm
    /// values, and `check`, which finds every problem `compile` would.
    Enforce,
    /// No release, or one stored elsewhere: `export` and `inspect`, and
    /// `compile`/`check --no-size-limit` (e.g. Helm's SQL storage driver).
    Ignore,
}

/// What a check depends on besides the file. The command layer gives it; the
/// library reads neither the clock nor the environment, so a check is a
/// function of its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The moment of the check in Unix seconds. Only one warning uses it (a
    /// proof-of-stake genesis more than a day past); no output depends on it. The
    /// command layer reads the clock, or `KUBERNETETH_NOW` (see `main.rs`).
    pub now: u64,
    /// Whether a proof-of-stake network must fit one Helm release.
    pub release_limit: ReleaseLimit,
}

/// A moment alone is the context of `compile` without `--no-size-limit`: the
/// release limit holds.
impl From<u64> for Context {
    fn from(now: u64) -> Self {
        Self {
            now,
            release_limit: ReleaseLimit::Enforce,
        }
    }
}

/// Parses and checks `text` in `ctx` (a [`Context`], or a moment alone for the
/// context of `compile`). Errors (sorted by position) if anything is wrong.
pub fn check(text: &str, ctx: impl Into<Context>) -> Result<Checked, Vec<Diagnostic>> {
    let ctx = ctx.into();
    let mut doc = yaml::parse(text).map_err(|e| {
        vec![Diagnostic::error(
            e.position,
            display_path(&e.path),
            e.message,
        )]
    })?;
    crate::shorthand::expand(&mut doc.value);
    let mut diags = schema::diagnostics(&doc);
    if !diags.is_empty() {
        // The rules a schema error leaves checkable are still worth reporting, so one
        // run shows every problem it can: check them on the file with each refused
        // value set aside, and keep what they say outside those values.
        if let Some((config, set_aside)) = schema::set_aside_refused(&doc.value) {
            let mut found = Vec::new();
            rules::semantic(config, &doc, ctx, &mut found);
            diags.extend(found.into_iter().filter(|d| {
                !set_aside.iter().any(|p| {
                    d.path == *p
                        || d.path.starts_with(&format!("{p}."))
                        || d.path.starts_with(&format!("{p}["))
                })
            }));
        }
        sort(&mut diags);
        diags.dedup();
        return Err(diags);
    }
    let config: NetworkFile = match serde_json::from_value(doc.value.clone()) {
        Ok(c) => c,
        Err(e) => {
            // The schema and the types agree, so this is a bug; still report it usefully.
            return Err(vec![Diagnostic::error(
                doc.position(""),
                "",
                format!("cannot read the network file: {e}"),
            )]);
        }
    };
    let network = rules::semantic(config, &doc, ctx, &mut diags);
    sort(&mut diags);
    // A rule checked per group reports a shared setting (the network's geth
    // version) once per group; once is enough.
    diags.dedup();
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    let Some(network) = network else {
        // A rule accepted a value its parser refused: a bug, reported like the one above.
        return Err(vec![Diagnostic::error(
            doc.position(""),
            "",
            "cannot read the network file: a value every rule accepted did not parse",
        )]);
    };
    Ok(Checked {
        network,
        warnings: diags,
        doc,
    })
}

#[cfg(test)]
mod tests {
    use super::proof_of_stake::{days_past, MAX_VALIDATORS};
    use super::*;
    use crate::release::{RELEASE_CAPACITY, RELEASE_POD_COST};

    const GENESIS: u64 = 1_798_761_600;
    const DAY: u64 = 86_400;

    /// A valid proof-of-stake network whose genesis is `genesis`.
    fn pos_network(genesis: u64) -> String {
        format!(
            "network: {{name: stake, chainId: 4343, genesisTimestamp: {genesis}, \
             consensus: {{proofOfStake: {{preset: minimal, client: {{prysm: {{beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}}}}}}}\n\
             geth: {{version: v1.17.10}}\n\
             nodes:\n  - {{name: val, role: validator, replicas: 4, validatorsPerPod: 4}}\n"
        )
    }

    /// The genesis-age warnings of `text` checked at `now`.
    fn genesis_warnings(text: &str, now: u64) -> Vec<String> {
        let checked = check(text, now).unwrap_or_else(|d| panic!("{d:?}"));
        checked
            .warnings
            .iter()
            .filter(|w| w.path == display_path("/network/genesisTimestamp"))
            .map(|w| w.message.clone())
            .collect()
    }

    /// The one rule that depends on the moment of the check gets it as an input:
    /// fixed times on both sides of "a day past genesis", whatever the clock says.
    #[test]
    fn a_genesis_more_than_a_day_past_warns_and_one_within_a_day_does_not() {
        let text = pos_network(GENESIS);
        for now in [
            0,
            GENESIS - DAY,
            GENESIS - 1,
            GENESIS,
            GENESIS + 1,
            GENESIS + DAY,
        ] {
            assert_eq!(
                genesis_warnings(&text, now),
                Vec::<String>::new(),
                "now = {now}"
            );
        }
        for (now, days) in [
            (GENESIS + DAY + 1, "1 day ago"),
            (GENESIS + 2 * DAY - 1, "1 day ago"),
            (GENESIS + 2 * DAY, "2 days ago"),
            (GENESIS + 400 * DAY, "400 days ago"),
        ] {
            let got = genesis_warnings(&text, now);
            assert_eq!(got.len(), 1, "now = {now}: {got:?}");
            assert!(
                got[0].starts_with(&format!("genesis was {days}:")),
                "now = {now}: {}",
                got[0]
            );
        }
        // The rest of the check does not depend on `now`.
        let without = |now| {
            let mut w: Vec<String> = check(&text, now)
                .unwrap()
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect();
            w.retain(|m| !m.contains("genesis was"));
            w
        };
        assert_eq!(without(GENESIS), without(GENESIS + 400 * DAY));
    }

    #[test]
    fn the_genesis_age_never_overflows() {
        assert_eq!(days_past(u64::MAX, 0), None);
        assert_eq!(days_past(0, u64::MAX), Some(u64::MAX / DAY));
        assert_eq!(days_past(GENESIS, GENESIS + DAY), None);
        assert_eq!(days_past(GENESIS, GENESIS + DAY + 1), Some(1));
        let far = pos_network(u64::MAX);
        assert_eq!(genesis_warnings(&far, u64::MAX), Vec::<String>::new());
        assert_eq!(genesis_warnings(&far, 0), Vec::<String>::new());
        assert_eq!(genesis_warnings(&pos_network(0), u64::MAX).len(), 1);
    }

    /// A proof-of-stake network of `groups` (replicas, validators per pod).
    fn pos_groups(groups: &[(u64, u64)]) -> String {
        let mut text = String::from(
            "network: {name: stake, chainId: 4343, genesisTimestamp: 1798761600, \
             consensus: {proofOfStake: {largeObjects: release}}}\ngeth: {version: v1.17.10}\nnodes:\n",
        );
        for (j, (replicas, per_pod)) in groups.iter().enumerate() {
            text.push_str(&format!(
                "  - {{name: v{j}, role: validator, replicas: {replicas}, validatorsPerPod: {per_pod}}}\n"
            ));
        }
        text
    }

    /// The errors of `text` under `limit`, as `path: message`.
    fn errors(text: &str, limit: ReleaseLimit) -> Vec<String> {
        let ctx = Context {
            now: GENESIS,
            release_limit: limit,
        };
        match check(text, ctx) {
            Ok(_) => Vec::new(),
            Err(diags) => diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect(),
        }
    }

    /// Prysm's official images are mainnet builds: the minimal preset needs images the
    /// network names, for the beacon node and the validator client alike.
    #[test]
    fn the_minimal_preset_needs_prysm_images_built_for_it() {
        let minimal = pos_network(GENESIS);
        let official = |client: &str| {
            minimal.replace(
                &minimal[minimal.find(", client:").unwrap()..minimal.find("}}}\ngeth").unwrap()],
                client,
            )
        };
        assert_eq!(
            errors(&minimal, ReleaseLimit::Enforce),
            Vec::<String>::new()
        );
        for client in [
            "",
            ", client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain}}",
            ", client: {prysm: {validatorImage: example.com/prysm-minimal/validator}}",
        ] {
            let errs = errors(&official(client), ReleaseLimit::Enforce);
            assert_eq!(errs.len(), 1, "{client}: {errs:?}");
            assert!(
                errs[0].starts_with("network.consensus.proofOfStake.preset: `preset: minimal` needs Prysm images built for the minimal preset"),
                "{errs:?}"
            );
        }
        let mainnet = official("").replace("preset: minimal", "preset: mainnet");
        assert_eq!(
            errors(&mainnet, ReleaseLimit::Enforce),
            Vec::<String>::new()
        );
    }

    /// The release limit counts every validator group, refuses at the group that
    /// crosses it, and is lifted by `ReleaseLimit::Ignore` (export, inspect,
    /// `--no-size-limit`), under the compiler's own bound.
    #[test]
    fn the_release_limit_is_found_at_the_group_that_crosses_it() {
        let cap = RELEASE_CAPACITY;
        let cost = RELEASE_POD_COST;
        // Exactly full: one pod, pods of 96 (100 with their cost), two groups.
        let exact = [
            pos_groups(&[(1, cap - cost)]),
            pos_groups(&[(cap / 100, 100 - cost)]),
            pos_groups(&[(1, cap / 2 - cost), (1, cap / 2 - cost)]),
        ];
        assert_eq!(cap % 100, 0);
        for text in &exact {
            assert_eq!(
                errors(text, ReleaseLimit::Enforce),
                Vec::<String>::new(),
                "{text}"
            );
        }
        for (groups, path, count) in [
            (
                &[(1, cap - cost + 1)][..],
                "nodes[0].validatorsPerPod",
                "in 1 pod of",
            ),
            (
                &[(1, cap - cost), (3, 1)][..],
                "nodes[1].validatorsPerPod",
                "3 pods of 1 take the weight",
            ),
            (
                &[(1, 1), (2, cap / 2 - cost), (1, 5)][..],
                "nodes[1].validatorsPerPod",
                "2 pods of",
            ),
        ] {
            let text = pos_groups(groups);
            let total: u64 = groups.iter().map(|(r, p)| r * p).sum();
            let got = errors(&text, ReleaseLimit::Enforce);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            let e = &got[0];
            for part in [
                &format!("{path}: {total} genesis validators"),
                &format!("at most {cap}"),
                count,
                "1 MiB",
                "--no-size-limit",
                "HELM_DRIVER=sql",
            ] {
                assert!(e.contains(part), "{text}: `{part}` not in {e}");
            }
            assert_eq!(
                errors(&text, ReleaseLimit::Ignore),
                Vec::<String>::new(),
                "{text}"
            );
            // Left to `auto` (or `separate`), the network goes beside the release.
            for other in ["auto", "separate"] {
                let text = text.replace("largeObjects: release", &format!("largeObjects: {other}"));
                assert_eq!(
                    errors(&text, ReleaseLimit::Enforce),
                    Vec::<String>::new(),
                    "{text}"
                );
            }
        }
        // Past the compiler's own bound, that bound is what is reported, either way.
        let huge = pos_groups(&[(11, 100_000)]);
        const { assert!(11 * 100_000 > MAX_VALIDATORS) };
        for limit in [ReleaseLimit::Enforce, ReleaseLimit::Ignore] {
            let got = errors(&huge, limit);
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(
                got[0].contains("the compiler builds a genesis registry of at most"),
                "{got:?}"
            );
        }
    }

    /// Every pair of a group's ports clashes in turn, whether or not the two are
    /// neighbours in the order the ports are listed.
    #[test]
    fn a_port_clash_is_found_between_any_two_ports_of_a_group() {
        let names = ["p2pPort", "metricsPort", "rpc.httpPort", "rpc.wsPort"];
        let defaults = [30303, 6060, 8545, 8546];
        for a in 0..names.len() {
            for b in a + 1..names.len() {
                let mut ports = defaults;
                (ports[a], ports[b]) = (40000, 40000);
                let text = format!(
                    "network: {{name: n, chainId: 31337, consensus: {{clique: {{}}}}}}\n\
                     nodes:\n  - {{name: signer, role: signer, replicas: 3}}\n  \
                     - {{name: rpc, role: rpc, p2pPort: {}, metricsPort: {}, \
                     rpc: {{http: true, ws: true, httpPort: {}, wsPort: {}}}}}\n",
                    ports[0], ports[1], ports[2], ports[3]
                );
                let diags = match check(&text, 0) {
                    Ok(_) => panic!("{} = {} passed", names[a], names[b]),
                    Err(d) => d,
                };
                assert!(
                    diags.iter().any(|d| {
                        let m = d.to_string();
                        m.contains("port 40000 is used by both")
                            && m.contains(names[a])
                            && m.contains(names[b])
                    }),
                    "{} = {}: {diags:?}",
                    names[a],
                    names[b]
                );
            }
        }
    }
}
