//! Ether amounts: `1000 ether`, `5 gwei`, `42 wei` or a bare integer in wei.

use ruint::aliases::U256;

use crate::config::Balance;

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

#[cfg(test)]
mod tests {
    use super::*;

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
