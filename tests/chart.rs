//! Chart tests: render `chart/` with Helm for every example network and check the
//! Kubernetes objects it produces.
//!
//! Examples: every `values/*.yaml` and the test networks in `tests/chart/networks/`
//! (a single node; every port moved and a network id unlike the chain id; proof of
//! stake with one and with two validator groups) compiled by
//! `kuberneteth-values compile` into a scratch folder (with a fixed, test-only master
//! secret so the outputs are stable), plus the hand-made value pairs in
//! `tests/chart/fixtures/` (keystores in a ConfigMap, a bootnode, monitoring on, every
//! RPC exposure and scheduling knob).
//!
//! Helm: `$KUBERNETETH_HELM` if set, else `scripts/helm.sh` (the pinned Helm v4.3.2; Helm
//! v3.21.4 with `scripts/helm.sh 3`), built from Helm's Go modules into .cache/helm/; a
//! helm on PATH is never used. scripts/chart-test.sh runs this suite with each of the two.
//! Golden files (the default network, and the small proof-of-stake network `pos-tiny`):
//! `UPDATE_GOLDEN=1` rewrites them; both Helm versions compare equal to one golden file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};

#[path = "common/args.rs"]
mod args;
#[path = "common/beacon_state.rs"]
mod beacon_state;
use args::flag;
use beacon_state::{address_credentials, BeaconState};

const RELEASE: &str = "devnet";
const NAMESPACE: &str = "default";
/// Test-only master secret (public): makes compiled examples byte-identical across runs.
const TEST_MASTER_SECRET: &str = "6b7562657264657465746820636861727420746573747320676f6c64656e2121";

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chart_dir() -> PathBuf {
    top().join("chart")
}

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chart-tests")
}

// ---------------------------------------------------------------------------------
// Helm

fn helm() -> &'static str {
    static HELM: OnceLock<String> = OnceLock::new();
    HELM.get_or_init(|| {
        if let Ok(h) = std::env::var("KUBERNETETH_HELM") {
            if !h.is_empty() {
                return h;
            }
        }
        let out = Command::new(top().join("scripts/helm.sh"))
            .output()
            .expect("run scripts/helm.sh");
        assert!(
            out.status.success(),
            "scripts/helm.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// `helm template` with the given values files; Ok(manifest) or Err(stderr).
fn try_render(values: &[&Path]) -> Result<String, String> {
    let mut cmd = Command::new(helm());
    cmd.args(["template", RELEASE])
        .arg(chart_dir())
        .args(["--namespace", NAMESPACE]);
    for v in values {
        cmd.arg("-f").arg(v);
    }
    let out = cmd.output().expect("run helm");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn render(values: &[&Path]) -> String {
    try_render(values).unwrap_or_else(|e| panic!("helm template {values:?} failed:\n{e}"))
}

/// The rendered objects, in order.
fn parse_docs(manifest: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(manifest) {
        let v = Value::deserialize(doc).expect("rendered YAML parses");
        if !v.is_null() {
            docs.push(v);
        }
    }
    docs
}

fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or("")
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

fn of_kind<'a>(docs: &'a [Value], k: &str) -> Vec<&'a Value> {
    docs.iter().filter(|o| kind(o) == k).collect()
}

fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// Examples

#[derive(Clone, Debug)]
struct Example {
    name: String,
    values: PathBuf,
    secrets: PathBuf,
    /// Compiled from values/<name>.yaml (as opposed to a hand-made fixture).
    compiled: bool,
    /// The network file it was compiled from, and the compiler's secrets file.
    source: Option<(PathBuf, PathBuf)>,
}

impl Example {
    fn files(&self) -> [&Path; 2] {
        [&self.values, &self.secrets]
    }
    fn public(&self) -> Value {
        read_yaml(&self.values)
    }
    fn private(&self) -> Value {
        read_yaml(&self.secrets)
    }
    fn render(&self) -> Vec<Value> {
        parse_docs(&render(&self.files()))
    }
}

fn read_yaml(p: &Path) -> Value {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", p.display()))
}

fn write_json(p: &Path, v: &Value) {
    fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn compiler() -> &'static str {
    env!("CARGO_BIN_EXE_kuberneteth-values")
}

/// Whether the compiler has its `compile` command (with `--secrets`) yet.
fn compiler_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        Command::new(compiler())
            .args(["compile", "--help"])
            .output()
            .map(|o| {
                let help = String::from_utf8_lossy(&o.stdout).to_lowercase();
                o.status.success() && help.contains("usage") && help.contains("--secrets")
            })
            .unwrap_or(false)
    })
}

/// Compiles `config` (a kuberneteth.yaml) into `dir` with the test master secret.
fn compile(config: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let secrets = dir.join("k.secrets.yaml");
    fs::write(
        &secrets,
        format!("version: 1\nmasterSecret: \"{TEST_MASTER_SECRET}\"\n"),
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = Command::new(compiler())
        .arg("compile")
        .arg("-c")
        .arg(config)
        .arg("--secrets")
        .arg(&secrets)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .expect("run kuberneteth-values");
    assert!(
        out.status.success(),
        "kuberneteth-values compile -c {} failed:\n{}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let values = out_dir.join("values.yaml");
    let private = out_dir.join("secrets.values.yaml");
    assert!(values.is_file(), "compile wrote no {}", values.display());
    assert!(private.is_file(), "compile wrote no {}", private.display());
    (values, private)
}

fn examples() -> &'static [Example] {
    static EXAMPLES: OnceLock<Vec<Example>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let mut all = Vec::new();
        assert!(
            compiler_ready(),
            "{} has no `compile --secrets` command: the chart tests render compiled examples",
            compiler()
        );
        for (folder, prefix) in [("values", ""), ("tests/chart/networks", "network:")] {
            let mut configs: Vec<PathBuf> = fs::read_dir(top().join(folder))
                .unwrap_or_else(|e| panic!("{folder}/: {e}"))
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n.ends_with(".yaml") && !n.ends_with(".secrets.yaml")
                })
                .collect();
            configs.sort();
            assert!(!configs.is_empty(), "no {folder}/*.yaml networks");
            for c in configs {
                let stem = c.file_stem().unwrap().to_string_lossy().into_owned();
                let dir = scratch().join("examples").join(folder).join(&stem);
                let (values, secrets) = compile(&c, &dir);
                all.push(Example {
                    name: format!("{prefix}{stem}"),
                    values,
                    secrets,
                    compiled: true,
                    source: Some((c.clone(), dir.join("k.secrets.yaml"))),
                });
            }
        }
        let fixtures = top().join("tests/chart/fixtures");
        let mut names: Vec<String> = fs::read_dir(&fixtures)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".values.yaml").map(str::to_string))
            .collect();
        names.sort();
        for n in names {
            all.push(Example {
                values: fixtures.join(format!("{n}.values.yaml")),
                secrets: fixtures.join(format!("{n}.secrets.fixture.yaml")),
                name: format!("fixture:{n}"),
                compiled: false,
                source: None,
            });
        }
        all
    })
}

/// The proof-of-stake examples (values with `proofOfStake`); there is at least one.
fn pos_examples() -> Vec<&'static Example> {
    let pos: Vec<&Example> = examples()
        .iter()
        .filter(|e| e.public()["proofOfStake"].is_object())
        .collect();
    assert!(!pos.is_empty(), "no proof-of-stake example");
    pos
}

/// The proof-of-stake example of the given name.
fn pos_example(n: &str) -> &'static Example {
    pos_examples()
        .into_iter()
        .find(|e| e.name == n)
        .unwrap_or_else(|| panic!("no proof-of-stake example {n}"))
}

/// The default network: values/kuberneteth.yaml compiled.
fn default_example() -> &'static Example {
    examples()
        .iter()
        .find(|e| e.compiled && e.name == "kuberneteth")
        .expect("values/kuberneteth.yaml compiled")
}

// ---------------------------------------------------------------------------------
// Pods the cluster would create from the rendered workloads

struct PodModel<'a> {
    name: String,
    labels: BTreeMap<String, String>,
    spec: &'a Value,
    owner: String,
}

fn pods(docs: &[Value]) -> Vec<PodModel<'_>> {
    let mut out = Vec::new();
    for o in docs {
        match kind(o) {
            "StatefulSet" => {
                let replicas = o["spec"]["replicas"].as_i64().unwrap();
                for i in 0..replicas {
                    let pod = format!("{}-{i}", name(o));
                    let mut labels = str_map(&o["spec"]["template"]["metadata"]["labels"]);
                    labels.insert("statefulset.kubernetes.io/pod-name".into(), pod.clone());
                    labels.insert("apps.kubernetes.io/pod-index".into(), i.to_string());
                    labels.insert("controller-revision-hash".into(), "x".into());
                    out.push(PodModel {
                        name: pod,
                        labels,
                        spec: &o["spec"]["template"]["spec"],
                        owner: format!("StatefulSet/{}", name(o)),
                    });
                }
            }
            "Deployment" => out.push(PodModel {
                name: format!("{}-xxxxx", name(o)),
                labels: str_map(&o["spec"]["template"]["metadata"]["labels"]),
                spec: &o["spec"]["template"]["spec"],
                owner: format!("Deployment/{}", name(o)),
            }),
            "Pod" => out.push(PodModel {
                name: name(o).to_string(),
                labels: str_map(&o["metadata"]["labels"]),
                spec: &o["spec"],
                owner: format!("Pod/{}", name(o)),
            }),
            _ => {}
        }
    }
    out
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Every pod spec and workload template: (where, spec).
fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for o in docs {
        match kind(o) {
            "StatefulSet" | "Deployment" => out.push((
                format!("{}/{}", kind(o), name(o)),
                &o["spec"]["template"]["spec"],
            )),
            "Pod" => out.push((format!("Pod/{}", name(o)), &o["spec"])),
            _ => {}
        }
    }
    out
}

fn containers(spec: &Value) -> Vec<&Value> {
    let mut v = Vec::new();
    for key in ["initContainers", "containers"] {
        if let Some(a) = spec[key].as_array() {
            v.extend(a.iter());
        }
    }
    v
}

/// Writes an executable stand-in for the tool `name` into `bin` (created if needed).
fn install_fake(bin: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(bin).unwrap();
    let path = bin.join(name);
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The rendered object of kind `k` named `n`.
fn object<'a>(docs: &'a [Value], k: &str, n: &str) -> &'a Value {
    docs.iter()
        .find(|o| kind(o) == k && name(o) == n)
        .unwrap_or_else(|| panic!("no {k} {n} rendered"))
}

fn node_groups(public: &Value) -> &Vec<Value> {
    public["nodeGroups"].as_array().unwrap()
}

fn network_name(public: &Value) -> &str {
    public["network"]["name"].as_str().unwrap()
}

/// A group's geth TOML as its pods read it (from the rendered ConfigMap), as JSON.
fn rendered_toml(docs: &[Value], net: &str, group: &str) -> Value {
    let cm = object(docs, "ConfigMap", &format!("{net}-{group}-config"));
    let text = cm["data"]["config.toml"].as_str().unwrap();
    let parsed: toml::Value =
        toml::from_str(text).unwrap_or_else(|e| panic!("{net}-{group} TOML: {e}\n{text}"));
    serde_json::to_value(parsed).unwrap()
}

/// `repository:tag` of an image block of the values.
fn image_of(image: &Value) -> String {
    format!(
        "{}:{}",
        image["repository"].as_str().unwrap(),
        image["tag"].as_str().unwrap()
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The geth container of a group's StatefulSet.
fn geth_container<'a>(docs: &'a [Value], net: &str, group: &str) -> &'a Value {
    &object(docs, "StatefulSet", &format!("{net}-{group}"))["spec"]["template"]["spec"]
        ["containers"][0]
}

