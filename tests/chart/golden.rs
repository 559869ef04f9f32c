//! Rendering: every example renders deterministically; golden files under Helm 3 and 4.

use std::collections::BTreeSet;
use std::fs;

use crate::support::{
    chart_dir, default_example, examples, kind, name, of_kind, parse_docs, pos_example, read_yaml,
    render, top, Example,
};

#[test]
fn every_example_renders_and_is_deterministic() {
    for ex in examples() {
        let a = render(&ex.files());
        let b = render(&ex.files());
        assert_eq!(a, b, "{}: two renderings differ", ex.name);
        let docs = parse_docs(&a);
        assert!(
            !of_kind(&docs, "StatefulSet").is_empty(),
            "{}: no StatefulSet",
            ex.name
        );
        let mut seen = BTreeSet::new();
        for o in &docs {
            assert!(
                seen.insert((kind(o).to_string(), name(o).to_string())),
                "{}: two {} named {}",
                ex.name,
                kind(o),
                name(o)
            );
        }
    }
}

/// Replaces the volatile parts of a rendering (the chart version) so the golden file
/// changes only when the objects do, and gives it one layout whichever Helm rendered it
/// (`canonical_documents`).
fn normalise(manifest: &str) -> String {
    canonical_documents(&manifest.replace(
        &format!("kuberneteth-{}", chart_version()),
        "kuberneteth-CHART_VERSION",
    ))
}

/// Drops the blank (empty or whitespace-only) lines that end a document: those right
/// before a `---` separator line and those at the end; the result ends with one newline.
/// Helm 3 trims each document of a rendering on both sides; Helm 4 (since v4.2) only on
/// the left, so a document from a multi-document template keeps the blank line before
/// the next `---`. Nothing else changes: blank lines inside a document (before any other
/// line) stay, and so do trailing spaces and carriage returns on every other line. A line
/// that is exactly `---` always starts a new document in YAML (inside a block scalar it
/// would be indented), so no scalar's content can end there; and the blank lines at a
/// document's end belong to no value but a keep-chomped (`|+`) block scalar's, which
/// Helm 3 already strips.
fn canonical_documents(manifest: &str) -> String {
    fn drop_blank_tail(lines: &mut Vec<&str>) {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
    }
    let mut lines: Vec<&str> = Vec::new();
    for line in manifest.split_terminator('\n') {
        if line == "---" {
            drop_blank_tail(&mut lines);
        }
        lines.push(line);
    }
    drop_blank_tail(&mut lines);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[test]
fn golden_layout_is_the_same_for_helm_3_and_helm_4() {
    // Helm 3 and Helm 4 (v4.2 and later) render of the same two-document template.
    let helm3 = "---\n# Source: a.yaml\nkind: A\n---\n# Source: b.yaml\nkind: B\n";
    let helm4 = "---\n# Source: a.yaml\nkind: A\n\n---\n# Source: b.yaml\nkind: B\n  \n\n";
    assert_eq!(canonical_documents(helm4), helm3);
    assert_eq!(canonical_documents(helm3), helm3);
    // Content stays: blank lines inside a document, trailing spaces on a line with
    // content, carriage returns, an indented `---` (inside a block scalar).
    for kept in [
        "---\nkind: A\n\ndata: x\n",
        "---\nkind: A\ndata: x  \n---\nkind: B\n",
        "---\nkind: A\r\n---\nkind: B\n",
        "---\ndata: |\n  a\n\n  ---\n  b\n",
    ] {
        assert_eq!(canonical_documents(kept), kept);
    }
    // So a blank line moved into, or out of, the middle of a document is still a difference.
    assert_ne!(
        canonical_documents("---\nkind: A\n\ndata: x\n"),
        canonical_documents("---\nkind: A\ndata: x\n")
    );
}

fn chart_version() -> String {
    let c = read_yaml(&chart_dir().join("Chart.yaml"));
    c["version"].as_str().unwrap().to_string()
}

#[test]
fn golden_rendering_of_the_default_network() {
    let ex = default_example();
    let file = if ex.compiled {
        "default.yaml"
    } else {
        "sample-fixture.yaml"
    };
    check_golden(ex, file);
}

/// A small proof-of-stake network (tests/chart/networks/pos-tiny.yaml: 2 validator
/// pods of 4 validators, 1 RPC node, minimal preset).
#[test]
fn golden_rendering_of_a_proof_of_stake_network() {
    check_golden(pos_example("network:pos-tiny"), "proof-of-stake.yaml");
}

/// Compares the rendering of `ex` with tests/chart/golden/`file` (`UPDATE_GOLDEN=1`
/// rewrites it).
fn check_golden(ex: &Example, file: &str) {
    let golden = top().join("tests/chart/golden").join(file);
    let got = normalise(&render(&ex.files()));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        fs::create_dir_all(golden.parent().unwrap()).unwrap();
        fs::write(&golden, &got).unwrap();
        return;
    }
    let want = fs::read_to_string(&golden).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `UPDATE_GOLDEN=1 cargo test --release --test chart` and review it",
            golden.display()
        )
    });
    if want != got {
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        let at = w
            .iter()
            .zip(&g)
            .position(|(a, b)| a != b)
            .unwrap_or(w.len().min(g.len()));
        panic!(
            "rendering differs from {} at line {}:\n  golden: {:?}\n  now:    {:?}\n\
             If the change is intended: UPDATE_GOLDEN=1 cargo test --release --test chart",
            golden.display(),
            at + 1,
            w.get(at),
            g.get(at)
        );
    }
}
