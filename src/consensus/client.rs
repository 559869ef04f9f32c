//! The consensus client releases a network can run, in one table like geth's.

use std::fmt;

use crate::version::Version;

/// A Prysm release, parsed from an image tag like `v7.1.2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrysmVersion(Version);

/// Prysm releases this compiler has checked. Fulu arrived in v7.0.0; releases
/// after the newest checked are refused until their flags and config keys are.
const PRYSM_FIRST: Version = Version::new(7, 0, 0);
const PRYSM_LAST: Version = Version::new(7, 1, 2);

impl PrysmVersion {
    /// An exact release tag within the checked range.
    pub fn parse(tag: &str) -> Result<Self, String> {
        let v = Version::parse_tag(tag, "Prysm", "v7.1.2")?;
        if v < PRYSM_FIRST {
            return Err(format!(
                "Prysm {v} predates Fulu, which every network here runs or schedules; use {PRYSM_FIRST} to {PRYSM_LAST}"
            ));
        }
        if v > PRYSM_LAST {
            return Err(format!(
                "Prysm {v} is newer than the newest release this compiler has checked; use {PRYSM_FIRST} to {PRYSM_LAST}"
            ));
        }
        Ok(Self(v))
    }
}

impl fmt::Display for PrysmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prysm_range() {
        assert_eq!(PrysmVersion::parse("v7.1.2").unwrap().to_string(), "v7.1.2");
        assert!(PrysmVersion::parse("v7.0.0").is_ok());
        assert!(PrysmVersion::parse("v6.1.4")
            .unwrap_err()
            .contains("predates Fulu"));
        assert!(PrysmVersion::parse("v7.1.3")
            .unwrap_err()
            .contains("newest"));
        assert!(PrysmVersion::parse("latest").unwrap_err().contains("Prysm"));
    }
}
