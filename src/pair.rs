//! `values.yaml` and `secrets.values.yaml` as one unit.
//!
//! The two files are written one after the other, so a crash, a full disk or a
//! foreign file in the way can leave one new and one old. Both carry the same
//! generation, a digest of what both hold, so a pair that does not belong
//! together is recognised: by the next compile (it warns, then writes both) and by
//! the chart (it refuses to render). The digest reveals nothing of the keys: they
//! are random 128- and 256-bit values.

use sha2::{Digest, Sha256};

use crate::values::{ChartValues, PrivateValues};

/// Domain separation, so the digest never equals any other hash of these bytes.
const DOMAIN: &[u8] = b"kuberneteth/generation/v1\0";

/// Serializes both values with their shared generation set: first without it, to
/// hash, then with it. Deterministic, like everything else in the outputs.
pub fn stamp(
    public: &mut ChartValues,
    private: &mut PrivateValues,
) -> Result<(String, String), serde_norway::Error> {
    public.generation.clear();
    private.secrets.generation.clear();
    let mut digest = Sha256::new();
    digest.update(DOMAIN);
    digest.update(to_yaml(public)?);
    digest.update(b"\0");
    digest.update(to_yaml(private)?);
    let generation = hex::encode(digest.finalize());
    public.generation = generation.clone();
    private.secrets.generation = generation;
    Ok((to_yaml(public)?, to_yaml(private)?))
}

/// YAML that reads the same in every parser (see `yamlout`).
pub fn to_yaml<T: serde::Serialize>(v: &T) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(v).map(|y| crate::yamlout::quote_ambiguous(&y))
}

/// Whether an existing private values text belongs to `public`: the generation
/// of both, when they differ. Files from before generations existed have none and
/// are not judged.
pub fn mismatch(public: &ChartValues, private_text: &str) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Private {
        secrets: Generation,
    }
    #[derive(serde::Deserialize)]
    struct Generation {
        #[serde(default)]
        generation: String,
    }
    let private: Private = serde_norway::from_str(private_text).ok()?;
    let (a, b) = (&public.generation, &private.secrets.generation);
    (!a.is_empty() && a != b).then(|| (a.clone(), b.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_carry_one_generation_that_follows_the_content() {
        let (mut public, mut private) = (ChartValues::default(), PrivateValues::default());
        let (p1, s1) = stamp(&mut public, &mut private).unwrap();
        let first = public.generation.clone();
        assert_eq!(first.len(), 64);
        assert!(p1.contains(&first) && s1.contains(&first));
        assert_eq!(mismatch(&public, &s1), None);
        private.secrets.ethstats_secret = "other".into();
        let (_, s2) = stamp(&mut public, &mut private).unwrap();
        assert_ne!(public.generation, first);
        let mut old_public = public.clone();
        old_public.generation = first;
        assert!(mismatch(&old_public, &s2).is_some());
    }
}
