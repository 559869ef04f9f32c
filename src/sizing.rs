//! What each container of a pod asks of its node. Every container gets requests,
//! so the scheduler counts it and a busy node evicts it last; memory is limited, so
//! one leaking client cannot take its node down; CPU is not, because a CPU limit
//! throttles a node that is catching up exactly when it needs the cycles.
//!
//! The defaults fit a small node: a four-pod proof-of-stake network (three validator
//! pods and an rpc pod, ethstats on) asks for 1.1 CPU and 4 GiB of requests, and
//! measured on the live test, its clients use about a tenth of their memory limits.
//! A group's `resources` replaces them container by container, key by key.

use std::collections::BTreeMap;

use crate::config::{GroupResources, ResourceName, Resources, Role};

/// The containers a group's pods run, each sized on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Geth,
    /// The Prysm beacon node (proof of stake).
    Beacon,
    /// The Prysm validator client (proof-of-stake validator pods).
    Validator,
    /// The init steps before geth starts: `geth init`, key and config preparation.
    Init,
    /// Clique signer pods: the loop that votes the signer set toward the compiled one.
    VoteSigners,
}

impl GroupResources {
    /// What the group's file sets for `container` (nothing for the init steps).
    pub fn given(&self, container: Container) -> &Resources {
        static NONE: Resources = Resources {
            requests: BTreeMap::new(),
            limits: BTreeMap::new(),
        };
        match container {
            Container::Geth => &self.geth,
            Container::Beacon => &self.beacon,
            Container::Validator => &self.validator,
            Container::Init | Container::VoteSigners => &NONE,
        }
    }
}

/// One container's requests and limits.
struct Size {
    cpu_request: &'static str,
    memory_request: &'static str,
    memory_limit: &'static str,
}

fn default_size(role: Role, container: Container) -> Size {
    match (container, role) {
        // An rpc node serves users' calls: a larger geth cache (a quarter of the limit).
        (Container::Geth, Role::Rpc) => Size {
            cpu_request: "200m",
            memory_request: "512Mi",
            memory_limit: "4Gi",
        },
        (Container::Geth, _) => Size {
            cpu_request: "100m",
            memory_request: "256Mi",
            memory_limit: "2Gi",
        },
        (Container::Beacon, _) => Size {
            cpu_request: "100m",
            memory_request: "512Mi",
            memory_limit: "2Gi",
        },
        (Container::Validator, _) => Size {
            cpu_request: "50m",
            memory_request: "128Mi",
            memory_limit: "512Mi",
        },
        (Container::Init, _) => Size {
            cpu_request: "10m",
            memory_request: "64Mi",
            memory_limit: "1Gi",
        },
        // A shell loop that runs `geth attach` (about 60 MiB while it runs).
        (Container::VoteSigners, _) => Size {
            cpu_request: "10m",
            memory_request: "64Mi",
            memory_limit: "256Mi",
        },
    }
}

fn to_resources(size: &Size) -> Resources {
    Resources {
        requests: BTreeMap::from([
            (ResourceName::Cpu, size.cpu_request.into()),
            (ResourceName::Memory, size.memory_request.into()),
        ]),
        limits: BTreeMap::from([(ResourceName::Memory, size.memory_limit.into())]),
    }
}

/// The resources of `container` in a pod of a `role` group: the defaults, with
/// each key the group's `given` sets replaced.
pub fn container_resources(role: Role, container: Container, given: &Resources) -> Resources {
    let mut out = to_resources(&default_size(role, container));
    out.requests
        .extend(given.requests.iter().map(|(k, v)| (*k, v.clone())));
    out.limits
        .extend(given.limits.iter().map(|(k, v)| (*k, v.clone())));
    out
}

/// The ethstats server: a small Node.js process.
pub fn ethstats_resources() -> Resources {
    to_resources(&Size {
        cpu_request: "10m",
        memory_request: "64Mi",
        memory_limit: "256Mi",
    })
}

/// Each step of the rollout Job: one kubectl command.
pub fn rollout_resources() -> Resources {
    to_resources(&Size {
        cpu_request: "10m",
        memory_request: "32Mi",
        memory_limit: "128Mi",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_key_replaces_only_that_default() {
        let given = Resources {
            requests: BTreeMap::from([(ResourceName::Memory, "1Gi".to_string())]),
            limits: BTreeMap::from([(ResourceName::Cpu, "2".to_string())]),
        };
        let r = container_resources(Role::Validator, Container::Beacon, &given);
        assert_eq!(r.requests[&ResourceName::Memory], "1Gi");
        assert_eq!(r.requests[&ResourceName::Cpu], "100m");
        assert_eq!(r.limits[&ResourceName::Memory], "2Gi");
        assert_eq!(r.limits[&ResourceName::Cpu], "2");
    }

    #[test]
    fn every_container_has_requests_and_a_memory_limit() {
        for role in [
            Role::Signer,
            Role::Validator,
            Role::Bootnode,
            Role::Rpc,
            Role::Full,
        ] {
            for c in [
                Container::Geth,
                Container::Beacon,
                Container::Validator,
                Container::Init,
                Container::VoteSigners,
            ] {
                let r = container_resources(role, c, &Resources::default());
                assert!(
                    r.requests.contains_key(&ResourceName::Cpu),
                    "{role:?} {c:?}"
                );
                assert!(
                    r.requests.contains_key(&ResourceName::Memory),
                    "{role:?} {c:?}"
                );
                assert!(
                    r.limits.contains_key(&ResourceName::Memory),
                    "{role:?} {c:?}"
                );
            }
        }
    }
}
