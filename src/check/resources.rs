//! A group's `resources`: quantities Kubernetes reads, no request above its limit
//! (the API server refuses the pod), and no size for a container the group's pods
//! do not run.

use crate::config::{Consensus, NetworkFile, NodeGroup, ResourceName, Role};
use crate::sizing::{container_resources, Container};
use crate::units::parse_resource;

use super::findings::Findings;

/// Checks `g`'s resources, each reported at `at(path under resources)`. geth's
/// memory limit in bytes (which sizes its cache) when every geth quantity parsed.
pub(super) fn rules(
    cfg: &NetworkFile,
    g: &NodeGroup,
    at: &dyn Fn(&str) -> String,
    f: &mut Findings,
) -> Option<u64> {
    let pos = matches!(cfg.network.consensus, Consensus::ProofOfStake(_));
    let mut geth_memory_limit = None;
    for (name, container, runs) in [
        ("geth", Container::Geth, true),
        ("beacon", Container::Beacon, pos),
        (
            "validator",
            Container::Validator,
            pos && g.role == Role::Validator,
        ),
    ] {
        let given = g.resources.given(container);
        if !runs {
            if given != &crate::config::Resources::default() {
                f.warning(&at(&format!("/{name}")), format!(
                    "a `{}` pod of this network runs no {name} container; this setting does nothing",
                    g.role.as_str()
                ));
            }
            continue;
        }
        let mut parsed_ok = true;
        for (kind, quantities) in [("requests", &given.requests), ("limits", &given.limits)] {
            for (resource, q) in quantities {
                if let Err(e) = parse_resource(*resource, q) {
                    parsed_ok = false;
                    let key = resource.as_str();
                    f.error(&at(&format!("/{name}/{kind}/{key}")), e);
                }
            }
        }
        if !parsed_ok {
            continue;
        }
        // Compare what the pod will ask for: the defaults with the file's keys over them.
        let size = container_resources(g.role, container, given);
        for (resource, limit) in &size.limits {
            let limit_value = parse_resource(*resource, limit).ok();
            if container == Container::Geth && *resource == ResourceName::Memory {
                geth_memory_limit = limit_value;
            }
            let Some(request) = size.requests.get(resource) else {
                continue;
            };
            if parse_resource(*resource, request).ok() > limit_value {
                let key = resource.as_str();
                let which = if given.limits.contains_key(resource) {
                    "limits"
                } else {
                    "requests"
                };
                f.error(&at(&format!("/{name}/{which}/{key}")), format!(
                    "{name} would request {request} of {key} but be limited to {limit}; Kubernetes refuses a request above its limit: raise `limits.{key}` or lower `requests.{key}`"
                ));
            }
        }
    }
    geth_memory_limit
}