/// A container's ports by name: (port, protocol).
fn container_ports(c: &Value) -> BTreeMap<String, (i64, String)> {
    c["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                (
                    p["containerPort"].as_i64().unwrap(),
                    p["protocol"].as_str().unwrap_or("TCP").to_string(),
                ),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Tests

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

#[test]
fn per_node_services_select_exactly_their_pod() {
    for ex in examples() {
        let docs = ex.render();
        let pods = pods(&docs);
        let public = ex.public();
        let services = of_kind(&docs, "Service");
        let mut node_services = 0;
        for g in public["nodeGroups"].as_array().unwrap() {
            if !g["nodeServices"].as_bool().unwrap() {
                continue;
            }
            for n in g["nodes"].as_array().unwrap() {
                let node = n["name"].as_str().unwrap();
                let svc = services
                    .iter()
                    .find(|s| name(s) == node)
                    .unwrap_or_else(|| panic!("{}: no Service named {node}", ex.name));
                node_services += 1;
                assert_eq!(svc["spec"]["type"], "ClusterIP", "{}: {node}", ex.name);
                assert_eq!(
                    svc["spec"]["publishNotReadyAddresses"], true,
                    "{}: Service {node} must publish not-ready addresses",
                    ex.name
                );
                let sel = str_map(&svc["spec"]["selector"]);
                let matched: Vec<&str> = pods
                    .iter()
                    .filter(|p| selects(&sel, &p.labels))
                    .map(|p| p.name.as_str())
                    .collect();
                assert_eq!(
                    matched,
                    vec![node],
                    "{}: Service {node} must select exactly pod {node}",
                    ex.name
                );
                let enode = n["enode"].as_str().unwrap();
                let port = svc["spec"]["ports"][0]["port"].as_i64().unwrap();
                assert!(
                    enode.ends_with(&format!("@{node}:{port}")),
                    "{}: enode {enode} does not name Service {node}:{port}",
                    ex.name
                );
            }
        }
        // Every other Service selects pods of exactly one workload, and at least one pod.
        for s in &services {
            let sel = str_map(&s["spec"]["selector"]);
            let owners: BTreeSet<&str> = pods
                .iter()
                .filter(|p| selects(&sel, &p.labels))
                .map(|p| p.owner.as_str())
                .collect();
            assert_eq!(
                owners.len(),
                1,
                "{}: Service {} selects pods of {:?}",
                ex.name,
                name(s),
                owners
            );
            assert!(
                !sel.contains_key("app.kubernetes.io/version"),
                "{}: Service {} selects on the version label",
                ex.name,
                name(s)
            );
            // Target ports are named ports of the selected pods' containers.
            let pod = pods.iter().find(|p| selects(&sel, &p.labels)).unwrap();
            let port_names: BTreeSet<&str> = containers(pod.spec)
                .iter()
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .filter_map(|p| p["name"].as_str())
                .collect();
            for p in s["spec"]["ports"].as_array().unwrap() {
                let t = p["targetPort"].as_str().unwrap();
                assert!(
                    port_names.contains(t),
                    "{}: Service {} targets port {t} that its pods lack",
                    ex.name,
                    name(s)
                );
            }
        }
        let expected: usize = public["nodeGroups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["nodeServices"].as_bool().unwrap())
            .map(|g| g["nodes"].as_array().unwrap().len())
            .sum();
        assert_eq!(node_services, expected);
    }
}

#[test]
fn workload_selectors_are_stable_and_match_their_pods() {
    for ex in examples() {
        let docs = ex.render();
        for o in docs
            .iter()
            .filter(|o| matches!(kind(o), "StatefulSet" | "Deployment"))
        {
            let sel = str_map(&o["spec"]["selector"]["matchLabels"]);
            let labels = str_map(&o["spec"]["template"]["metadata"]["labels"]);
            assert!(selects(&sel, &labels), "{}: {} selector", ex.name, name(o));
            assert!(
                !sel.contains_key("app.kubernetes.io/version"),
                "{}: {} selector has the version label (immutable!)",
                ex.name,
                name(o)
            );
            if kind(o) == "StatefulSet" {
                let vct = &o["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"];
                assert!(
                    vct.get("app.kubernetes.io/version").is_none(),
                    "{}: {} volumeClaimTemplates carry the version label (immutable!)",
                    ex.name,
                    name(o)
                );
                assert_eq!(o["spec"]["podManagementPolicy"], "Parallel");
                assert_eq!(o["spec"]["updateStrategy"]["type"], "RollingUpdate");
            }
        }
        for pdb in of_kind(&docs, "PodDisruptionBudget") {
            let sel = str_map(&pdb["spec"]["selector"]["matchLabels"]);
            assert!(!sel.contains_key("app.kubernetes.io/version"));
        }
    }
}

/// The partition a coordinated group's StatefulSet holds between rollouts.
const ROLLOUT_HOLD: i64 = 2_147_483_647;

#[test]
fn rollout_job_replaces_one_coordinated_pod_at_a_time() {
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = public["network"]["name"].as_str().unwrap();
        let groups: Vec<&Value> = public["nodeGroups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["updateStrategy"]["coordinated"] == true)
            .collect();
        // Signers, validators and bootnodes are coordinated; rpc and full nodes roll
        // on their own.
        for g in public["nodeGroups"].as_array().unwrap() {
            let stable = matches!(
                g["role"].as_str().unwrap(),
                "signer" | "validator" | "bootnode"
            );
            assert_eq!(
                g["updateStrategy"]["coordinated"] == true,
                stable,
                "{}",
                ex.name
            );
        }
        let job = docs
            .iter()
            .find(|o| kind(o) == "Job" && name(o) == format!("{net}-rollout"))
            .unwrap_or_else(|| panic!("{}: no rollout Job", ex.name));
        assert_eq!(
            job["metadata"]["annotations"]["helm.sh/hook"],
            "post-upgrade,post-rollback"
        );
        let spec = &job["spec"]["template"]["spec"];
        assert_eq!(spec["serviceAccountName"], format!("{net}-rollout"));
        let steps: Vec<Vec<String>> = containers(spec)
            .into_iter()
            .map(|c| {
                assert_eq!(c["command"], json!(["/bin/kubectl"]), "{}", ex.name);
                c["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .collect();
        let ns = format!("--namespace={NAMESPACE}");
        let patch = |sts: &str, partition: i64| {
            vec![
                "patch".to_string(),
                "statefulset".into(),
                sts.into(),
                ns.clone(),
                "--type=merge".into(),
                format!(
                    r#"--patch={{"spec":{{"updateStrategy":{{"rollingUpdate":{{"partition":{partition}}}}}}}}}"#
                ),
            ]
        };
        let timeout = format!("--timeout={}s", public["rollout"]["podReadySeconds"]);
        let status = |sts: &str| {
            vec![
                "rollout".to_string(),
                "status".into(),
                "statefulset".into(),
                sts.into(),
                ns.clone(),
                timeout.clone(),
            ]
        };
        let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
        let all_ready = vec![
            "wait".to_string(),
            "pod".into(),
            "--for=condition=Ready".into(),
            format!(
                "--selector=app.kubernetes.io/instance={RELEASE},kuberneteth.io/group in ({})",
                names.join(",")
            ),
            ns.clone(),
            timeout.clone(),
        ];
        // Every coordinated group Ready; then pod by pod, group by group, highest
        // ordinal first down to the partition: all Ready, replace, replaced and the
        // group Ready; then every StatefulSet holds again.
        let sts = |g: &Value| format!("{net}-{}", g["name"].as_str().unwrap());
        let mut want: Vec<Vec<String>> = groups.iter().map(|g| status(&sts(g))).collect();
        for g in &groups {
            let (replicas, partition) = (
                g["replicas"].as_i64().unwrap(),
                g["updateStrategy"]["partition"].as_i64().unwrap(),
            );
            for ordinal in (partition..replicas).rev() {
                want.push(all_ready.clone());
                want.push(patch(&sts(g), ordinal));
                want.push(status(&sts(g)));
            }
        }
        want.extend(groups.iter().map(|g| patch(&sts(g), ROLLOUT_HOLD)));
        assert_eq!(steps, want, "{}: rollout steps", ex.name);
        // Least privilege: the coordinated StatefulSets by name (read, patch), pods (read).
        let role = docs
            .iter()
            .find(|o| kind(o) == "Role" && name(o) == format!("{net}-rollout"))
            .unwrap_or_else(|| panic!("{}: no rollout Role", ex.name));
        let rules = role["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2, "{}", ex.name);
        let sts_names: Vec<String> = groups.iter().map(|g| sts(g)).collect();
        assert_eq!(rules[0]["resources"], json!(["statefulsets"]));
        assert_eq!(rules[0]["resourceNames"], json!(sts_names));
        assert_eq!(rules[0]["verbs"], json!(["get", "list", "watch", "patch"]));
        assert_eq!(rules[1]["resources"], json!(["pods"]));
        assert_eq!(rules[1]["verbs"], json!(["get", "list", "watch"]));
        let binding = docs
            .iter()
            .find(|o| kind(o) == "RoleBinding" && name(o) == format!("{net}-rollout"))
            .unwrap();
        assert_eq!(binding["subjects"][0]["name"], format!("{net}-rollout"));
    }
}

#[test]
fn statefulsets_follow_the_values() {
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = public["network"]["name"].as_str().unwrap();
        for g in public["nodeGroups"].as_array().unwrap() {
            let gname = g["name"].as_str().unwrap();
            let sts = docs
                .iter()
                .find(|o| kind(o) == "StatefulSet" && name(o) == format!("{net}-{gname}"))
                .unwrap_or_else(|| panic!("{}: no StatefulSet {net}-{gname}", ex.name));
            assert_eq!(sts["spec"]["replicas"], g["replicas"]);
            // A coordinated group's StatefulSet holds every pod; the rollout Job walks
            // it down to the group's partition (rollout_job_replaces_one_coordinated_pod_at_a_time).
            let held = if g["updateStrategy"]["coordinated"] == true {
                json!(ROLLOUT_HOLD)
            } else {
                g["updateStrategy"]["partition"].clone()
            };
            assert_eq!(
                sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
                held
            );
            let spec = &sts["spec"]["template"]["spec"];
            let geth = &spec["containers"][0];
            assert_eq!(geth["args"], g["args"], "{}: geth args", ex.name);
            let image = format!(
                "{}:{}",
                g["image"]["repository"].as_str().unwrap(),
                g["image"]["tag"].as_str().unwrap()
            );
            // geth's image runs every container but the Prysm ones (proof of stake),
            // which run the compiled Prysm images with the compiled flags.
            let pos = &public["proofOfStake"];
            for c in containers(spec) {
                let (want_image, want_args) = match c["name"].as_str().unwrap() {
                    "beacon" => (image_of(&pos["beaconImage"]), Some(&g["beaconArgs"])),
                    "validator" => (image_of(&pos["validatorImage"]), Some(&g["validatorArgs"])),
                    _ => (image.clone(), None),
                };
                assert_eq!(c["image"], json!(want_image), "{}: {}", ex.name, c["name"]);
                if let Some(args) = want_args {
                    assert_eq!(&c["args"], args, "{}: {gname} {} args", ex.name, c["name"]);
                    assert!(
                        c.get("command").is_none(),
                        "{}: the image's entrypoint runs",
                        ex.name
                    );
                }
            }
            let names: Vec<&str> = spec["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            let want: &[&str] = match (pos.is_object(), g["role"].as_str().unwrap()) {
                (false, _) => &["geth"],
                (true, "validator") => &["geth", "beacon", "validator"],
                (true, _) => &["geth", "beacon"],
            };
            assert_eq!(names, want, "{}: containers of {gname}", ex.name);
            let wrapper = geth["command"][2].as_str().unwrap();
            assert_eq!(
                wrapper.contains("--unlock="),
                g["unlockSigner"].as_bool().unwrap(),
                "{}: --unlock only when unlockSigner",
                ex.name
            );
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            assert_eq!(
                labels["app.kubernetes.io/version"],
                g["gethVersion"].as_str().unwrap()
            );
            assert_eq!(
                labels["app.kubernetes.io/component"],
                g["role"].as_str().unwrap()
            );
            assert_eq!(labels["kuberneteth.io/group"], gname);
            assert_eq!(labels["app.kubernetes.io/part-of"], net);
            assert_eq!(labels["app.kubernetes.io/instance"], RELEASE);
            // Storage.
            let pvc = &sts["spec"]["volumeClaimTemplates"][0]["spec"];
            assert_eq!(
                pvc["resources"]["requests"]["storage"],
                g["storage"]["size"]
            );
            let class = g["storage"]["storageClass"].as_str().unwrap();
            if class.is_empty() {
                assert!(pvc.get("storageClassName").is_none());
            } else {
                assert_eq!(pvc["storageClassName"], class);
            }
            // Every ConfigMap and Secret the pods mount is rendered.
            for v in spec["volumes"].as_array().unwrap() {
                for (key, k, field) in [
                    ("configMap", "ConfigMap", "name"),
                    ("secret", "Secret", "secretName"),
                ] {
                    if let Some(n) = v[key][field].as_str() {
                        assert!(
                            docs.iter().any(|o| kind(o) == k && name(o) == n),
                            "{}: {k} {n} mounted but not rendered",
                            ex.name
                        );
                    }
                }
            }
            // Peer hosts resolved by the init step.
            let prepare = spec["initContainers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "prepare")
                .unwrap();
            let env = prepare["env"].as_array().unwrap();
            let hosts = env.iter().find(|e| e["name"] == "PEER_HOSTS").unwrap();
            let want: Vec<&str> = g["peerHosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect();
            assert_eq!(hosts["value"], json!(want.join(" ")));
        }
    }
}

/// Private strings of an example: (what, text).
fn private_strings(private: &Value) -> Vec<(String, String, bool)> {
    let s = &private["secrets"];
    let mut out = Vec::new();
    for (node, key) in s["nodeKeys"].as_object().unwrap() {
        out.push((
            format!("node key of {node}"),
            key.as_str().unwrap().to_string(),
            false,
        ));
    }
    for (node, ks) in s["signerKeystores"].as_object().unwrap() {
        let text = ks["json"].as_str().unwrap();
        out.push((format!("keystore of {node}"), text.to_string(), true));
        let parsed: Value = serde_json::from_str(text).unwrap();
        for f in ["ciphertext", "mac"] {
            let c = parsed["crypto"][f].as_str().unwrap().to_string();
            out.push((format!("keystore {f} of {node}"), c, true));
        }
    }
    for k in ["keystorePassword", "ethstatsSecret"] {
        out.push((k.to_string(), s[k].as_str().unwrap().to_string(), false));
    }
    // Proof of stake: beacon P2P keys, engine-API JWTs, validator wallets (never in a
    // ConfigMap, whatever keystore.secret says).
    for (node, b) in s["beacon"].as_object().into_iter().flatten() {
        for k in ["nodeKey", "jwtSecret"] {
            let v = b[k].as_str().unwrap().to_string();
            out.push((format!("beacon {k} of {node}"), v, false));
        }
    }
    for (node, w) in s["validatorWallets"].as_object().into_iter().flatten() {
        let password = w["password"].as_str().unwrap().to_string();
        out.push((format!("wallet password of {node}"), password, false));
        for (path, text) in w["files"].as_object().unwrap() {
            let text = text.as_str().unwrap();
            out.push((
                format!("wallet file {path} of {node}"),
                text.to_string(),
                false,
            ));
            let parsed: Value = serde_json::from_str(text).unwrap();
            if let Some(c) = parsed["crypto"]["cipher"]["message"].as_str() {
                out.push((format!("wallet ciphertext of {node}"), c.to_string(), false));
            }
        }
    }
    out
}

#[test]
fn no_private_key_material_outside_secrets() {
    for ex in examples() {
        let docs = ex.render();
        let keystore_secret = ex.public()["keystore"]["secret"].as_bool().unwrap();
        let private = private_strings(&ex.private());
        assert!(!private.is_empty());
        let mut keystores_in_configmaps = 0;
        for o in &docs {
            if kind(o) == "Secret" {
                continue;
            }
            let text = serde_json::to_string(o).unwrap();
            // Keystores may sit in the <net>-<group>-keystores ConfigMaps when asked for.
            let keystore_cm =
                !keystore_secret && kind(o) == "ConfigMap" && name(o).ends_with("-keystores");
            for (what, secret, is_keystore) in &private {
                if secret.len() < 8 {
                    continue;
                }
                let found =
                    text.contains(secret.as_str()) || text.contains(&base64(secret.as_bytes()));
                if found && *is_keystore && keystore_cm {
                    keystores_in_configmaps += 1;
                    continue;
                }
                assert!(
                    !found,
                    "{}: {what} appears in {} {}",
                    ex.name,
                    kind(o),
                    name(o)
                );
            }
        }
        if !keystore_secret {
            assert!(
                keystores_in_configmaps > 0,
                "{}: keystores not in ConfigMaps",
                ex.name
            );
        }
        // And the Secrets hold every private value whole: node keys, keystores (unless
        // asked into ConfigMaps), the keystore password, the ethstats secret.
        let values_of = |k: &str| -> BTreeSet<Vec<u8>> {
            of_kind(&docs, k)
                .iter()
                .flat_map(|o| o["data"].as_object().into_iter().flatten())
                .map(|(_, v)| {
                    let v = v.as_str().unwrap();
                    if k == "Secret" {
                        base64_decode(v)
                    } else {
                        v.as_bytes().to_vec()
                    }
                })
                .collect()
        };
        let (in_secrets, in_configmaps) = (values_of("Secret"), values_of("ConfigMap"));
        let private_values = ex.private();
        let s = &private_values["secrets"];
        let mut whole: Vec<(String, &str, bool)> = Vec::new();
        for (node, key) in s["nodeKeys"].as_object().unwrap() {
            whole.push((format!("node key of {node}"), key.as_str().unwrap(), true));
        }
        for (node, ks) in s["signerKeystores"].as_object().unwrap() {
            let json = ks["json"].as_str().unwrap();
            whole.push((format!("keystore of {node}"), json, keystore_secret));
        }
        if !s["signerKeystores"].as_object().unwrap().is_empty() {
            whole.push((
                "keystorePassword".into(),
                s["keystorePassword"].as_str().unwrap(),
                true,
            ));
        }
        whole.push((
            "ethstatsSecret".into(),
            s["ethstatsSecret"].as_str().unwrap(),
            true,
        ));
        for (node, b) in s["beacon"].as_object().into_iter().flatten() {
            for k in ["nodeKey", "jwtSecret"] {
                whole.push((
                    format!("beacon {k} of {node}"),
                    b[k].as_str().unwrap(),
                    true,
                ));
            }
        }
        for (node, w) in s["validatorWallets"].as_object().into_iter().flatten() {
            let password = w["password"].as_str().unwrap();
            whole.push((format!("wallet password of {node}"), password, true));
            for (path, text) in w["files"].as_object().unwrap() {
                whole.push((
                    format!("wallet file {path} of {node}"),
                    text.as_str().unwrap(),
                    true,
                ));
            }
        }
        for (what, text, secret) in whole {
            let holders = if secret { &in_secrets } else { &in_configmaps };
            assert!(
                holders.contains(text.as_bytes()),
                "{}: no {} holds the {what}",
                ex.name,
                if secret { "Secret" } else { "ConfigMap" }
            );
        }
    }
}

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_decode(text: &str) -> Vec<u8> {
    let sextets: Vec<u32> = text
        .bytes()
        .take_while(|&b| b != b'=')
        .map(|b| BASE64.iter().position(|&t| t == b).expect("base64") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, s)| n | s << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn base64(data: &[u8]) -> String {
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[test]
fn every_pod_is_hardened() {
    for ex in examples() {
        let docs = ex.render();
        let specs = pod_specs(&docs);
        assert!(!specs.is_empty());
        for (at, spec) in specs {
            let ctx = format!("{}: {at}", ex.name);
            assert_eq!(spec["automountServiceAccountToken"], false, "{ctx}");
            let psc = &spec["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{ctx}");
            assert!(psc["runAsUser"].as_i64().unwrap() > 0, "{ctx}");
            assert_eq!(psc["fsGroup"], 10001, "{ctx}");
            assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{ctx}");
            for forbidden in ["hostNetwork", "hostPID", "hostIPC"] {
                assert!(spec.get(forbidden).is_none(), "{ctx}: {forbidden}");
            }
            for v in spec["volumes"].as_array().into_iter().flatten() {
                assert!(v.get("hostPath").is_none(), "{ctx}: hostPath volume");
            }
            for c in containers(spec) {
                let ctx = format!("{ctx} container {}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["runAsNonRoot"], true, "{ctx}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{ctx}");
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{ctx}");
                assert_ne!(sc["privileged"], true, "{ctx}");
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{ctx}");
                let drop = sc["capabilities"]["drop"].as_array().unwrap();
                assert!(drop.contains(&json!("ALL")), "{ctx}: drop ALL");
                assert!(
                    sc["capabilities"].get("add").is_none(),
                    "{ctx}: adds capabilities"
                );
                let image = c["image"].as_str().unwrap();
                assert!(image.contains(':'), "{ctx}: image {image} has no tag");
            }
        }
    }
}

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

#[test]
fn pdbs_keep_a_clique_majority_and_never_block_a_drain_they_could_allow() {
    // Replica counts of non-signer groups seen: 1, 2 and 3 or more must all be pinned.
    let mut sizes = BTreeSet::new();
    for ex in examples() {
        let docs = ex.render();
        let pods = pods(&docs);
        let pdbs = of_kind(&docs, "PodDisruptionBudget");
        let (mut signers, mut disruptable, mut signer_groups) = (0i64, 0i64, Vec::new());
        let mut validator_groups = Vec::new();
        let stake = stake_per_pod(&ex.public());
        for sts in of_kind(&docs, "StatefulSet") {
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            let replicas = sts["spec"]["replicas"].as_i64().unwrap();
            let covering: Vec<&&Value> = pdbs
                .iter()
                .filter(|p| selects(&str_map(&p["spec"]["selector"]["matchLabels"]), &labels))
                .collect();
            assert!(covering.len() <= 1, "{}: overlapping PDBs", ex.name);
            if let Some(pdb) = covering.first() {
                // The PDB selects only this StatefulSet's pods.
                let sel = str_map(&pdb["spec"]["selector"]["matchLabels"]);
                for p in pods.iter().filter(|p| selects(&sel, &p.labels)) {
                    assert_eq!(p.owner, format!("StatefulSet/{}", name(sts)));
                }
                let min = pdb["spec"]["minAvailable"].as_i64().unwrap();
                // A PDB keeps at least one pod (one that keeps none is left out).
                assert!(
                    (1..=replicas).contains(&min),
                    "{}: PDB {} keeps {min} of {replicas}",
                    ex.name,
                    name(pdb)
                );
            }
            // How many pods of this group a drain may evict at once (all without a PDB).
            let allowed = replicas
                - covering
                    .first()
                    .map_or(0, |p| p["spec"]["minAvailable"].as_i64().unwrap());
            if labels["app.kubernetes.io/component"] == "validator" {
                // Proof of stake: a validator group has a PDB, even of one pod,
                // unless the rest of the stake lets the whole group go.
                validator_groups.push(ValidatorGroupPdb {
                    name: name(sts).to_string(),
                    replicas,
                    allowed,
                    stake: stake[name(sts)],
                });
            } else if labels["app.kubernetes.io/component"] == "signer" {
                signers += replicas;
                disruptable += allowed;
                signer_groups.push((name(sts), allowed));
            } else {
                // Any other group: one pod at a time, so a drain neither waits forever
                // (minAvailable = replicas) nor empties the group. A single pod gets no
                // PDB: keeping it would block every drain.
                sizes.insert(replicas.min(3));
                let what = if replicas == 1 {
                    "no PDB"
                } else {
                    "minAvailable = replicas - 1"
                };
                assert_eq!(
                    allowed,
                    1,
                    "{}: {} has {replicas} replicas: {what}",
                    ex.name,
                    name(sts)
                );
                assert_eq!(covering.is_empty(), replicas == 1, "{}: {what}", ex.name);
            }
        }
        // Clique seals while a majority of all signers is up: the PDBs together may
        // never let more than (signers - majority) signers go at once.
        let spare = signers - (signers / 2 + 1);
        if signers > 1 {
            assert!(
                disruptable <= spare,
                "{}: the PDBs let {disruptable} of {signers} signers go at once; a clique majority is {}",
                ex.name,
                signers - spare
            );
        }
        if !validator_groups.is_empty() {
            check_validator_pdbs(&ex.name, &validator_groups);
        }
        // When the clique can spare a signer, a drain may take one.
        if spare > 0 {
            for (sts, allowed) in signer_groups {
                assert!(
                    allowed >= 1,
                    "{}: the PDB of {sts} blocks every drain",
                    ex.name
                );
            }
        }
    }
    assert_eq!(
        sizes,
        BTreeSet::from([1, 2, 3]),
        "the examples must have non-signer groups of 1, 2 and 3+ replicas"
    );
}

/// A validator group as its PDB sees it: pods, how many a drain may evict at once,
/// and the stake (genesis validators) of each pod.
#[derive(Debug)]
struct ValidatorGroupPdb {
    name: String,
    replicas: i64,
    allowed: i64,
    stake: i64,
}

/// Validators per pod of each validator group (by StatefulSet name), from the
/// compiled nodes' beacon identities (every pod of a group holds as many).
fn stake_per_pod(public: &Value) -> BTreeMap<String, i64> {
    let net = network_name(public);
    node_groups(public)
        .iter()
        .filter(|g| g["role"] == "validator")
        .map(|g| {
            let counts: BTreeSet<i64> = g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["beacon"]["validators"].as_i64().unwrap())
                .collect();
            assert_eq!(counts.len(), 1, "pods of {} hold unlike stakes", g["name"]);
            let group = g["name"].as_str().unwrap();
            (format!("{net}-{group}"), *counts.first().unwrap())
        })
        .collect()
}

/// Finality needs two thirds of the stake attesting. A drain may evict the allowed
/// pods of every validator group together: what stays must hold more than two
/// thirds, and the PDBs may not hold back a pod the stake could spare (one more pod
/// of any group not already allowed whole would leave two thirds or less).
fn check_validator_pdbs(ctx: &str, groups: &[ValidatorGroupPdb]) {
    let total: i64 = groups.iter().map(|g| g.replicas * g.stake).sum();
    let gone: i64 = groups.iter().map(|g| g.allowed * g.stake).sum();
    assert!(total > 0, "{ctx}: no stake");
    assert!(
        3 * (total - gone) > 2 * total,
        "{ctx}: the PDBs let {gone} of {total} validators go at once: {groups:?}"
    );
    for g in groups.iter().filter(|g| g.allowed < g.replicas) {
        assert!(
            3 * (total - gone - g.stake) <= 2 * total,
            "{ctx}: the PDB of {} holds back a pod the stake could spare: {groups:?}",
            g.name
        );
    }
}

/// Pod template annotations by StatefulSet name.
fn checksums(docs: &[Value]) -> BTreeMap<String, (String, String)> {
    of_kind(docs, "StatefulSet")
        .into_iter()
        .map(|s| {
            let a = &s["spec"]["template"]["metadata"]["annotations"];
            (
                name(s).to_string(),
                (
                    a["checksum/config"].as_str().unwrap().to_string(),
                    a["checksum/secret"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn render_modified(ex: &Example, tag: &str, f: impl FnOnce(&mut Value, &mut Value)) -> Vec<Value> {
    let dir = scratch().join("modified").join(tag);
    fs::create_dir_all(&dir).unwrap();
    let mut public = ex.public();
    let mut private = ex.private();
    f(&mut public, &mut private);
    let (v, s) = (dir.join("values.json"), dir.join("secrets.json"));
    write_json(&v, &public);
    write_json(&s, &private);
    parse_docs(&render(&[&v, &s]))
}

#[test]
fn checksums_change_with_what_the_pods_read_and_nothing_else() {
    let ex = default_example();
    let base = checksums(&ex.render());
    let public = ex.public();
    let net = public["network"]["name"].as_str().unwrap().to_string();
    let groups: Vec<String> = public["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| format!("{net}-{}", g["name"].as_str().unwrap()))
        .collect();
    assert!(
        groups.len() >= 2,
        "default network needs two groups for this test"
    );

    // Same values, again: nothing changes.
    assert_eq!(checksums(&render_modified(ex, "same", |_, _| {})), base);

    // A group's geth config: only that group's checksum/config.
    let after = checksums(&render_modified(ex, "config", |p, _| {
        let c = p["nodeGroups"][0]["config"].as_str().unwrap().to_string();
        p["nodeGroups"][0]["config"] = json!(format!("{c}# changed\n"));
    }));
    for g in &groups {
        let changed = g == &groups[0];
        assert_eq!(after[g].0 != base[g].0, changed, "checksum/config of {g}");
        assert_eq!(after[g].1, base[g].1, "checksum/secret of {g}");
    }

    // A node key of the first group: only that group's checksum/secret.
    let first_node = public["nodeGroups"][0]["nodes"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let after = checksums(&render_modified(ex, "nodekey", |_, s| {
        s["secrets"]["nodeKeys"][&first_node] = json!("11".repeat(32));
    }));
    for g in &groups {
        let changed = g == &groups[0];
        assert_eq!(after[g].1 != base[g].1, changed, "checksum/secret of {g}");
        assert_eq!(after[g].0, base[g].0, "checksum/config of {g}");
    }

    // The genesis: every group's checksum/config.
    let after = checksums(&render_modified(ex, "genesis", |p, _| {
        let g = p["genesis"]["json"].as_str().unwrap().to_string();
        p["genesis"]["json"] = json!(format!("{g}\n"));
    }));
    for g in &groups {
        assert_ne!(
            after[g].0, base[g].0,
            "checksum/config of {g} after a genesis change"
        );
    }

    // The ethstats secret: every group's checksum/secret.
    let after = checksums(&render_modified(ex, "ethstats", |_, s| {
        s["secrets"]["ethstatsSecret"] = json!("another-ethstats-secret");
    }));
    for g in &groups {
        assert_ne!(
            after[g].1, base[g].1,
            "checksum/secret of {g} after an ethstats change"
        );
    }

    // Scaling knobs that the pods do not read leave the checksums alone.
    let after = checksums(&render_modified(ex, "knobs", |p, _| {
        p["nodeGroups"][0]["updateStrategy"]["partition"] = json!(1);
        p["nodeGroups"][0]["storage"]["size"] = json!("20Gi");
        p["metrics"]["serviceMonitor"]["enabled"] = json!(true);
    }));
    assert_eq!(after, base);
}

/// Leaf differences between two objects: (path, before, after).
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, String, String)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(
                    &format!("{path}/{k}"),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), p, q, out);
            }
        }
        _ if a != b => out.push((path.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}

#[test]
fn a_geth_version_bump_changes_only_image_tags_and_version_labels() {
    let ex = default_example();
    let (old, new) = if ex.compiled {
        let text = fs::read_to_string(top().join("values/kuberneteth.yaml")).unwrap();
        let version = ex.public()["nodeGroups"][0]["gethVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let other = if version == "v1.13.14" {
            "v1.13.15"
        } else {
            "v1.13.14"
        };
        assert!(
            text.contains(&version),
            "values/kuberneteth.yaml names {version}"
        );
        let dir = scratch().join("version-bump");
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, text.replace(&version, other)).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        (ex.render(), parse_docs(&render(&[&v, &s])))
    } else {
        let new = render_modified(ex, "version", |p, _| {
            for g in p["nodeGroups"].as_array_mut().unwrap() {
                g["gethVersion"] = json!("v1.13.14");
                g["image"]["tag"] = json!("v1.13.14");
            }
        });
        (ex.render(), new)
    };
    assert_eq!(
        old.len(),
        new.len(),
        "the version bump changed the set of objects"
    );
    let mut changes = Vec::new();
    for (a, b) in old.iter().zip(&new) {
        assert_eq!((kind(a), name(a)), (kind(b), name(b)));
        diff(&format!("{}/{}", kind(a), name(a)), a, b, &mut changes);
    }
    assert!(!changes.is_empty(), "the version bump changed nothing");
    for (path, before, after) in &changes {
        let ok = path.ends_with("/image") || path.ends_with("/labels/app.kubernetes.io/version");
        assert!(ok, "a version bump changed {path}: {before} -> {after}");
        if path.ends_with("/image") {
            assert!(before.contains("client-go"), "{path}");
        }
    }
    // Workloads whose pods roll: exactly the geth StatefulSets (and the test pod).
    let rolled: BTreeSet<&str> = changes
        .iter()
        .filter(|(p, _, _)| p.ends_with("/image"))
        .map(|(p, _, _)| p.split('/').next().unwrap())
        .collect();
    assert!(rolled.contains("StatefulSet"));
    assert!(
        !rolled.contains("Deployment"),
        "the ethstats Deployment must not roll"
    );
}

#[test]
fn the_schema_refuses_malformed_values() {
    let schema = chart_dir().join("values.schema.json");
    assert!(
        schema.is_file(),
        "chart/values.schema.json is missing: generate it with `make schema` \
         (kuberneteth-values schema --chart); without it Helm cannot refuse malformed values"
    );
    let ex = default_example();
    type Breaker = fn(&mut Value);
    let cases: Vec<(&str, Breaker)> = vec![
        ("replicas is a string", |p| {
            p["nodeGroups"][0]["replicas"] = json!("three")
        }),
        ("unknown role", |p| {
            p["nodeGroups"][0]["role"] = json!("miner")
        }),
        ("chainId is a string", |p| {
            p["network"]["chainId"] = json!("4242x")
        }),
        ("unknown service type", |p| {
            p["nodeGroups"][0]["rpc"]["service"]["type"] = json!("Public")
        }),
        ("unknown top-level key", |p| p["bogus"] = json!(1)),
        ("network name is not a DNS label", |p| {
            p["network"]["name"] = json!("Not_A_Label")
        }),
        ("nodeGroups is not a list", |p| p["nodeGroups"] = json!({})),
        ("keystore.secret is a string", |p| {
            p["keystore"]["secret"] = json!("yes")
        }),
    ];
    let dir = scratch().join("schema");
    fs::create_dir_all(&dir).unwrap();
    for (i, (what, breaker)) in cases.into_iter().enumerate() {
        let mut public = ex.public();
        breaker(&mut public);
        let v = dir.join(format!("case{i}.json"));
        write_json(&v, &public);
        match try_render(&[&v, &ex.secrets]) {
            Ok(_) => panic!("helm accepted values where {what}"),
            Err(e) => assert!(
                e.to_lowercase().contains("schema"),
                "{what}: helm failed, but not on the schema:\n{e}"
            ),
        }
    }
    // The chart's own defaults satisfy the schema.
    try_render(&[]).unwrap_or_else(|e| panic!("chart defaults break the schema:\n{e}"));
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

#[test]
fn network_policy_limits_p2p_and_discovery_to_the_release() {
    for ex in examples() {
        let docs = ex.render();
        if !ex.public()["networkPolicy"]["enabled"].as_bool().unwrap() {
            continue;
        }
        let pods = pods(&docs);
        let policies = of_kind(&docs, "NetworkPolicy");
        for sts in of_kind(&docs, "StatefulSet") {
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            let pol = policies
                .iter()
                .find(|p| selects(&str_map(&p["spec"]["podSelector"]["matchLabels"]), &labels))
                .unwrap_or_else(|| panic!("{}: no NetworkPolicy for {}", ex.name, name(sts)));
            let ports: BTreeMap<String, (i64, String)> = sts["spec"]["template"]["spec"]
                ["containers"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(container_ports)
                .collect();
            // Peers connect over TCP and discover each other over UDP, both at the P2P port;
            // beacon nodes (proof of stake) connect over libp2p TCP, discovery v5 over UDP.
            let mut peer_ports = vec!["p2p", "discovery"];
            if ex.public()["proofOfStake"].is_object() {
                peer_ports.extend(["beacon-p2p", "beacon-discv5"]);
            }
            for port in peer_ports {
                let (number, protocol) = &ports[port];
                let ctx = format!("{}: {} {protocol} {number}", ex.name, name(sts));
                let rules: Vec<&Value> = pol["spec"]["ingress"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| {
                        r["ports"].as_array().into_iter().flatten().any(|p| {
                            p["port"].as_i64() == Some(*number)
                                && p["protocol"].as_str().unwrap_or("TCP") == protocol
                        })
                    })
                    .collect();
                assert!(!rules.is_empty(), "{ctx}: no rule admits it");
                for rule in rules {
                    let from = rule["from"].as_array().expect("P2P rule has sources");
                    for f in from {
                        let sel = str_map(&f["podSelector"]["matchLabels"]);
                        assert!(f.get("namespaceSelector").is_none() && f.get("ipBlock").is_none());
                        // Sources are pods of this release only.
                        assert_eq!(
                            sel.get("app.kubernetes.io/instance").map(String::as_str),
                            Some(RELEASE),
                            "{ctx}"
                        );
                        assert!(pods.iter().any(|p| selects(&sel, &p.labels)), "{ctx}");
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The pods' shell steps, run for real with a POSIX shell (busybox when installed, as in
// the geth image), against the rendered ConfigMaps and a fake nslookup.

fn shell() -> String {
    let busybox = Command::new("busybox").arg("true").output();
    if busybox.map(|o| o.status.success()).unwrap_or(false) {
        "busybox".into()
    } else {
        "sh".into()
    }
}

struct PrepareRun {
    status: std::process::ExitStatus,
    stderr: String,
    run: PathBuf,
    /// Stands for /var/lib/kuberneteth (the unpacked genesis state, proof of stake).
    var: PathBuf,
    _dir: tempfile::TempDir,
}

/// Runs a group's `prepare` init step for `pod`, with peers resolving to 10.96.0.<10+i>
/// (except those in `unresolvable`).
fn run_prepare(ex: &Example, group: &str, pod: &str, unresolvable: &[&str]) -> PrepareRun {
    let docs = ex.render();
    let public = ex.public();
    let net = network_name(&public);
    let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
    let spec = &sts["spec"]["template"]["spec"];
    let prepare = spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "prepare")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (run, etc, bin) = (d.join("run"), d.join("etc"), d.join("bin"));
    let var = d.join("var");
    fs::create_dir_all(&run).unwrap();
    // The ConfigMaps and Secrets the step mounts, projected from the rendered objects
    // as the kubelet would: one file per key in the volume's mount path.
    let mut mounted = 0;
    for m in prepare["volumeMounts"].as_array().unwrap() {
        let path = m["mountPath"].as_str().unwrap();
        if let Some(under) = path.strip_prefix("/var/lib/kuberneteth/") {
            // An emptyDir (the genesis state's).
            fs::create_dir_all(var.join(under)).unwrap();
            continue;
        }
        let Some(under) = path.strip_prefix("/etc/kuberneteth/") else {
            continue;
        };
        let volume = spec["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap();
        let (source, is_secret) = match volume["secret"]["secretName"].as_str() {
            Some(n) => (object(&docs, "Secret", n), true),
            None => (
                object(
                    &docs,
                    "ConfigMap",
                    volume["configMap"]["name"].as_str().unwrap(),
                ),
                false,
            ),
        };
        let dir = etc.join(under);
        fs::create_dir_all(&dir).unwrap();
        for (key, value) in source["data"].as_object().into_iter().flatten() {
            let value = value.as_str().unwrap();
            let bytes = if is_secret {
                base64_decode(value)
            } else {
                value.as_bytes().to_vec()
            };
            fs::write(dir.join(key), bytes).unwrap();
            mounted += 1;
        }
        for (key, value) in source["binaryData"].as_object().into_iter().flatten() {
            fs::write(dir.join(key), base64_decode(value.as_str().unwrap())).unwrap();
            mounted += 1;
        }
    }
    assert!(mounted > 0, "{}: prepare mounts nothing", ex.name);
    fs::write(
        d.join("resolv.conf"),
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
    )
    .unwrap();
    // A fake nslookup printing busybox's format.
    let g = public["nodeGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == group)
        .unwrap();
    let mut cases = String::new();
    for (i, h) in g["peerHosts"].as_array().unwrap().iter().enumerate() {
        let h = h.as_str().unwrap();
        if !unresolvable.contains(&h) {
            cases.push_str(&format!(
                "  {h}.default.svc.cluster.local) printf 'Server:\\t\\t10.96.0.10\\nAddress:\\t10.96.0.10:53\\n\\nName:\\t%s\\nAddress: 10.96.0.{}\\n' \"$1\" ;;\n",
                10 + i
            ));
        }
    }
    let fake = format!(
        "#!/bin/sh\ncase \"$1\" in\n{cases}  *) echo \"** server can't find $1: NXDOMAIN\"; exit 1 ;;\nesac\n"
    );
    install_fake(&bin, "nslookup", &fake);

    let script = prepare["command"][2]
        .as_str()
        .unwrap()
        .replace("/etc/resolv.conf", &d.join("resolv.conf").to_string_lossy())
        .replace("/run/kuberneteth", &run.to_string_lossy())
        .replace("/var/lib/kuberneteth", &var.to_string_lossy())
        .replace("/etc/kuberneteth", &etc.to_string_lossy());
    let mut cmd = Command::new(shell());
    if cmd.get_program() == "busybox" {
        cmd.arg("sh");
    }
    cmd.arg("-c").arg(script).arg("prepare");
    for e in prepare["env"].as_array().unwrap() {
        if let Some(v) = e["value"].as_str() {
            cmd.env(e["name"].as_str().unwrap(), v);
        }
    }
    cmd.env("POD_NAME", pod)
        .env("RESOLVE_TIMEOUT_SECONDS", "2")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    let out = cmd.output().unwrap();
    PrepareRun {
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        run,
        var,
        _dir: dir,
    }
}

#[test]
fn prepare_step_writes_the_final_config_and_this_pods_keys() {
    for ex in examples() {
        let public = ex.public();
        let private = ex.private();
        for g in public["nodeGroups"].as_array().unwrap() {
            let group = g["name"].as_str().unwrap();
            let node = &g["nodes"][g["nodes"].as_array().unwrap().len() - 1];
            let pod = node["name"].as_str().unwrap();
            let r = run_prepare(ex, group, pod, &[]);
            assert!(
                r.status.success(),
                "{}: prepare failed for {pod}:\n{}",
                ex.name,
                r.stderr
            );
            let config = fs::read_to_string(r.run.join("config.toml")).unwrap();
            let mut want = g["config"].as_str().unwrap().to_string();
            for (i, h) in g["peerHosts"].as_array().unwrap().iter().enumerate() {
                let h = h.as_str().unwrap();
                want = want.replace(&format!("@{h}:"), &format!("@10.96.0.{}:", 10 + i));
            }
            let want = want
                .replace("__NODE_NAME__", pod)
                .replace("__NAMESPACE__", NAMESPACE)
                .replace("__CLUSTER_DOMAIN__", "cluster.local")
                .replace(
                    "__ETHSTATS_SECRET__",
                    private["secrets"]["ethstatsSecret"].as_str().unwrap(),
                );
            assert_eq!(config, want, "{}: final config of {pod}", ex.name);
            assert_eq!(
                fs::read_to_string(r.run.join("nodekey")).unwrap(),
                private["secrets"]["nodeKeys"][pod].as_str().unwrap(),
                "{}: node key of {pod}",
                ex.name
            );
            let address = node["signerAddress"].as_str().unwrap();
            if address.is_empty() {
                assert!(
                    !r.run.join("keystore").exists(),
                    "{}: {pod} got a keystore",
                    ex.name
                );
                assert!(!r.run.join("password").exists());
                continue;
            }
            let ks = &private["secrets"]["signerKeystores"][pod];
            let file = r
                .run
                .join("keystore")
                .join(ks["fileName"].as_str().unwrap());
            assert_eq!(
                fs::read_to_string(&file).unwrap(),
                ks["json"].as_str().unwrap()
            );
            assert_eq!(
                fs::read_dir(r.run.join("keystore")).unwrap().count(),
                1,
                "only this pod's keystore"
            );
            assert_eq!(
                fs::read_to_string(r.run.join("password")).unwrap(),
                private["secrets"]["keystorePassword"].as_str().unwrap()
            );
            assert_eq!(
                fs::read_to_string(r.run.join("signer-address"))
                    .unwrap()
                    .trim(),
                address
            );
        }
    }
}

#[test]
fn prepare_step_fails_clearly_when_a_peer_does_not_resolve() {
    let ex = default_example();
    let public = ex.public();
    let g = &public["nodeGroups"][0];
    let pod = g["nodes"][0]["name"].as_str().unwrap();
    let missing = g["peerHosts"][g["peerHosts"].as_array().unwrap().len() - 1]
        .as_str()
        .unwrap();
    let started = std::time::Instant::now();
    let r = run_prepare(ex, g["name"].as_str().unwrap(), pod, &[missing]);
    assert!(!r.status.success(), "prepare succeeded without {missing}");
    assert!(
        r.stderr
            .contains(&format!("peer Service {missing} did not resolve within 2s")),
        "unclear failure:\n{}",
        r.stderr
    );
    assert!(started.elapsed().as_secs() < 30);
    assert!(!r.run.join("config.toml").exists());
}

#[test]
fn geth_wrapper_appends_this_pods_signer_address() {
    for ex in examples() {
        let docs = ex.render();
        for sts in of_kind(&docs, "StatefulSet") {
            let geth = &sts["spec"]["template"]["spec"]["containers"][0];
            let dir = tempfile::tempdir().unwrap();
            let bin = dir.path().join("bin");
            install_fake(
                &bin,
                "geth",
                "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n",
            );
            fs::write(dir.path().join("signer-address"), "0xAbC\n").unwrap();
            let script = geth["command"][2]
                .as_str()
                .unwrap()
                .replace("/run/kuberneteth", &dir.path().to_string_lossy());
            let args: Vec<&str> = geth["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let out = Command::new("sh")
                .arg("-c")
                .arg(script)
                .args(geth["command"][3].as_str())
                .args(&args)
                .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                ex.name,
                String::from_utf8_lossy(&out.stderr)
            );
            let got: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            let mut want: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if serde_json::to_string(&geth["command"])
                .unwrap()
                .contains("--unlock")
            {
                want.push("--miner.etherbase=0xAbC".into());
                want.push("--unlock=0xAbC".into());
            }
            assert_eq!(got, want, "{}: geth argv of {}", ex.name, name(sts));
        }
    }
}

#[test]
fn ports_agree_across_enodes_geth_toml_containers_and_services() {
    let mut moved = false;
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let enodes_of = |stable_only: bool| -> BTreeSet<String> {
            node_groups(&public)
                .iter()
                .filter(|g| !stable_only || g["nodeServices"] == true)
                .flat_map(|g| g["nodes"].as_array().unwrap())
                .map(|n| n["enode"].as_str().unwrap().to_string())
                .collect()
        };
        let (all_enodes, stable_enodes) = (enodes_of(false), enodes_of(true));
        let services = of_kind(&docs, "Service");
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: group {group}", ex.name);
            let ports = &g["ports"];
            let p2p = ports["p2p"].as_i64().unwrap();
            moved |= p2p != 30303 && g["nodeServices"] == true;

            // Each enode names its node's Service and its group's port; UDP is the same port.
            for n in g["nodes"].as_array().unwrap() {
                let enode = n["enode"].as_str().unwrap();
                let host_port = enode.rsplit_once('@').map(|(_, hp)| hp);
                assert_eq!(
                    host_port,
                    Some(format!("{}:{p2p}", n["name"].as_str().unwrap()).as_str()),
                    "{ctx}: enode {enode}"
                );
            }

            // The TOML geth reads listens there and dials exactly the compiled enodes.
            let t = rendered_toml(&docs, net, group);
            assert_eq!(
                t["Node"]["P2P"]["ListenAddr"],
                json!(format!(":{p2p}")),
                "{ctx}"
            );
            let statics: BTreeSet<String> = strings(&t["Node"]["P2P"]["StaticNodes"])
                .into_iter()
                .collect();
            assert_eq!(statics, stable_enodes, "{ctx}: StaticNodes");
            for b in strings(&t["Node"]["P2P"]["BootstrapNodes"]) {
                assert!(
                    all_enodes.contains(&b),
                    "{ctx}: bootnode {b} is no node's enode"
                );
            }
            for (rpc, key, port) in [("http", "HTTPPort", "http"), ("ws", "WSPort", "ws")] {
                if g["rpc"][rpc] == true {
                    assert_eq!(t["Node"][key], ports[port], "{ctx}: {key}");
                }
            }

            // The geth container exposes those ports.
            let geth = geth_container(&docs, net, group);
            let cports = container_ports(geth);
            assert_eq!(cports["p2p"], (p2p, "TCP".to_string()), "{ctx}");
            assert_eq!(cports["discovery"], (p2p, "UDP".to_string()), "{ctx}");
            for (port, on) in [
                ("http", g["rpc"]["http"] == true),
                ("ws", g["rpc"]["ws"] == true),
                ("metrics", public["metrics"]["enabled"] == true),
            ] {
                if on {
                    assert_eq!(Some(cports[port].0), ports[port].as_i64(), "{ctx}: {port}");
                }
            }
            for a in strings(&geth["args"]) {
                if let Some(port) = a.strip_prefix("--metrics.port=") {
                    assert_eq!(port, ports["metrics"].to_string(), "{ctx}: {a}");
                }
            }

            // The pod's ports: geth's, and the Prysm containers' (proof of stake).
            let mut pod_ports = BTreeMap::new();
            let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
            for c in sts["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
            {
                for (port, at) in container_ports(c) {
                    assert!(
                        pod_ports.insert(port.clone(), at).is_none(),
                        "{ctx}: two containers name a port {port}"
                    );
                }
            }

            // Every Service of the group's pods serves each port where the pods listen
            // (peers dial the per-node Service at the enode's port).
            for svc in services
                .iter()
                .filter(|s| s["spec"]["selector"]["kuberneteth.io/group"].as_str() == Some(group))
            {
                for p in svc["spec"]["ports"].as_array().unwrap() {
                    let target = p["targetPort"].as_str().unwrap();
                    let (port, protocol) = pod_ports
                        .get(target)
                        .unwrap_or_else(|| panic!("{ctx}: {} targets {target}", name(svc)));
                    assert_eq!(p["port"].as_i64(), Some(*port), "{ctx}: {}", name(svc));
                    assert_eq!(p["protocol"].as_str(), Some(protocol.as_str()));
                }
            }
        }
    }
    assert!(
        moved,
        "no example moves the P2P port of a group with per-node Services"
    );
}

#[test]
fn chain_id_and_network_id_reach_the_genesis_geth_and_helm_test() {
    let mut differ = false;
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let chain_id = public["network"]["chainId"].as_u64().unwrap();
        let network_id = public["network"]["networkId"].as_u64().unwrap();
        differ |= chain_id != network_id;
        let genesis = object(&docs, "ConfigMap", &format!("{net}-genesis"));
        let genesis: Value =
            serde_json::from_str(genesis["data"]["genesis.json"].as_str().unwrap()).unwrap();
        assert_eq!(
            genesis["config"]["chainId"],
            json!(chain_id),
            "{}: genesis",
            ex.name
        );
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let t = rendered_toml(&docs, net, group);
            assert_eq!(
                t["Eth"]["NetworkId"],
                json!(network_id),
                "{}: {group}",
                ex.name
            );
            let args = strings(&geth_container(&docs, net, group)["args"]);
            for (i, a) in args.iter().enumerate() {
                let value = match a.strip_prefix("--networkid") {
                    Some("") => args.get(i + 1).map(String::as_str),
                    Some(rest) => rest.strip_prefix('='),
                    None => continue,
                };
                assert_eq!(
                    value,
                    Some(network_id.to_string().as_str()),
                    "{}: {a}",
                    ex.name
                );
            }
        }
        if let Some(test) = docs.iter().find(|o| kind(o) == "Pod") {
            let env = test["spec"]["containers"][0]["env"].as_array().unwrap();
            let want = env.iter().find(|e| e["name"] == "CHAIN_ID").unwrap();
            assert_eq!(
                want["value"],
                json!(chain_id.to_string()),
                "{}: helm test's chain id",
                ex.name
            );
        }
    }
    assert!(differ, "no example has a network id unlike its chain id");
}

/// geth refuses an HTTP request whose Host is not in `HTTPVirtualHosts` ("invalid host
/// specified"). Every name a request can arrive under must be there: the RPC Service's
/// short and namespaced names, the Ingress host, and what helm test uses. (WebSocket
/// upgrades skip that check; geth checks only a browser's Origin there, which is CORS.)
#[test]
fn rpc_accepts_every_host_name_a_request_can_arrive_under() {
    let mut ingress_hosts = 0;
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        for g in node_groups(&public)
            .iter()
            .filter(|g| g["rpc"]["http"] == true)
        {
            let group = g["name"].as_str().unwrap();
            let service = format!("{net}-{group}-rpc");
            object(&docs, "Service", &service);
            let mut hosts = vec![service.clone()];
            for suffix in ["", ".svc", ".svc.cluster.local"] {
                hosts.push(format!("{service}.{NAMESPACE}{suffix}"));
            }
            for ingress in of_kind(&docs, "Ingress") {
                for rule in ingress["spec"]["rules"].as_array().unwrap() {
                    let paths = rule["http"]["paths"].as_array().unwrap();
                    let routes_here = paths
                        .iter()
                        .any(|p| p["backend"]["service"]["name"].as_str() == Some(&service));
                    if let (true, Some(host)) = (routes_here, rule["host"].as_str()) {
                        hosts.push(host.to_string());
                        ingress_hosts += 1;
                    }
                }
            }
            for test in of_kind(&docs, "Pod") {
                let env = test["spec"]["containers"][0]["env"].as_array().unwrap();
                let url = env.iter().find(|e| e["name"] == "RPC_URL").unwrap()["value"]
                    .as_str()
                    .unwrap();
                let host = url.trim_start_matches("http://").split(':').next().unwrap();
                if host.starts_with(&service) {
                    hosts.push(host.to_string());
                }
            }
            let accepted = strings(&rendered_toml(&docs, net, group)["Node"]["HTTPVirtualHosts"]);
            for h in hosts {
                assert!(
                    accepted.contains(&h) || accepted.iter().any(|a| a == "*"),
                    "{}: {group} refuses requests for {h}; HTTPVirtualHosts = {accepted:?}",
                    ex.name
                );
            }
        }
    }
    assert!(
        ingress_hosts > 0,
        "no example routes an Ingress host to RPC"
    );
}

/// values.yaml and secrets.values.yaml carry one generation; the chart refuses a
/// pair from two compiles (nodes would start without their keys or with others').
#[test]
fn a_values_pair_from_two_compiles_is_refused() {
    let ex = default_example();
    if !ex.compiled {
        // Hand-made fixtures carry no generation, which is not checked.
        return;
    }
    let dir = scratch().join("generation");
    fs::create_dir_all(&dir).unwrap();
    let mut private = ex.private();
    private["secrets"]["generation"] = json!("0".repeat(64));
    let s = dir.join("secrets.json");
    write_json(&s, &private);
    let err = try_render(&[&ex.values, &s]).expect_err("a mixed pair must not render");
    assert!(err.contains("come from different compiles"), "{err}");
}

/// `helm test` calls only what the tested group serves: `net.peerCount` where it
/// serves `net`, never where it does not (geth would answer "method does not exist").
#[test]
fn helm_test_checks_peers_only_where_the_group_serves_net() {
    let mut without_net = 0;
    for ex in examples() {
        let docs = ex.render();
        let public = ex.public();
        for test in of_kind(&docs, "Pod") {
            let env = test["spec"]["containers"][0]["env"].as_array().unwrap();
            let var = |k: &str| {
                env.iter().find(|e| e["name"] == k).unwrap()["value"]
                    .as_str()
                    .unwrap()
                    .to_string()
            };
            let url = var("RPC_URL");
            let group = node_groups(&public)
                .iter()
                .find(|g| url.contains(&format!("-{}-rpc:", g["name"].as_str().unwrap())))
                .unwrap_or_else(|| {
                    panic!("{}: helm test calls {url}, no group's Service", ex.name)
                });
            let modules = strings(&group["rpc"]["modules"]);
            assert!(
                modules.iter().any(|m| m == "eth"),
                "{}: tested group serves no eth",
                ex.name
            );
            let serves_net = modules.iter().any(|m| m == "net");
            assert_eq!(var("SERVES_NET"), serves_net.to_string(), "{}", ex.name);
            without_net += usize::from(!serves_net);
        }
    }
    assert!(
        without_net > 0,
        "no example has a tested group without `net`"
    );
}

// ---------------------------------------------------------------------------------
// Proof of stake: a Prysm beacon node beside geth in every pod, a validator client in
// validator pods.

/// A container of a group's StatefulSet, by name.
fn container<'a>(docs: &'a [Value], net: &str, group: &str, c: &str) -> &'a Value {
    object(docs, "StatefulSet", &format!("{net}-{group}"))["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == c)
        .unwrap_or_else(|| panic!("{net}-{group} has no container {c}"))
}

/// The stable nodes' beacon multiaddrs, the static peers every beacon node dials.
fn beacon_peers(public: &Value) -> BTreeSet<String> {
    let tcp = public["proofOfStake"]["ports"]["tcp"].as_i64().unwrap();
    node_groups(public)
        .iter()
        .filter(|g| matches!(g["role"].as_str(), Some("validator" | "bootnode")))
        .flat_map(|g| g["nodes"].as_array().unwrap())
        .map(|n| {
            let peer_id = n["beacon"]["peerId"].as_str().unwrap();
            assert!(peer_id.starts_with("16Uiu2"), "peer id {peer_id}");
            format!(
                "/dns4/{}/tcp/{tcp}/p2p/{peer_id}",
                n["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn pos_beacon_nodes_dial_exactly_the_stable_nodes_and_never_discover() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let want = beacon_peers(&public);
        assert!(!want.is_empty(), "{}: no stable beacon node", ex.name);
        let tcp = public["proofOfStake"]["ports"]["tcp"].as_i64().unwrap();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: {group}", ex.name);
            let args = strings(&container(&docs, net, group, "beacon")["args"]);
            assert_eq!(
                args,
                strings(&g["beaconArgs"]),
                "{ctx}: compiled beaconArgs"
            );
            // Discovery runs without a bootstrap node: it never asks outside the network.
            assert!(
                args.iter().any(|a| a == "--disable-quic")
                    && !args.iter().any(|a| a == "--no-discovery"),
                "{ctx}: libp2p over TCP, discovery v5 listening"
            );
            let peers: BTreeSet<String> = args
                .iter()
                .filter_map(|a| a.strip_prefix("--peer="))
                .map(String::from)
                .collect();
            assert_eq!(peers, want, "{ctx}: --peer flags");
            for a in &args {
                assert!(
                    !a.starts_with("--bootstrap-node") && !a.contains("enr:"),
                    "{ctx}: {a} (a public or discovery bootnode)"
                );
            }
            // Each peer's host is its pod's own Service, serving libp2p at that port.
            for p in &peers {
                let host = p.split('/').nth(2).unwrap();
                let svc = object(&docs, "Service", host);
                let port = svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["name"] == "beacon-p2p")
                    .unwrap_or_else(|| panic!("{ctx}: Service {host} has no beacon-p2p"));
                assert_eq!(port["port"], json!(tcp), "{ctx}: {host}");
                assert_eq!(port["protocol"], "TCP", "{ctx}: {host}");
            }
            assert_eq!(
                flag(&args, "--p2p-tcp-port"),
                Some(tcp.to_string().as_str())
            );
        }
    }
}

/// Per-pod Services carry the beacon node's libp2p ports beside geth's; the headless
/// Services and the ServiceMonitor its metrics and the validator client's.
#[test]
fn pos_services_expose_beacon_p2p_and_metrics() {
    let (mut with_metrics, mut with_service_monitor) = (0, 0);
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let ports = &public["proofOfStake"]["ports"];
        let metrics = public["metrics"]["enabled"] == true;
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let validator = g["role"] == "validator";
            let ctx = format!("{}: {group}", ex.name);
            let svc_ports = |svc: &Value| -> BTreeMap<String, (i64, String)> {
                svc["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_string(),
                            (
                                p["port"].as_i64().unwrap(),
                                p["protocol"].as_str().unwrap().to_string(),
                            ),
                        )
                    })
                    .collect()
            };
            if g["nodeServices"] == true {
                for n in g["nodes"].as_array().unwrap() {
                    let sp = svc_ports(object(&docs, "Service", n["name"].as_str().unwrap()));
                    assert_eq!(
                        sp["beacon-p2p"],
                        (ports["tcp"].as_i64().unwrap(), "TCP".into()),
                        "{ctx}"
                    );
                    assert_eq!(
                        sp["beacon-discv5"],
                        (ports["udp"].as_i64().unwrap(), "UDP".into()),
                        "{ctx}"
                    );
                }
            }
            if metrics {
                with_metrics += 1;
                let headless = object(&docs, "Service", &format!("{net}-{group}-peers"));
                let sp = svc_ports(headless);
                assert_eq!(
                    sp["beacon-metrics"].0,
                    ports["beaconMetrics"].as_i64().unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    sp.contains_key("vc-metrics"),
                    validator,
                    "{ctx}: vc-metrics"
                );
                if validator {
                    assert_eq!(
                        sp["vc-metrics"].0,
                        ports["validatorMetrics"].as_i64().unwrap()
                    );
                }
                // The Prysm flags serve metrics there.
                let beacon = strings(&container(&docs, net, group, "beacon")["args"]);
                assert_eq!(
                    flag(&beacon, "--monitoring-port"),
                    Some(ports["beaconMetrics"].to_string().as_str()),
                    "{ctx}"
                );
                assert_eq!(flag(&beacon, "--monitoring-host"), Some("0.0.0.0"), "{ctx}");
                if validator {
                    let vc = strings(&container(&docs, net, group, "validator")["args"]);
                    assert_eq!(
                        flag(&vc, "--monitoring-port"),
                        Some(ports["validatorMetrics"].to_string().as_str()),
                        "{ctx}"
                    );
                }
            }
        }
        if metrics && public["metrics"]["serviceMonitor"]["enabled"] == true {
            with_service_monitor += 1;
            let sm = of_kind(&docs, "ServiceMonitor");
            let endpoints: BTreeSet<&str> = sm[0]["spec"]["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["port"].as_str().unwrap())
                .collect();
            for p in ["beacon-metrics", "vc-metrics"] {
                assert!(
                    endpoints.contains(p),
                    "{}: ServiceMonitor scrapes no {p}",
                    ex.name
                );
            }
        }
    }
    assert!(
        with_service_monitor > 0,
        "no proof-of-stake example with a ServiceMonitor"
    );
    assert!(
        with_metrics > 0,
        "no proof-of-stake example with metrics on"
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

/// Every container a compiled network runs (init steps, geth, Prysm, ethstats, the
/// rollout Job's steps, the test) asks for CPU and memory and has a memory limit; none
/// has a CPU limit (it would throttle a node that is catching up). A validator pod's
/// containers are sized apart: the group's `resources` is no longer copied to each.
#[test]
fn every_container_asks_for_cpu_and_memory_and_has_a_memory_limit() {
    for ex in examples().iter().filter(|ex| ex.compiled) {
        let docs = ex.render();
        let mut seen = BTreeSet::new();
        for o in &docs {
            let spec = match kind(o) {
                "StatefulSet" | "Deployment" | "Job" => &o["spec"]["template"]["spec"],
                "Pod" => &o["spec"],
                _ => continue,
            };
            for c in containers(spec) {
                let ctx = format!("{}: {}/{} {}", ex.name, kind(o), name(o), c["name"]);
                let r = &c["resources"];
                for (kind, key) in [
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "memory"),
                ] {
                    assert!(r[kind][key].is_string(), "{ctx}: no {kind}.{key} in {r}");
                }
                assert!(r["limits"]["cpu"].is_null(), "{ctx}: a CPU limit");
                seen.insert(c["name"].as_str().unwrap_or_default().to_string());
            }
        }
        if ex.public()["proofOfStake"].is_object() {
            for c in ["geth", "beacon", "validator", "init-genesis", "prepare"] {
                assert!(seen.contains(c), "{}: no container {c}", ex.name);
            }
            let net = network_name(&ex.public()).to_string();
            for g in node_groups(&ex.public())
                .iter()
                .filter(|g| g["role"] == "validator")
            {
                let group = g["name"].as_str().unwrap();
                let memory = |c: &str| {
                    container(&docs, &net, group, c)["resources"]["requests"]["memory"].clone()
                };
                assert_ne!(memory("geth"), memory("beacon"), "{}: {group}", ex.name);
                assert_ne!(
                    memory("beacon"),
                    memory("validator"),
                    "{}: {group}",
                    ex.name
                );
            }
        }
    }
}

/// Each container's size is its own: set in the file for geth, the beacon node and
/// the validator client apart, key by key over the role's defaults; geth's `--cache`
/// is a quarter of geth's own memory limit.
#[test]
fn pos_each_container_is_sized_on_its_own_and_geths_cache_follows_its_limit() {
    let ex = pos_example("network:pos-tiny");
    let (config, _) = ex.source.as_ref().unwrap();
    let text = fs::read_to_string(config).unwrap();
    let marker = "    validatorsPerPod: 4\n";
    assert!(text.contains(marker));
    let cfg_text = text.replacen(
        marker,
        &format!(
            "{marker}    resources:\n      geth: {{limits: {{memory: 8Gi}}}}\n      \
             beacon: {{requests: {{cpu: 750m}}}}\n      validator: {{requests: {{memory: 200Mi}}}}\n"
        ),
        1,
    );
    let dir = scratch().join("sized");
    fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("kuberneteth.yaml");
    fs::write(&cfg, cfg_text).unwrap();
    let (v, s) = compile(&cfg, &dir.join("compiled"));
    let docs = parse_docs(&render(&[&v, &s]));
    let public = read_yaml(&v);
    let net = network_name(&public).to_string();
    let r = |group: &str, c: &str| container(&docs, &net, group, c)["resources"].clone();
    assert_eq!(r("validator", "geth")["limits"]["memory"], "8Gi");
    assert_eq!(r("validator", "geth")["requests"]["memory"], "256Mi");
    assert_eq!(r("validator", "beacon")["requests"]["cpu"], "750m");
    assert_eq!(r("validator", "beacon")["limits"]["memory"], "2Gi");
    assert_eq!(r("validator", "validator")["requests"]["memory"], "200Mi");
    assert_eq!(r("validator", "validator")["requests"]["cpu"], "50m");
    // The rpc group keeps its defaults, a larger geth.
    assert_eq!(r("rpc", "geth")["limits"]["memory"], "4Gi");
    let cache = |group: &str| {
        flag(
            &strings(&container(&docs, &net, group, "geth")["args"]),
            "--cache",
        )
        .map(String::from)
    };
    assert_eq!(cache("validator").as_deref(), Some("2048"));
    assert_eq!(cache("rpc").as_deref(), Some("1024"));
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

/// geth's engine API listens on the pod's localhost only, with the pod's JWT; the
/// beacon node calls it there with the same JWT file.
#[test]
fn pos_engine_api_is_local_and_shares_the_jwt() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let engine_port = public["proofOfStake"]["engineApiPort"].as_i64().unwrap();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let ctx = format!("{}: {group}", ex.name);
            let toml = rendered_toml(&docs, net, group);
            let geth_args = strings(&geth_container(&docs, net, group)["args"]);
            let addr = toml["Node"]["AuthAddr"]
                .as_str()
                .map(String::from)
                .or_else(|| flag(&geth_args, "--authrpc.addr").map(String::from))
                .unwrap_or_else(|| "localhost".into());
            assert!(
                addr == "localhost" || addr == "127.0.0.1",
                "{ctx}: engine API on {addr}"
            );
            let port = toml["Node"]["AuthPort"]
                .as_i64()
                .or_else(|| flag(&geth_args, "--authrpc.port").map(|p| p.parse().unwrap()))
                .unwrap_or(8551);
            assert_eq!(port, engine_port, "{ctx}: engine API port");
            let jwt = toml["Node"]["JWTSecret"]
                .as_str()
                .or_else(|| flag(&geth_args, "--authrpc.jwtsecret"))
                .unwrap_or_else(|| panic!("{ctx}: geth has no JWT secret file"));
            let beacon = strings(&container(&docs, net, group, "beacon")["args"]);
            assert_eq!(flag(&beacon, "--jwt-secret"), Some(jwt), "{ctx}: JWT files");
            assert_eq!(
                flag(&beacon, "--execution-endpoint"),
                Some(format!("http://127.0.0.1:{engine_port}").as_str()),
                "{ctx}"
            );
        }
        // Nothing outside the pod reaches the engine API: no container, Service or
        // NetworkPolicy names its port.
        let mut named = Vec::new();
        for o in &docs {
            let ports: Vec<&Value> = match kind(o) {
                "Service" => o["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .collect(),
                "NetworkPolicy" => o["spec"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r["ports"].as_array().into_iter().flatten())
                    .collect(),
                _ => pod_specs(std::slice::from_ref(o))
                    .into_iter()
                    .flat_map(|(_, spec)| containers(spec))
                    .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                    .collect(),
            };
            for p in ports {
                for k in ["port", "targetPort", "containerPort"] {
                    if p[k].as_i64() == Some(engine_port) {
                        named.push(format!("{} {}", kind(o), name(o)));
                    }
                }
            }
        }
        assert!(
            named.is_empty(),
            "{}: the engine API port is exposed by {named:?}",
            ex.name
        );
    }
}

/// Both Prysm clients of every pod suggest the network file's fee recipient; the
/// withdrawal address is in the genesis validators' credentials (0x01, or 0x02 when
/// compounding; 11 zero bytes; the address) and nowhere in the clients' flags.
/// `pos-groups` has a withdrawal address unlike its fee recipient (the zero address,
/// the default), so a flag taken from the wrong one shows.
#[test]
fn pos_fee_recipient_reaches_both_prysm_clients_and_the_withdrawal_address_the_credentials() {
    let mut differing = Vec::new();
    for ex in pos_examples() {
        let (source, _) = ex.source.as_ref().expect("a compiled example");
        let file = read_yaml(source);
        let pos = &file["network"]["consensus"]["proofOfStake"];
        let fee = pos["feeRecipient"]
            .as_str()
            .unwrap_or("0x0000000000000000000000000000000000000000")
            .to_lowercase();
        let withdrawal = pos["withdrawal"]["address"].as_str().map(str::to_lowercase);
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        assert_eq!(
            public["proofOfStake"]["feeRecipient"]
                .as_str()
                .map(str::to_lowercase),
            Some(fee.clone()),
            "{}",
            ex.name
        );
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let mut clients = vec!["beacon"];
            if g["role"] == "validator" {
                clients.push("validator");
            }
            for c in clients {
                let ctx = format!("{}: {group} {c}", ex.name);
                let args = strings(&container(&docs, net, group, c)["args"]);
                assert_eq!(
                    flag(&args, "--suggested-fee-recipient").map(str::to_lowercase),
                    Some(fee.clone()),
                    "{ctx}"
                );
                if let Some(w) = withdrawal.as_ref().filter(|w| **w != fee) {
                    for a in &args {
                        assert!(
                            !a.to_lowercase().contains(&w[2..]),
                            "{ctx}: the withdrawal address in {a}"
                        );
                    }
                }
            }
        }
        let ssz = exported_consensus(ex).1;
        let preset = public["proofOfStake"]["preset"].as_str().unwrap();
        let registry = BeaconState::new(&ssz, preset).validators();
        assert!(!registry.is_empty(), "{}: no genesis validator", ex.name);
        let want = withdrawal.as_ref().map(|w| {
            let prefix = if pos["withdrawal"]["compounding"] == true {
                0x02
            } else {
                0x01
            };
            address_credentials(prefix, w)
        });
        for (i, r) in registry.iter().enumerate() {
            match want {
                Some(want) => assert_eq!(
                    r.withdrawal_credentials, want,
                    "{}: validator {i}'s credentials",
                    ex.name
                ),
                None => assert_eq!(
                    r.withdrawal_credentials[0], 0,
                    "{}: validator {i}: BLS credentials without a withdrawal address",
                    ex.name
                ),
            }
        }
        if withdrawal.is_some_and(|w| w != fee) {
            differing.push(ex.name.clone());
        }
    }
    assert!(
        differing.iter().any(|n| n == "network:pos-groups"),
        "pos-groups no longer has a withdrawal address unlike its fee recipient: {differing:?}"
    );
}

/// Every file a Prysm flag names is under a volume mount of that container: the
/// databases on the pod's volume (`data`, the PVC: a validator's slashing protection
/// survives restarts and rescheduling), the consensus ConfigMap's config.yaml, and
/// what the `prepare` step writes (JWT, P2P key, wallet, password, genesis state),
/// which each pod gets for itself.
#[test]
fn pos_prysm_reads_only_mounted_files_that_prepare_wrote() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let private = ex.private();
        let net = network_name(&public);
        let genesis_ssz = exported_consensus(ex).1;
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
            let spec = &sts["spec"]["template"]["spec"];
            assert_eq!(
                sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
                "data"
            );
            let prepare = spec["initContainers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "prepare")
                .unwrap();
            let prepare_mounts: BTreeMap<String, String> = prepare["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().into(),
                        m["mountPath"].as_str().unwrap().into(),
                    )
                })
                .collect();
            let validator = g["role"] == "validator";
            for pod_node in g["nodes"].as_array().unwrap() {
                let pod = pod_node["name"].as_str().unwrap();
                let ctx = format!("{}: {pod}", ex.name);
                let r = run_prepare(ex, group, pod, &[]);
                assert!(r.status.success(), "{ctx}: prepare failed:\n{}", r.stderr);
                // Where a path of a pod is on this test's disk: (volume, file).
                let locate = |c: &Value, path: &str| -> (String, Option<PathBuf>) {
                    let m = c["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| {
                            let at = m["mountPath"].as_str().unwrap();
                            path == at || path.starts_with(&format!("{at}/"))
                        })
                        .max_by_key(|m| m["mountPath"].as_str().unwrap().len())
                        .unwrap_or_else(|| {
                            panic!("{ctx}: {} reads {path}, on no volume it mounts", c["name"])
                        });
                    let volume = m["name"].as_str().unwrap().to_string();
                    let rest =
                        path[m["mountPath"].as_str().unwrap().len()..].trim_start_matches('/');
                    let local = match volume.as_str() {
                        "run" => Some(r.run.join(rest)),
                        "genesis-state" => {
                            // prepare writes it through its own mount of the same emptyDir.
                            let at = &prepare_mounts["genesis-state"];
                            let under = at.strip_prefix("/var/lib/kuberneteth/").unwrap();
                            Some(r.var.join(under).join(rest))
                        }
                        _ => None,
                    };
                    (volume, local)
                };
                let mut seen = BTreeSet::new();
                let mut prysm = vec!["beacon"];
                if validator {
                    prysm.push("validator");
                }
                let b = &private["secrets"]["beacon"][pod];
                for c in prysm {
                    let cont = container(&docs, net, group, c);
                    let args = strings(&cont["args"]);
                    for f in [
                        "--datadir",
                        "--jwt-secret",
                        "--p2p-priv-key",
                        "--genesis-state",
                        "--chain-config-file",
                        "--wallet-dir",
                        "--wallet-password-file",
                    ] {
                        let Some(path) = flag(&args, f) else { continue };
                        let (volume, local) = locate(cont, path);
                        seen.insert(f);
                        let ctx = format!("{ctx}: {c} {f}={path}");
                        match f {
                            "--datadir" => {
                                assert_eq!(volume, "data", "{ctx}: not on the pod's volume")
                            }
                            "--chain-config-file" => {
                                assert_eq!(volume, "consensus", "{ctx}");
                                let file = path.rsplit('/').next().unwrap();
                                let cm = object(&docs, "ConfigMap", &format!("{net}-consensus"));
                                assert!(
                                    cm["data"][file].is_string(),
                                    "{ctx}: no {file} in the ConfigMap"
                                );
                            }
                            _ => {
                                let local = local.unwrap_or_else(|| {
                                    panic!(
                                        "{ctx}: on volume {volume}, which prepare does not write"
                                    )
                                });
                                assert!(local.exists(), "{ctx}: prepare did not write it");
                                let read = |p: &Path| fs::read_to_string(p).unwrap();
                                match f {
                                    "--jwt-secret" => assert_eq!(
                                        read(&local),
                                        b["jwtSecret"].as_str().unwrap(),
                                        "{ctx}"
                                    ),
                                    "--p2p-priv-key" => assert_eq!(
                                        read(&local),
                                        b["nodeKey"].as_str().unwrap(),
                                        "{ctx}"
                                    ),
                                    "--genesis-state" => assert!(
                                        fs::read(&local).unwrap() == genesis_ssz,
                                        "{ctx}: not the compiled genesis state"
                                    ),
                                    "--wallet-password-file" => assert_eq!(
                                        read(&local),
                                        private["secrets"]["validatorWallets"][pod]["password"]
                                            .as_str()
                                            .unwrap(),
                                        "{ctx}"
                                    ),
                                    "--wallet-dir" => {
                                        // Exactly this pod's wallet files, byte for byte.
                                        let wallet =
                                            &private["secrets"]["validatorWallets"][pod]["files"];
                                        let mut got = BTreeMap::new();
                                        collect_files(&local, &local, &mut got);
                                        let want: BTreeMap<String, String> = str_map(wallet);
                                        assert!(!want.is_empty(), "{ctx}: no wallet compiled");
                                        assert_eq!(got, want, "{ctx}: wallet files");
                                    }
                                    _ => unreachable!(),
                                }
                            }
                        }
                    }
                }
                let mut want: BTreeSet<&str> = [
                    "--datadir",
                    "--jwt-secret",
                    "--p2p-priv-key",
                    "--genesis-state",
                    "--chain-config-file",
                ]
                .into();
                if validator {
                    want.extend(["--wallet-dir", "--wallet-password-file"]);
                } else {
                    assert!(
                        !r.run.join("validator-wallet").exists(),
                        "{ctx}: a wallet in a non-validator pod"
                    );
                }
                assert_eq!(seen, want, "{ctx}: Prysm flags naming files");
                // The validator client's database: on the volume, apart from the beacon node's.
                if validator {
                    let vc = strings(&container(&docs, net, group, "validator")["args"]);
                    let bn = strings(&container(&docs, net, group, "beacon")["args"]);
                    let (v, b) = (
                        flag(&vc, "--datadir").unwrap(),
                        flag(&bn, "--datadir").unwrap(),
                    );
                    assert!(
                        v.starts_with("/data/") && b.starts_with("/data/") && v != b,
                        "{ctx}: {v} {b}"
                    );
                }
                // geth's JWT file is the one prepare wrote (the beacon's).
                let jwt = r.run.join("jwt.hex");
                assert_eq!(
                    fs::read_to_string(jwt).unwrap(),
                    b["jwtSecret"].as_str().unwrap(),
                    "{ctx}"
                );
            }
        }
    }
}

/// Files under `root`, by path relative to `base`, as text.
fn collect_files(base: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    for e in fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_files(base, &p, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            out.insert(rel, fs::read_to_string(&p).unwrap());
        }
    }
}

/// `kuberneteth-values export` of a compiled proof-of-stake example (same network
/// file, same master secret): its consensus/config.yaml and consensus/genesis.ssz.
fn exported_consensus(ex: &Example) -> (String, Vec<u8>) {
    type Exports = BTreeMap<String, (String, Vec<u8>)>;
    static CACHE: OnceLock<std::sync::Mutex<Exports>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap().get(&ex.name) {
        return hit.clone();
    }
    let (config, secrets) = ex.source.as_ref().expect("a compiled example");
    let dir = scratch().join("export").join(ex.name.replace(':', "_"));
    let _ = fs::remove_dir_all(&dir);
    let out = Command::new(compiler())
        .arg("export")
        .arg("-c")
        .arg(config)
        .arg("--secrets")
        .arg(secrets)
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("run kuberneteth-values export");
    assert!(
        out.status.success(),
        "{}: export failed:\n{}",
        ex.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let got = (
        fs::read_to_string(dir.join("consensus/config.yaml")).unwrap(),
        fs::read(dir.join("consensus/genesis.ssz")).unwrap(),
    );
    cache.lock().unwrap().insert(ex.name.clone(), got.clone());
    got
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run gzip");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "gzip -dc failed");
    out.stdout
}

/// The consensus ConfigMap holds what `export` writes for the same network: the
/// consensus clients' config.yaml verbatim and the genesis state, gzipped.
#[test]
fn pos_consensus_configmap_is_the_compiled_genesis_state_and_config() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let net = network_name(&public);
        let (config, ssz) = exported_consensus(ex);
        let cm = object(&docs, "ConfigMap", &format!("{net}-consensus"));
        assert_eq!(
            cm["data"]["config.yaml"].as_str(),
            Some(config.as_str()),
            "{}",
            ex.name
        );
        assert_eq!(
            cm["data"]["config.yaml"],
            public["proofOfStake"]["chainConfig"]
        );
        let gz = base64_decode(cm["binaryData"]["genesis.ssz.gz"].as_str().unwrap());
        let state = gunzip(&gz);
        assert!(
            state == ssz,
            "{}: the ConfigMap's genesis state is not the compiled one ({} vs {} bytes)",
            ex.name,
            state.len(),
            ssz.len()
        );
        // A ConfigMap holds at most 1 MiB (data and binaryData together).
        let size = serde_json::to_string(&cm).unwrap().len();
        assert!(
            size < 1 << 20,
            "{}: consensus ConfigMap of {size} bytes",
            ex.name
        );
        // The genesis validators root Prysm will compute is in the state: bytes 8..40
        // of a BeaconState (after genesis_time).
        let root = public["proofOfStake"]["genesisValidatorsRoot"]
            .as_str()
            .unwrap();
        let in_state: String = ssz[8..40].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            root.trim_start_matches("0x"),
            in_state,
            "{}: genesis validators root",
            ex.name
        );
    }
}

/// Each group's Secret holds, for each of its pods, the beacon P2P key and JWT and,
/// in validator groups, exactly that pod's wallet (and no other pod's).
#[test]
fn pos_secrets_hold_each_pods_beacon_key_jwt_and_own_wallet() {
    for ex in pos_examples() {
        let docs = ex.render();
        let public = ex.public();
        let private = ex.private();
        let s = &private["secrets"];
        let net = network_name(&public);
        let mut pods_seen = BTreeSet::new();
        for g in node_groups(&public) {
            let group = g["name"].as_str().unwrap();
            let validator = g["role"] == "validator";
            let secret = object(&docs, "Secret", &format!("{net}-{group}-keys"));
            let data: BTreeMap<String, Vec<u8>> = secret["data"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), base64_decode(v.as_str().unwrap())))
                .collect();
            let cm = object(&docs, "ConfigMap", &format!("{net}-{group}-config"));
            let wallet_files = cm["data"]["wallet-files"].as_str();
            assert_eq!(
                wallet_files.is_some(),
                validator,
                "{}: {group} wallet-files",
                ex.name
            );
            let mut want_keys = BTreeSet::new();
            for n in g["nodes"].as_array().unwrap() {
                let pod = n["name"].as_str().unwrap();
                pods_seen.insert(pod.to_string());
                let ctx = format!("{}: {pod}", ex.name);
                let b = &s["beacon"][pod];
                assert_eq!(
                    data[&format!("{pod}.beacon-p2p-key")],
                    b["nodeKey"].as_str().unwrap().as_bytes(),
                    "{ctx}"
                );
                assert_eq!(
                    data[&format!("{pod}.jwt-secret")],
                    b["jwtSecret"].as_str().unwrap().as_bytes(),
                    "{ctx}"
                );
                want_keys.extend([
                    format!("{pod}.nodekey"),
                    format!("{pod}.beacon-p2p-key"),
                    format!("{pod}.jwt-secret"),
                ]);
                let w = &s["validatorWallets"][pod];
                assert_eq!(
                    w.is_object(),
                    validator,
                    "{ctx}: a wallet only for validator pods"
                );
                if !validator {
                    continue;
                }
                assert_eq!(
                    n["beacon"]["validators"].as_u64(),
                    g["validatorsPerPod"]
                        .as_u64()
                        .or(n["beacon"]["validators"].as_u64()),
                    "{ctx}"
                );
                want_keys.insert(format!("{pod}.wallet-password"));
                assert_eq!(
                    data[&format!("{pod}.wallet-password")],
                    w["password"].as_str().unwrap().as_bytes(),
                    "{ctx}"
                );
                // wallet-files maps the pod's Secret keys to paths under the wallet dir.
                let mut files = BTreeMap::new();
                for line in wallet_files
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    assert_eq!(f.len(), 3, "{ctx}: wallet-files line {line:?}");
                    if f[0] == pod {
                        want_keys.insert(format!("{pod}.{}", f[1]));
                        files.insert(
                            f[2].to_string(),
                            String::from_utf8(data[&format!("{pod}.{}", f[1])].clone()).unwrap(),
                        );
                    }
                }
                assert_eq!(files, str_map(&w["files"]), "{ctx}: wallet in the Secret");
            }
            let keys: BTreeSet<String> = data.keys().cloned().collect();
            let extra: BTreeSet<&String> = keys
                .difference(&want_keys)
                .filter(|k| !matches!(k.as_str(), "password") && !k.ends_with(".keystore"))
                .collect();
            assert!(
                extra.is_empty(),
                "{}: {group} Secret also holds {extra:?}",
                ex.name
            );
            for k in &want_keys {
                assert!(keys.contains(k), "{}: {group} Secret lacks {k}", ex.name);
            }
            // No other pod's wallet in this group's Secret.
            let mine: BTreeSet<String> = g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].as_str().unwrap().to_string())
                .collect();
            for (pod, w) in s["validatorWallets"].as_object().unwrap() {
                if mine.contains(pod) {
                    continue;
                }
                for text in str_map(&w["files"]).values() {
                    assert!(
                        !data.values().any(|v| v == text.as_bytes()),
                        "{}: {group} Secret holds {pod}'s wallet",
                        ex.name
                    );
                }
            }
        }
        let with_beacon: BTreeSet<String> =
            s["beacon"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            with_beacon, pods_seen,
            "{}: beacon secrets of exactly the pods",
            ex.name
        );
        // Validator keys are never shared: each wallet file of one pod only.
        let mut texts = BTreeSet::new();
        for w in s["validatorWallets"].as_object().unwrap().values() {
            for t in str_map(&w["files"]).into_values() {
                assert!(
                    texts.insert(t),
                    "{}: two pods hold the same wallet file",
                    ex.name
                );
            }
        }
    }
}

#[test]
fn pos_prysm_containers_are_hardened_like_geth() {
    for ex in pos_examples() {
        let docs = ex.render();
        for sts in of_kind(&docs, "StatefulSet") {
            let cs = sts["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap();
            let geth = &cs[0]["securityContext"];
            for c in &cs[1..] {
                assert_eq!(
                    &c["securityContext"],
                    geth,
                    "{}: {} {}",
                    ex.name,
                    name(sts),
                    c["name"]
                );
                // Prysm writes nowhere but its mounts (root filesystem read-only).
                assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
            }
        }
    }
}

/// checksum/config follows the consensus ConfigMap (genesis state, config.yaml): a
/// new chain restarts every pod; a beacon key or wallet changes only its group's
/// checksum/secret.
#[test]
fn pos_checksums_follow_the_genesis_state_config_and_beacon_secrets() {
    let ex = pos_example("network:pos-groups");
    let base = checksums(&ex.render());
    let public = ex.public();
    let net = network_name(&public).to_string();
    let groups: Vec<String> = node_groups(&public)
        .iter()
        .map(|g| format!("{net}-{}", g["name"].as_str().unwrap()))
        .collect();
    let other_state = {
        let mut state = exported_consensus(ex).1;
        state[0] ^= 1;
        let dir = scratch().join("modified");
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("genesis.ssz");
        fs::write(&f, &state).unwrap();
        let out = Command::new("gzip").arg("-c").arg(&f).output().unwrap();
        base64(&out.stdout)
    };
    for (tag, change) in [
        (
            "genesis-state",
            Box::new(move |p: &mut Value| p["proofOfStake"]["genesisStateGz"] = json!(other_state))
                as Box<dyn FnOnce(&mut Value)>,
        ),
        (
            "chain-config",
            Box::new(|p: &mut Value| {
                let c = p["proofOfStake"]["chainConfig"]
                    .as_str()
                    .unwrap()
                    .to_string();
                p["proofOfStake"]["chainConfig"] =
                    json!(c.replace("SECONDS_PER_SLOT: 4", "SECONDS_PER_SLOT: 5"));
                assert_ne!(
                    p["proofOfStake"]["chainConfig"].as_str().unwrap(),
                    c,
                    "config.yaml has SECONDS_PER_SLOT: 4"
                );
            }),
        ),
    ] {
        let after = checksums(&render_modified(ex, tag, |p, _| change(p)));
        for g in &groups {
            assert_ne!(
                after[g].0, base[g].0,
                "checksum/config of {g} after a {tag} change"
            );
            assert_eq!(
                after[g].1, base[g].1,
                "checksum/secret of {g} after a {tag} change"
            );
        }
    }
    // One pod's beacon key, then one validator pod's wallet password: that group only.
    let first = |i: usize| {
        public["nodeGroups"][i]["nodes"][0]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (p0, p1) = (first(0), first(1));
    for (tag, at) in [("beacon-key", 0), ("wallet", 1)] {
        let (p0, p1) = (p0.clone(), p1.clone());
        let after = checksums(&render_modified(ex, tag, move |_, s| {
            if at == 0 {
                s["secrets"]["beacon"][&p0]["nodeKey"] = json!("22".repeat(32));
            } else {
                s["secrets"]["validatorWallets"][&p1]["password"] = json!("another-password");
            }
        }));
        for (i, g) in groups.iter().enumerate() {
            assert_eq!(
                after[g].1 != base[g].1,
                i == at,
                "checksum/secret of {g} after a {tag} change"
            );
            assert_eq!(
                after[g].0, base[g].0,
                "checksum/config of {g} after a {tag} change"
            );
        }
    }
}

/// A Prysm release bump is a rolling upgrade: only the Prysm containers' image tags
/// change; chain, keys, flags and identities stay.
#[test]
fn pos_a_prysm_version_bump_changes_only_prysm_image_tags() {
    let ex = pos_example("network:pos-tiny");
    let (config, _) = ex.source.as_ref().unwrap();
    let text = fs::read_to_string(config).unwrap();
    let render_with = |version: &str| {
        let marker = "        prysm:\n";
        assert!(text.contains(marker));
        let cfg_text = text.replace(marker, &format!("{marker}          version: {version}\n"));
        let dir = scratch().join("prysm-bump").join(version);
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, cfg_text).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        (parse_docs(&render(&[&v, &s])), read_yaml(&s))
    };
    let (old, old_secrets) = render_with("v7.0.0");
    let (new, new_secrets) = render_with("v7.1.2");
    assert_eq!(
        old_secrets["secrets"]["beacon"],
        new_secrets["secrets"]["beacon"]
    );
    assert_eq!(
        old_secrets["secrets"]["nodeKeys"],
        new_secrets["secrets"]["nodeKeys"]
    );
    assert_eq!(
        old.len(),
        new.len(),
        "the Prysm bump changed the set of objects"
    );
    let mut changes = Vec::new();
    for (a, b) in old.iter().zip(&new) {
        assert_eq!((kind(a), name(a)), (kind(b), name(b)));
        if kind(a) == "Secret" {
            assert_eq!(a, b, "Secret {} changed", name(a));
        }
        diff(&format!("{}/{}", kind(a), name(a)), a, b, &mut changes);
    }
    assert!(!changes.is_empty(), "the Prysm bump changed nothing");
    for (path, before, after) in &changes {
        assert!(
            path.starts_with("StatefulSet/")
                && path.contains("/spec/template/spec/containers/")
                && path.ends_with("/image"),
            "a Prysm bump changed {path}: {before} -> {after}"
        );
        assert!(
            before.contains("prysm") && before.contains(":v7.0.0"),
            "{path}: {before}"
        );
        assert!(after.contains(":v7.1.2"), "{path}: {after}");
    }
    // Every Prysm container rolled: the beacon node in each StatefulSet, the validator
    // client in the validator group.
    let statefulsets = of_kind(&new, "StatefulSet").len();
    let validator_groups = of_kind(&new, "StatefulSet")
        .iter()
        .filter(|s| {
            s["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                == "validator"
        })
        .count();
    assert_eq!(
        changes.len(),
        statefulsets + validator_groups,
        "{changes:?}"
    );
}

/// The validator groups' PDBs in other shapes than the examples': one pod, a few,
/// two groups of unlike stake per pod (in both orders), a group too big to spare.
#[test]
fn pos_pdbs_keep_more_than_two_thirds_of_the_stake_in_every_shape() {
    let shapes: &[&[(u32, u32)]] = &[
        &[(1, 8)],
        &[(2, 4)],
        &[(4, 16)],
        &[(7, 2)],
        &[(3, 8), (2, 3)],
        &[(2, 3), (3, 8)],
        &[(1, 10), (5, 1)],
        &[(1, 1), (4, 4)],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let mut text = String::from(
            "network:\n  name: shape\n  chainId: 434310\n  genesisTimestamp: 1798761600\n  consensus:\n    proofOfStake:\n      preset: minimal\n      client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}\ngeth:\n  version: v1.17.10\nnodes:\n",
        );
        for (j, (replicas, per_pod)) in shape.iter().enumerate() {
            text.push_str(&format!(
                "  - name: v{j}\n    role: validator\n    replicas: {replicas}\n    validatorsPerPod: {per_pod}\n"
            ));
        }
        text.push_str("  - name: rpc\n    role: rpc\n    rpc:\n      http: true\n");
        let dir = scratch().join("pdb-shapes").join(i.to_string());
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, text).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        let docs = parse_docs(&render(&[&v, &s]));
        let stake = stake_per_pod(&read_yaml(&v));
        let mut groups = Vec::new();
        for (j, (replicas, per_pod)) in shape.iter().enumerate() {
            let sts = format!("shape-v{j}");
            // No PDB: the group may go whole.
            let min = of_kind(&docs, "PodDisruptionBudget")
                .into_iter()
                .find(|p| name(p) == sts)
                .map_or(0, |pdb| pdb["spec"]["minAvailable"].as_i64().unwrap());
            assert_eq!(stake[&sts], i64::from(*per_pod), "{sts}");
            groups.push(ValidatorGroupPdb {
                name: sts,
                replicas: i64::from(*replicas),
                allowed: i64::from(*replicas) - min,
                stake: i64::from(*per_pod),
            });
        }
        check_validator_pdbs(&format!("shape {shape:?}"), &groups);
    }
}
