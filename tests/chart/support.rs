//! Shared helpers: render with Helm, compile the examples, find objects, run `prepare`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

pub(crate) const RELEASE: &str = "devnet";
pub(crate) const NAMESPACE: &str = "default";
/// Test-only master secret (public): makes compiled examples byte-identical across runs.
const TEST_MASTER_SECRET: &str = "6b7562657264657465746820636861727420746573747320676f6c64656e2121";

/// The partition a coordinated group's StatefulSet holds between rollouts.
pub(crate) const ROLLOUT_HOLD: i64 = 2_147_483_647;

pub(crate) fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn chart_dir() -> PathBuf {
    top().join("chart")
}

pub(crate) fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chart-tests")
}

// ---------------------------------------------------------------------------------
// Helm

pub(crate) fn helm() -> &'static str {
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
pub(crate) fn try_render(values: &[&Path]) -> Result<String, String> {
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

pub(crate) fn render(values: &[&Path]) -> String {
    try_render(values).unwrap_or_else(|e| panic!("helm template {values:?} failed:\n{e}"))
}

/// The rendered objects, in order.
pub(crate) fn parse_docs(manifest: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(manifest) {
        let v = Value::deserialize(doc).expect("rendered YAML parses");
        if !v.is_null() {
            docs.push(v);
        }
    }
    docs
}

pub(crate) fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or("")
}

pub(crate) fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

pub(crate) fn of_kind<'a>(docs: &'a [Value], k: &str) -> Vec<&'a Value> {
    docs.iter().filter(|o| kind(o) == k).collect()
}

pub(crate) fn str_map(v: &Value) -> BTreeMap<String, String> {
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
pub(crate) struct Example {
    pub(crate) name: String,
    pub(crate) values: PathBuf,
    pub(crate) secrets: PathBuf,
    /// Compiled from values/<name>.yaml (as opposed to a hand-made fixture).
    pub(crate) compiled: bool,
    /// The network file it was compiled from, and the compiler's secrets file.
    pub(crate) source: Option<(PathBuf, PathBuf)>,
}

impl Example {
    pub(crate) fn files(&self) -> [&Path; 2] {
        [&self.values, &self.secrets]
    }
    pub(crate) fn public(&self) -> Value {
        read_yaml(&self.values)
    }
    pub(crate) fn private(&self) -> Value {
        read_yaml(&self.secrets)
    }
    pub(crate) fn render(&self) -> Vec<Value> {
        parse_docs(&render(&self.files()))
    }
    /// The objects the compiler wrote to apply beside the release
    /// (`largeObjects: separate`; none otherwise).
    pub(crate) fn separate_objects(&self) -> Vec<Value> {
        let dir = self.values.parent().unwrap().join("objects");
        let mut docs = Vec::new();
        for file in ["genesis-state.yaml", "validator-keys.yaml"] {
            if let Ok(text) = fs::read_to_string(dir.join(file)) {
                docs.extend(parse_docs(&text));
            }
        }
        docs
    }
    /// What the cluster holds once the network is installed as the README says:
    /// the separate objects, then the release's.
    pub(crate) fn installed(&self) -> Vec<Value> {
        let mut docs = self.separate_objects();
        docs.extend(self.render());
        docs
    }
}

pub(crate) fn read_yaml(p: &Path) -> Value {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", p.display()))
}

pub(crate) fn write_json(p: &Path, v: &Value) {
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
pub(crate) fn compile(config: &Path, dir: &Path) -> (PathBuf, PathBuf) {
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

pub(crate) fn examples() -> &'static [Example] {
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
pub(crate) fn pos_examples() -> Vec<&'static Example> {
    let pos: Vec<&Example> = examples()
        .iter()
        .filter(|e| e.public()["proofOfStake"].is_object())
        .collect();
    assert!(!pos.is_empty(), "no proof-of-stake example");
    pos
}

/// The proof-of-stake example of the given name.
pub(crate) fn pos_example(n: &str) -> &'static Example {
    pos_examples()
        .into_iter()
        .find(|e| e.name == n)
        .unwrap_or_else(|| panic!("no proof-of-stake example {n}"))
}

/// The default network: values/kuberneteth.yaml compiled.
pub(crate) fn default_example() -> &'static Example {
    examples()
        .iter()
        .find(|e| e.compiled && e.name == "kuberneteth")
        .expect("values/kuberneteth.yaml compiled")
}

/// `kuberneteth-values export` of a compiled proof-of-stake example (same network
/// file, same master secret): its consensus/config.yaml and consensus/genesis.ssz.
pub(crate) fn exported_consensus(ex: &Example) -> (String, Vec<u8>) {
    let dir = export_dir(ex);
    (
        fs::read_to_string(dir.join("consensus/config.yaml")).unwrap(),
        fs::read(dir.join("consensus/genesis.ssz")).unwrap(),
    )
}

