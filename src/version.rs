//! Release versions of the clients a network runs, as their image tags name them.

use std::fmt;

/// A release `vMAJOR.MINOR.PATCH`, ordered as releases are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses an exact release tag of `program`; errors show `example`. Floating
    /// tags (`stable`, `latest`) are refused: they would make an upgrade (and a
    /// rollback) depend on when the image was pulled.
    pub fn parse_tag(tag: &str, program: &str, example: &str) -> Result<Self, String> {
        let body = tag.strip_prefix('v').ok_or_else(|| {
            format!("`{}` is not a release tag; use an exact {program} release such as `{example}` (floating tags make upgrades unreproducible)", crate::diagnostics::excerpt(tag))
        })?;
        // Digits only, no leading zeros: `+5`, `015` or `01` parse as numbers but are
        // no tag a project publishes, and normalising them would hide a typo.
        let number = |p: &str| {
            let canonical = p.bytes().all(|b| b.is_ascii_digit())
                && !p.is_empty()
                && (p == "0" || !p.starts_with('0'));
            canonical.then(|| p.parse::<u32>().ok()).flatten()
        };
        let nums: Option<Vec<u32>> = body.split('.').map(number).collect();
        match nums.as_deref() {
            Some([major, minor, patch]) => Ok(Self::new(*major, *minor, *patch)),
            _ => Err(format!(
                "`{}` is not a release tag; use the form vMAJOR.MINOR.PATCH, e.g. `{example}`",
                crate::diagnostics::excerpt(tag)
            )),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}
