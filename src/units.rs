//! Amounts written by people: ether (`1000 ether`, `5 gwei`, `42 wei` or a bare
//! integer in wei) and Kubernetes memory quantities (`512Mi`, `4Gi`, `1G`).

use ruint::aliases::U256;

use crate::config::{Balance, ResourceName};

/// The balance in wei, or why it is not a valid uint256 amount.
pub fn parse_balance(b: &Balance) -> Result<U256, String> {
    match b {
        Balance::Wei(n) => Ok(U256::from(*n)),
        Balance::Text(t) => parse_amount(t),
    }
}

fn parse_amount(text: &str) -> Result<U256, String> {
    let t = text.trim();
    let (number, decimals) = if let Some(n) = t.strip_suffix("gwei") {
        (n.trim(), 9u32)
    } else if let Some(n) = t.strip_suffix("ether") {
        (n.trim(), 18)
    } else if let Some(n) = t.strip_suffix("wei") {
        (n.trim(), 0)
    } else {
        (t, 0)
    };
    let shown = crate::diagnostics::excerpt(text);
    let text = shown.as_str();
    let bad = || {
        format!("`{text}` is not an amount; write an integer in wei or a number with a unit, e.g. `1000 ether`, `5 gwei`, `42 wei`")
    };
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() as u32 > decimals {
        return Err(format!(
            "`{text}` has more decimals than the unit allows (the smallest amount is 1 wei)"
        ));
    }
    let digits = format!(
        "{whole}{frac}{}",
        "0".repeat((decimals - frac.len() as u32) as usize)
    );
    U256::from_str_radix(&digits, 10).map_err(|_| {
        format!("`{text}` does not fit in a uint256 balance (the maximum is about 1.16e59 ether)")
    })
}

/// `gwei` in wei: deposits and the beacon chain count gwei, transactions carry wei.
pub fn wei_of_gwei(gwei: u64) -> U256 {
    U256::from(gwei) * U256::from(1_000_000_000u64)
}

/// `wei` in ether, exactly, without trailing zeros: `32`, `0.5`, `1.000000001`.
pub fn ether_text(wei: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18u8));
    let (whole, frac) = (wei / unit, wei % unit);
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!("{frac:0>18}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// A quantity of `resource`, in millicores (CPU) or bytes, or why it is none.
pub fn parse_resource(resource: ResourceName, quantity: &str) -> Result<u64, String> {
    match resource {
        ResourceName::Cpu => parse_cpu(quantity),
        ResourceName::Memory | ResourceName::EphemeralStorage => parse_memory(quantity),
    }
}

/// A Kubernetes CPU quantity in millicores (`500m`, `2`, `0.5`), or why it is not one.
pub fn parse_cpu(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a CPU quantity; write e.g. `500m` or `2` (cores)");
    if let Some(milli) = text.strip_suffix('m') {
        if milli.is_empty() || !milli.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        return milli.parse().map_err(|_| bad());
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let frac: u64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1000)
        .and_then(|m| m.checked_add(frac))
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A Kubernetes memory quantity in bytes (`512Mi`, `4Gi`, `1G`, `1500000000`), or
/// why it is not one. Fractions are allowed (`1.5Gi`); CPU-style `m` is not memory.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    const SUFFIXES: [(&str, u64); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    let bad = || format!("`{text}` is not a memory quantity; write e.g. `512Mi`, `4Gi` or `2G`");
    let (number, unit) = SUFFIXES
        .iter()
        .find_map(|(s, m)| text.strip_suffix(s).map(|n| (n, *m)))
        .unwrap_or((text, 1));
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty()
        || !whole.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || frac.len() > 9
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    let frac_bytes = (u128::from(frac_value) * u128::from(unit)) / 10u128.pow(frac.len() as u32);
    whole
        .checked_mul(unit)
        .and_then(|b| b.checked_add(frac_bytes as u64))
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ether_text_is_exact_and_short() {
        let wei = |n: u128| U256::from(n);
        assert_eq!(ether_text(wei(0)), "0");
        assert_eq!(ether_text(wei(32_000_000_000_000_000_000)), "32");
        assert_eq!(ether_text(wei(500_000_000_000_000_000)), "0.5");
        assert_eq!(ether_text(wei(1_000_000_001_000_000_000)), "1.000000001");
        assert_eq!(ether_text(wei(1)), "0.000000000000000001");
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_cpu("500m"), Ok(500));
        assert_eq!(parse_cpu("2"), Ok(2000));
        assert_eq!(parse_cpu("0.25"), Ok(250));
        for bad in ["", "m", "1.2345", "-1", "1e3", "two", "1.5m"] {
            assert!(parse_cpu(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_memory("512Mi"), Ok(512 << 20));
        assert_eq!(parse_memory("4Gi"), Ok(4 << 30));
        assert_eq!(parse_memory("1.5Gi"), Ok(3 << 29));
        assert_eq!(parse_memory("2G"), Ok(2_000_000_000));
        assert_eq!(parse_memory("1000"), Ok(1000));
        for bad in ["", "Gi", "1.5.1Gi", "500m", "-1Gi", "1 Gi", "20000000Ei"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
    }

    fn p(s: &str) -> Result<String, String> {
        parse_balance(&Balance::Text(s.into())).map(|v| v.to_string())
    }

    #[test]
    fn amounts() {
        assert_eq!(p("1 ether").unwrap(), "1000000000000000000");
        assert_eq!(p("1.5 gwei").unwrap(), "1500000000");
        assert_eq!(p("42").unwrap(), "42");
        assert_eq!(p(" 7 wei ").unwrap(), "7");
        assert_eq!(p("0.000000000000000001 ether").unwrap(), "1");
        assert!(p("0.1 wei").is_err());
        assert!(p("ten ether").is_err());
        assert!(p("1e18").is_err());
        assert!(p(&format!("{} ether", "9".repeat(60)))
            .unwrap_err()
            .contains("uint256"));
        assert_eq!(parse_balance(&Balance::Wei(5)).unwrap().to_string(), "5");
    }
}
