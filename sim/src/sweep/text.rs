//! The sweep for people: per scenario the pass rate and the spread over seeds, then every
//! failing seed with the command that replays it.

use std::fmt::Write as _;

use super::{Distribution, ScenarioSweep, SweepResult};

impl SweepResult {
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for sc in &self.scenarios {
            write_scenario(&mut s, sc, self.seeds);
        }
        let shards = match &self.shards {
            None => String::new(),
            Some(set) => {
                let list: Vec<String> = set.indices.iter().map(|k| format!("{k}/{}", set.count)).collect();
                format!(" (shard {})", list.join(", "))
            }
        };
        let _ = writeln!(
            s,
            "sweep{shards}: {} scenario{}, {} runs, {} passed, {} failed ({} engine)",
            self.scenarios.len(),
            if self.scenarios.len() == 1 { "" } else { "s" },
            self.runs(),
            self.runs() - self.failed(),
            self.failed(),
            self.engine
        );
        s
    }
}

fn write_scenario(s: &mut String, sc: &ScenarioSweep, seeds: u64) {
    let m = &sc.summary;
    let mark = if m.failed == 0 { "PASS" } else { "FAIL" };
    let last = sc.first_seed.saturating_add(seeds.saturating_sub(1));
    let _ = writeln!(
        s,
        "{mark} {}  {}/{} runs passed ({:.1}%), seeds {}..={last}",
        sc.scenario,
        m.passed,
        m.runs,
        m.pass_rate * 100.0,
        sc.first_seed
    );
    let _ = writeln!(
        s,
        "  {:<18} {:>9} {:>9} {:>9} {:>9}  runs",
        "over seeds", "p50", "p90", "p99", "max"
    );
    row(s, "MTTD ms", m.mttd_ms.as_ref());
    row(s, "MTTR ms", m.mttr_ms.as_ref());
    row(s, "end-to-end p99 ms", m.end_to_end_p99_ms.as_ref());
    row(s, "amplification", m.amplification.as_ref());
    for r in sc.runs.iter().filter(|r| !r.pass) {
        let _ = writeln!(s, "  FAIL seed {}: {}", r.seed, r.failed_checks.join("; "));
        let _ = writeln!(s, "    replay: {}", r.replay);
    }
}

fn row(s: &mut String, name: &str, d: Option<&Distribution>) {
    match d {
        Some(d) => {
            let _ = writeln!(
                s,
                "  {name:<18} {:>9} {:>9} {:>9} {:>9}  {}",
                d.p50, d.p90, d.p99, d.max, d.runs
            );
        }
        None => {
            let _ = writeln!(s, "  {name:<18} {:>9} {:>9} {:>9} {:>9}  0", "-", "-", "-", "-");
        }
    }
}
