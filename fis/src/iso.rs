//! ISO 8601 durations as FIS writes them (`PT5M`, `PT1H30M`, `PT45S`): whole seconds,
//! hours-minutes-seconds only, since FIS durations never reach days.

use std::time::Duration;

/// Formats `d` (rounded up to whole seconds, as FIS cannot express less) as `PT..H..M..S`.
pub fn format(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    if secs == 0 {
        return "PT0S".into();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out += &format!("{h}H");
    }
    if m > 0 {
        out += &format!("{m}M");
    }
    if s > 0 {
        out += &format!("{s}S");
    }
    out
}

/// Parses what [`format`] writes (any of `H`, `M`, `S` present, in that order).
pub fn parse(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix("PT")?;
    if rest.is_empty() {
        return None;
    }
    let mut secs = 0u64;
    let mut number = String::new();
    let mut last_unit = 0;
    for c in rest.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, scale) = match c {
            'H' => (1, 3600),
            'M' => (2, 60),
            'S' => (3, 1),
            _ => return None,
        };
        if rank <= last_unit || number.is_empty() {
            return None;
        }
        last_unit = rank;
        secs = secs.checked_add(number.parse::<u64>().ok()?.checked_mul(scale)?)?;
        number.clear();
    }
    number.is_empty().then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_back() {
        for (secs, text) in [
            (0, "PT0S"),
            (45, "PT45S"),
            (300, "PT5M"),
            (5400, "PT1H30M"),
            (43_200, "PT12H"),
            (3661, "PT1H1M1S"),
        ] {
            assert_eq!(format(Duration::from_secs(secs)), text);
            assert_eq!(parse(text), Some(Duration::from_secs(secs)));
        }
        assert_eq!(format(Duration::from_millis(1500)), "PT2S");
        for bad in ["", "PT", "P1D", "PT5", "PT1M1H", "5M", "PTxM"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
