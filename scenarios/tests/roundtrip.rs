//! Writing a scenario and reading it back gives the same scenario.

use std::path::Path;
use std::time::Duration;

use gameday_scenario::strategy::{arb_scenario, proptest_cases};
use gameday_scenario::{FaultKind, Target, parse, to_toml};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(128)))]

    #[test]
    fn parse_of_to_toml_is_identity(s in arb_scenario()) {
        let text = to_toml(&s);
        let back = parse(&text, Path::new("generated.toml"));
        prop_assert!(back.is_ok(), "{}\n---\n{text}", back.unwrap_err());
        prop_assert_eq!(back.unwrap(), s);
    }
}

#[test]
fn fixtures_survive_a_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["baseline.toml", "extraction-throttling.toml", "every-fault.toml"] {
        let s = gameday_scenario::load(&dir.join(name)).unwrap();
        assert_eq!(parse(&to_toml(&s), Path::new(name)).unwrap(), s, "{name}");
    }
}

#[test]
fn fixture_values_and_defaults_are_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let s = gameday_scenario::load(&dir.join("every-fault.toml")).unwrap();
    assert_eq!(s.duration, Duration::from_secs(5400));
    assert_eq!(s.seed, 7);
    assert_eq!(s.workload, gameday_scenario::Workload::default());
    assert_eq!(s.policy.budget.capacity, 100);
    // A table that sets one key keeps the other defaults.
    assert_eq!(s.policy.budget.retry_cost, 5);
    let slow = s.policy.breaker.slow_call.as_ref().unwrap();
    assert_eq!((slow.threshold, slow.rate), (Duration::from_secs(2), 0.5));
    let kinds: Vec<_> = s.faults.iter().map(|f| f.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "throttle",
            "error",
            "latency",
            "hang",
            "malformed",
            "crash",
            "partition"
        ]
    );
    assert_eq!(
        s.faults[1].kind,
        FaultKind::Error {
            rate: 1.0,
            status: 500
        }
    );
    assert_eq!(
        s.faults[2].kind,
        FaultKind::Latency {
            delay: Duration::from_millis(800),
            jitter: Duration::from_millis(200)
        }
    );
    assert_eq!(s.faults[5].target, Target::Orchestrator);
    assert_eq!(s.faults[6].duration, Duration::from_secs(90));

    let b = gameday_scenario::load(&dir.join("baseline.toml")).unwrap();
    assert_eq!(b.seed, 42);
    assert!(b.faults.is_empty());
    assert_eq!(b.policy, Default::default());
    assert_eq!(b.expect.min_matched_ratio, Some(0.85));
    assert_eq!(b.expect.detect_within, None);
}