/// A validator pod's wallet as `export` writes it: its password, and its files by
/// path under the wallet folder.
pub(crate) fn exported_wallet(ex: &Example, pod: &str) -> (String, BTreeMap<String, Vec<u8>>) {
    let node = export_dir(ex).join("nodes").join(pod).join("validator");
    let password = fs::read_to_string(node.join("wallet-password")).unwrap();
    let mut files = BTreeMap::new();
    let mut stack = vec![node.join("wallet")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(node.join("wallet")).unwrap();
                files.insert(rel.to_string_lossy().into_owned(), fs::read(&p).unwrap());
            }
        }
    }
    (password, files)
}

/// The folder `kuberneteth-values export` of a compiled example wrote (once per run).
fn export_dir(ex: &Example) -> PathBuf {
    static DONE: OnceLock<std::sync::Mutex<BTreeSet<String>>> = OnceLock::new();
    let mut done = DONE.get_or_init(Default::default).lock().unwrap();
    let dir = scratch().join("export").join(ex.name.replace(':', "_"));
    if done.contains(&ex.name) {
        return dir;
    }
    let (config, secrets) = ex.source.as_ref().expect("a compiled example");
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
    done.insert(ex.name.clone());
    dir
}

// ---------------------------------------------------------------------------------
// Pods the cluster would create from the rendered workloads

pub(crate) struct PodModel<'a> {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) spec: &'a Value,
    pub(crate) owner: String,
}

pub(crate) fn pods(docs: &[Value]) -> Vec<PodModel<'_>> {
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

pub(crate) fn selects(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Every pod spec and workload template: (where, spec).
pub(crate) fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
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

pub(crate) fn containers(spec: &Value) -> Vec<&Value> {
    let mut v = Vec::new();
    for key in ["initContainers", "containers"] {
        if let Some(a) = spec[key].as_array() {
            v.extend(a.iter());
        }
    }
    v
}

/// Writes an executable stand-in for the tool `name` into `bin` (created if needed).
pub(crate) fn install_fake(bin: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(bin).unwrap();
    let path = bin.join(name);
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The rendered object of kind `k` named `n`.
pub(crate) fn object<'a>(docs: &'a [Value], k: &str, n: &str) -> &'a Value {
    docs.iter()
        .find(|o| kind(o) == k && name(o) == n)
        .unwrap_or_else(|| panic!("no {k} {n} rendered"))
}

pub(crate) fn node_groups(public: &Value) -> &Vec<Value> {
    public["nodeGroups"].as_array().unwrap()
}

pub(crate) fn network_name(public: &Value) -> &str {
    public["network"]["name"].as_str().unwrap()
}

/// A group's geth TOML as its pods read it (from the rendered ConfigMap), as JSON.
pub(crate) fn rendered_toml(docs: &[Value], net: &str, group: &str) -> Value {
    let cm = object(docs, "ConfigMap", &format!("{net}-{group}-config"));
    let text = cm["data"]["config.toml"].as_str().unwrap();
    let parsed: toml::Value =
        toml::from_str(text).unwrap_or_else(|e| panic!("{net}-{group} TOML: {e}\n{text}"));
    serde_json::to_value(parsed).unwrap()
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The geth container of a group's StatefulSet.
pub(crate) fn geth_container<'a>(docs: &'a [Value], net: &str, group: &str) -> &'a Value {
    &object(docs, "StatefulSet", &format!("{net}-{group}"))["spec"]["template"]["spec"]
        ["containers"][0]
}

/// A container of a group's StatefulSet, by name.
/// The init container `name` of a pod spec.
pub(crate) fn init_container<'a>(spec: &'a Value, name: &str) -> &'a Value {
    spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no init container {name}"))
}

pub(crate) fn container<'a>(docs: &'a [Value], net: &str, group: &str, c: &str) -> &'a Value {
    object(docs, "StatefulSet", &format!("{net}-{group}"))["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == c)
        .unwrap_or_else(|| panic!("{net}-{group} has no container {c}"))
}

