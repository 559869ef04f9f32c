//! Makes emitted YAML read the same in every YAML parser.
//!
//! The emitter leaves `0x2cC8…` (an address) and `1e5…`-like hex strings plain.
//! YAML 1.1 parsers (PyYAML, older Go YAML) read such plain scalars as numbers, so
//! an address would arrive as a huge integer. Quoting them removes the ambiguity.

/// Single-quotes plain mapping values and sequence items that some YAML parser could
/// read as a number.
pub fn quote_ambiguous(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    // Indentation of the line that opened a block scalar (`|`), while inside it.
    let mut block: Option<usize> = None;
    for line in yaml.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        if let Some(b) = block {
            if body.trim().is_empty() || indent > b {
                out.push_str(line);
                continue;
            }
            block = None;
        }
        let content = &body[indent..];
        let item = content.strip_prefix("- ").unwrap_or(content);
        // A sequence item that is a scalar (a public key in a list).
        let bare_item = (item.len() < content.len() && !item.contains(": ") && looks_numeric(item))
            .then(|| format!("{}- '{item}'", &body[..indent]));
        let rebuilt = bare_item.or_else(|| {
            item.find(": ").and_then(|i| {
                let (key, value) = (&item[..i], &item[i + 2..]);
                let plain_key = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
                (plain_key && looks_numeric(value)).then(|| {
                    format!(
                        "{}{}{key}: '{value}'",
                        &body[..indent],
                        &content[..content.len() - item.len()]
                    )
                })
            })
        });
        let opens_block = ["|", "|-", "|+", ">", ">-", ">+"]
            .iter()
            .any(|m| body.ends_with(&format!(" {m}")) || body.ends_with(&format!(":{m}")));
        if opens_block {
            block = Some(indent + usize::from(content.starts_with("- ")) * 2);
        }
        match rebuilt {
            Some(r) => {
                out.push_str(&r);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

/// A plain scalar some YAML 1.1/1.2 resolver would take as a number.
fn looks_numeric(v: &str) -> bool {
    if let Some(hex) = v.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    v.chars().any(|c| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_digit() || "eE.+-_".contains(c))
        && v.parse::<f64>().is_ok()
        && v.len() > 15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_addresses_not_blocks() {
        let y = "a:\n  signerAddress: 0x2cC8260081228D92D025bA837571923205CBA5e0\n  n: 5\n  t: |\n    x: 0xab\n    - 0xcd\nl:\n- address: 0xAB\nk: 1234567890123456e12\np:\n  - 0xa212\n  - name\n  - 7\n";
        let q = quote_ambiguous(y);
        assert!(q.contains("signerAddress: '0x2cC8260081228D92D025bA837571923205CBA5e0'"));
        assert!(q.contains("  n: 5\n"));
        assert!(q.contains("    x: 0xab\n"), "block scalars are text: {q}");
        assert!(q.contains("\n- address: '0xAB'"));
        assert!(q.contains("k: '1234567890123456e12'"));
        assert!(q.contains("    - 0xcd\n"), "block scalars are text: {q}");
        assert!(q.contains("  - '0xa212'\n  - name\n  - 7\n"), "{q}");
        let parsed: serde_json::Value = serde_norway::from_str(&q).unwrap();
        assert_eq!(
            parsed["a"]["signerAddress"],
            "0x2cC8260081228D92D025bA837571923205CBA5e0"
        );
    }
}
