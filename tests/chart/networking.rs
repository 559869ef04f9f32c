//! Networking: Services, ports, enodes, network ids, beacon peers, RPC hosts and modules.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::args::flag;
use crate::support::{
    container, container_ports, containers, examples, geth_container, kind, name, network_name,
    node_groups, object, of_kind, pods, pos_examples, rendered_toml, selects, str_map, strings,
    NAMESPACE,
};

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