/// A container's ports by name: (port, protocol).
pub(crate) fn container_ports(c: &Value) -> BTreeMap<String, (i64, String)> {
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
// Base64, as Secrets hold their data

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
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

pub(crate) fn base64(data: &[u8]) -> String {
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

pub(crate) struct PrepareRun {
    pub(crate) status: std::process::ExitStatus,
    pub(crate) stderr: String,
    pub(crate) run: PathBuf,
    /// Stands for /var/lib/kuberneteth (the unpacked genesis state, proof of stake).
    pub(crate) var: PathBuf,
    _dir: tempfile::TempDir,
}

/// The script a container runs as its pod would: its command is `/bin/sh <file>`, and the
/// file is a key of the ConfigMap mounted over that path (the `<network>-scripts`
/// ConfigMap, whose keys are the chart's files/*.sh). Returns the script's text and the
/// container's `args` (the script's arguments).
pub(crate) fn container_script(docs: &[Value], spec: &Value, c: &Value) -> (String, Vec<String>) {
    let command = strings(&c["command"]);
    let [sh, file] = command.as_slice() else {
        panic!("{}: command {command:?} is not `/bin/sh <file>`", c["name"]);
    };
    assert_eq!(sh, "/bin/sh", "{}", c["name"]);
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            file.strip_prefix(m["mountPath"].as_str().unwrap())
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .unwrap_or_else(|| panic!("{}: {file} is on no volume it mounts", c["name"]));
    let key = &file[mount["mountPath"].as_str().unwrap().len() + 1..];
    let volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap_or_else(|| panic!("no volume {}", mount["name"]));
    let cm = volume["configMap"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {file} is not on a ConfigMap", c["name"]));
    let text = object(docs, "ConfigMap", cm)["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {cm} has no {key}"))
        .to_string();
    let args = if c["args"].is_null() {
        Vec::new()
    } else {
        strings(&c["args"])
    };
    (text, args)
}

/// A container's environment variables with a literal value, in order.
pub(crate) fn container_env(c: &Value) -> Vec<(String, String)> {
    c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Runs a group's `prepare` init step for `pod`, with peers resolving to 10.96.0.<10+i>
/// (except those in `unresolvable`).
pub(crate) fn run_prepare(
    ex: &Example,
    group: &str,
    pod: &str,
    unresolvable: &[&str],
) -> PrepareRun {
    let docs = ex.render();
    let installed = ex.installed();
    let public = ex.public();
    let net = network_name(&public);
    let sts = object(&docs, "StatefulSet", &format!("{net}-{group}"));
    let spec = &sts["spec"]["template"]["spec"];
    let prepare = init_container(spec, "prepare");
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
        // (kind, name, items) of each source: a Secret, a ConfigMap, or a projection
        // of several, each with all its keys or only the listed ones.
        let mut sources: Vec<(&str, &str, &Value)> = Vec::new();
        if let Some(n) = volume["secret"]["secretName"].as_str() {
            sources.push(("Secret", n, &Value::Null));
        } else if let Some(n) = volume["configMap"]["name"].as_str() {
            sources.push(("ConfigMap", n, &Value::Null));
        } else {
            for src in volume["projected"]["sources"].as_array().unwrap() {
                for k in ["secret", "configMap"] {
                    if let Some(n) = src[k]["name"].as_str() {
                        let kind = if k == "secret" { "Secret" } else { "ConfigMap" };
                        sources.push((kind, n, &src[k]["items"]));
                    }
                }
            }
        }
        let dir = etc.join(under);
        for (kind, source_name, items) in sources {
            let source = object(&installed, kind, source_name);
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            for (key, value) in source["data"].as_object().into_iter().flatten() {
                let value = value.as_str().unwrap();
                let bytes = if kind == "Secret" {
                    base64_decode(value)
                } else {
                    value.as_bytes().to_vec()
                };
                files.push((key.clone(), bytes));
            }
            for (key, value) in source["binaryData"].as_object().into_iter().flatten() {
                files.push((key.clone(), base64_decode(value.as_str().unwrap())));
            }
            for (key, bytes) in files {
                let path = match items.as_array() {
                    None => key,
                    Some(items) => match items.iter().find(|i| i["key"] == key.as_str()) {
                        Some(i) => i["path"].as_str().unwrap().to_string(),
                        None => continue,
                    },
                };
                let file = dir.join(path);
                fs::create_dir_all(file.parent().unwrap()).unwrap();
                fs::write(file, bytes).unwrap();
                mounted += 1;
            }
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

    // The script file of the `<network>-scripts` ConfigMap the step runs, and its
    // environment, with the pod's paths moved into this test's folder.
    let at_home = |text: &str| {
        text.replace("/etc/resolv.conf", &d.join("resolv.conf").to_string_lossy())
            .replace("/run/kuberneteth", &run.to_string_lossy())
            .replace("/var/lib/kuberneteth", &var.to_string_lossy())
            .replace("/etc/kuberneteth", &etc.to_string_lossy())
    };
    let (script, args) = container_script(&docs, spec, prepare);
    let script_file = d.join("prepare.sh");
    fs::write(&script_file, at_home(&script)).unwrap();
    let mut cmd = Command::new(shell());
    if cmd.get_program() == "busybox" {
        cmd.arg("sh");
    }
    cmd.arg(&script_file).args(args);
    for (k, v) in container_env(prepare) {
        cmd.env(k, at_home(&v));
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

/// SHA-256 as lowercase hex, as `sha256sum` prints it.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
