//! JUnit XML for CI systems: one test case per scenario and seed.
//!
//! A failed run's `<failure>` carries the failed checks as its message and the replay
//! command in its body, so the CI page says both what broke and how to reproduce it.

use std::fmt::Write as _;

use super::SweepResult;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            // Control characters other than tab are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The sweep as a JUnit XML document: a `testsuite` per scenario, a `testcase` per seed.
pub fn to_junit(result: &SweepResult) -> String {
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        x,
        r#"<testsuites name="gameday sweep" tests="{}" failures="{}">"#,
        result.runs(),
        result.failed()
    );
    for s in &result.scenarios {
        let name = escape(&s.scenario);
        let _ = writeln!(
            x,
            r#"  <testsuite name="{name}" tests="{}" failures="{}">"#,
            s.summary.runs, s.summary.failed
        );
        for r in &s.runs {
            let _ = write!(
                x,
                r#"    <testcase classname="gameday.sweep.{name}" name="seed {}""#,
                r.seed
            );
            if r.pass {
                let _ = writeln!(x, "/>");
            } else {
                let message = escape(&r.failed_checks.join("; "));
                let _ = writeln!(x, ">");
                let _ = writeln!(
                    x,
                    r#"      <failure message="{message}" type="gameday">replay: {}</failure>"#,
                    escape(&r.replay)
                );
                let _ = writeln!(x, "    </testcase>");
            }
        }
        let _ = writeln!(x, "  </testsuite>");
    }
    let _ = writeln!(x, "</testsuites>");
    x
}

#[cfg(test)]
mod tests {
    use super::super::tests::seed_run;
    use super::super::{FORMAT_VERSION, ScenarioSweep, Summary};
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("x\ny\u{1}"), "x&#10;y\u{FFFD}");
    }

    #[test]
    fn one_case_per_seed_with_failures_and_replays() {
        let runs = vec![
            seed_run(0, true, None, 1.0),
            seed_run(1, false, None, 2.0),
            seed_run(2, true, None, 3.0),
        ];
        let result = SweepResult {
            version: FORMAT_VERSION,
            engine: "fast".into(),
            seeds: 3,
            shards: None,
            scenarios: vec![ScenarioSweep {
                scenario: "a<b".into(),
                file: None,
                first_seed: 100,
                summary: Summary::of(&runs),
                runs,
            }],
        };
        let xml = to_junit(&result);
        assert!(
            xml.contains(r#"<testsuites name="gameday sweep" tests="3" failures="1">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="a&lt;b" tests="3" failures="1">"#),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("<failure ").count(), 1);
        assert!(xml.contains(r#"name="seed 101">"#), "{xml}");
        assert!(
            xml.contains(r#"message="p99_latency: expected &lt;= 1ms, observed 40ms""#),
            "{xml}"
        );
        assert!(
            xml.contains("replay: gameday run s.toml --seed 101 --engine fast</failure>"),
            "{xml}"
        );
        assert!(!xml.contains("a<b"), "unescaped name: {xml}");
    }
}
