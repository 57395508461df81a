//! Merging the results of a sharded sweep.
//!
//! Shards of one sweep agree on everything but the runs they hold: engine, seed count,
//! scenarios, their files and first seeds, and the shard count. Merge checks all of that,
//! refuses shards held twice, then interleaves the runs by seed index and recomputes every
//! summary, so merging all M shards gives exactly the JSON of the unsharded sweep.

use std::collections::BTreeSet;

use super::{FORMAT_VERSION, ScenarioSweep, ShardSet, Summary, SweepResult};

/// Why results could not be merged. `input` names the offending input as the caller
/// labelled it (a file path, usually).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    #[error("nothing to merge: give at least one sweep result")]
    Empty,
    #[error("{input}: not a sweep result: {message}")]
    Parse { input: String, message: String },
    #[error("{input}: sweep result version {found}, this gameday reads version {FORMAT_VERSION}")]
    Version { input: String, found: u32 },
    #[error("{input}: a different sweep than {first}: {what}")]
    Mismatch {
        input: String,
        first: String,
        what: String,
    },
    #[error("{input}: shard {shard}/{count} is also in {other}: shards overlap")]
    Overlap {
        input: String,
        other: String,
        shard: u32,
        count: u32,
    },
    #[error("{input}: holds the whole sweep, which overlaps every other input")]
    WholeAndShards { input: String },
    #[error("{input}: scenario {scenario} holds seed index {index} twice")]
    DuplicateRun {
        input: String,
        scenario: String,
        index: u64,
    },
}

/// Reads one sweep result from its JSON text.
pub fn parse_result(input: &str, text: &str) -> Result<SweepResult, MergeError> {
    let version = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| MergeError::Parse {
            input: input.to_string(),
            message: e.to_string(),
        })?
        .get("version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| MergeError::Parse {
            input: input.to_string(),
            message: "no `version` field".into(),
        })?;
    if version != u64::from(FORMAT_VERSION) {
        return Err(MergeError::Version {
            input: input.to_string(),
            found: version.try_into().unwrap_or(u32::MAX),
        });
    }
    serde_json::from_str(text).map_err(|e| MergeError::Parse {
        input: input.to_string(),
        message: e.to_string(),
    })
}

/// Merges `(label, result)` pairs into one result.
pub fn merge(inputs: &[(String, SweepResult)]) -> Result<SweepResult, MergeError> {
    let Some((first_label, first)) = inputs.first() else {
        return Err(MergeError::Empty);
    };
    for (label, r) in inputs {
        if r.version != FORMAT_VERSION {
            return Err(MergeError::Version {
                input: label.clone(),
                found: r.version,
            });
        }
        let mismatch = |what: String| MergeError::Mismatch {
            input: label.clone(),
            first: first_label.clone(),
            what,
        };
        if r.engine != first.engine {
            return Err(mismatch(format!(
                "engine {} instead of {}",
                r.engine, first.engine
            )));
        }
        if r.seeds != first.seeds {
            return Err(mismatch(format!("{} seeds instead of {}", r.seeds, first.seeds)));
        }
        let names = |r: &SweepResult| r.scenarios.iter().map(|s| s.scenario.clone()).collect::<Vec<_>>();
        if names(r) != names(first) {
            return Err(mismatch(format!(
                "scenarios [{}] instead of [{}]",
                names(r).join(", "),
                names(first).join(", ")
            )));
        }
        for (a, b) in r.scenarios.iter().zip(&first.scenarios) {
            if a.first_seed != b.first_seed {
                return Err(mismatch(format!(
                    "{} starts at seed {} instead of {}",
                    a.scenario, a.first_seed, b.first_seed
                )));
            }
            if a.file != b.file {
                return Err(mismatch(format!(
                    "{} comes from {:?} instead of {:?}",
                    a.scenario, a.file, b.file
                )));
            }
        }
    }
    let shards = merge_shards(inputs)?;
    let scenarios = (0..first.scenarios.len())
        .map(|i| {
            let mut runs = Vec::new();
            for (label, r) in inputs {
                runs.extend(r.scenarios[i].runs.iter().cloned().map(|run| (label, run)));
            }
            runs.sort_by_key(|(_, run)| run.index);
            if let Some(w) = runs.windows(2).find(|w| w[0].1.index == w[1].1.index) {
                return Err(MergeError::DuplicateRun {
                    input: w[1].0.clone(),
                    scenario: first.scenarios[i].scenario.clone(),
                    index: w[1].1.index,
                });
            }
            let runs: Vec<_> = runs.into_iter().map(|(_, run)| run).collect();
            let s = &first.scenarios[i];
            Ok(ScenarioSweep {
                scenario: s.scenario.clone(),
                file: s.file.clone(),
                first_seed: s.first_seed,
                summary: Summary::of(&runs),
                runs,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SweepResult {
        version: FORMAT_VERSION,
        engine: first.engine.clone(),
        seeds: first.seeds,
        shards,
        scenarios,
    })
}

/// The shards the merged result holds: `None` once every shard is there.
fn merge_shards(inputs: &[(String, SweepResult)]) -> Result<Option<ShardSet>, MergeError> {
    if inputs.len() > 1
        && let Some((label, _)) = inputs.iter().find(|(_, r)| r.shards.is_none())
    {
        return Err(MergeError::WholeAndShards { input: label.clone() });
    }
    let Some(count) = inputs[0].1.shards.as_ref().map(|s| s.count) else {
        return Ok(None);
    };
    let mut held: Vec<(u32, &String)> = Vec::new();
    for (label, r) in inputs {
        let set = r.shards.as_ref().expect("checked above: every input is sharded");
        if set.count != count {
            return Err(MergeError::Mismatch {
                input: label.clone(),
                first: inputs[0].0.clone(),
                what: format!("split into {} shards instead of {count}", set.count),
            });
        }
        for &k in &set.indices {
            if let Some((_, other)) = held.iter().find(|(h, _)| *h == k) {
                return Err(MergeError::Overlap {
                    input: label.clone(),
                    other: (*other).clone(),
                    shard: k,
                    count,
                });
            }
            held.push((k, label));
        }
    }
    let indices: BTreeSet<u32> = held.iter().map(|(k, _)| *k).collect();
    Ok(if indices.len() as u32 == count {
        None
    } else {
        Some(ShardSet {
            count,
            indices: indices.into_iter().collect(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::seed_run;
    use super::super::{SeedRun, Shard};
    use super::*;

    fn result(runs: Vec<SeedRun>, shard: Option<Shard>) -> SweepResult {
        SweepResult {
            version: FORMAT_VERSION,
            engine: "fast".into(),
            seeds: 5,
            shards: shard.map(|s| ShardSet {
                count: s.count,
                indices: vec![s.index],
            }),
            scenarios: vec![ScenarioSweep {
                scenario: "s".into(),
                file: Some("s.toml".into()),
                first_seed: 100,
                summary: Summary::of(&runs),
                runs,
            }],
        }
    }

    fn runs_of(shard: Shard) -> Vec<SeedRun> {
        (0..5)
            .filter(|i| shard.takes(*i))
            .map(|i| seed_run(i, i != 3, Some(100 * i), i as f64))
            .collect()
    }

    fn labelled(rs: Vec<SweepResult>) -> Vec<(String, SweepResult)> {
        rs.into_iter()
            .enumerate()
            .map(|(i, r)| (format!("in{i}.json"), r))
            .collect()
    }

    #[test]
    fn all_shards_merge_into_the_whole_sweep() {
        let whole = result(runs_of(Shard::ALL), None);
        let (a, b) = (Shard::new(1, 2).unwrap(), Shard::new(2, 2).unwrap());
        let merged = merge(&labelled(vec![
            result(runs_of(b), Some(b)),
            result(runs_of(a), Some(a)),
        ]))
        .unwrap();
        assert_eq!(merged, whole);
        assert_eq!(merged.to_json(), whole.to_json());
        // Round trip through JSON too.
        assert_eq!(parse_result("x", &whole.to_json()).unwrap(), whole);
    }

    #[test]
    fn partial_merges_stay_sharded() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard::new(k, 3).unwrap()).collect();
        let merged = merge(&labelled(vec![
            result(runs_of(shards[0]), Some(shards[0])),
            result(runs_of(shards[2]), Some(shards[2])),
        ]))
        .unwrap();
        assert_eq!(
            merged.shards,
            Some(ShardSet {
                count: 3,
                indices: vec![1, 3]
            })
        );
        assert_eq!(
            merged.scenarios[0]
                .runs
                .iter()
                .map(|r| r.index)
                .collect::<Vec<_>>(),
            vec![0, 2, 3]
        );
        let all = merge(&labelled(vec![
            merged,
            result(runs_of(shards[1]), Some(shards[1])),
        ]))
        .unwrap();
        assert_eq!(all, result(runs_of(Shard::ALL), None));
    }

    #[test]
    fn refuses_overlaps_and_different_sweeps() {
        let a = Shard::new(1, 2).unwrap();
        let one = result(runs_of(a), Some(a));
        let err = merge(&labelled(vec![one.clone(), one.clone()])).unwrap_err();
        assert!(
            matches!(
                err,
                MergeError::Overlap {
                    shard: 1,
                    count: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "in1.json: shard 1/2 is also in in0.json: shards overlap"
        );

        let whole = result(runs_of(Shard::ALL), None);
        assert!(matches!(
            merge(&labelled(vec![one.clone(), whole])),
            Err(MergeError::WholeAndShards { .. })
        ));

        let c = Shard::new(2, 3).unwrap();
        let err = merge(&labelled(vec![one.clone(), result(runs_of(c), Some(c))])).unwrap_err();
        assert!(
            err.to_string().contains("split into 3 shards instead of 2"),
            "{err}"
        );

        let mut other = result(
            runs_of(Shard::new(2, 2).unwrap()),
            Some(Shard::new(2, 2).unwrap()),
        );
        other.scenarios[0].first_seed = 7;
        assert!(
            merge(&labelled(vec![one.clone(), other.clone()]))
                .unwrap_err()
                .to_string()
                .contains("starts at seed 7 instead of 100")
        );
        other.scenarios[0].first_seed = 100;
        other.seeds = 6;
        assert!(
            merge(&labelled(vec![one.clone(), other.clone()]))
                .unwrap_err()
                .to_string()
                .contains("6 seeds instead of 5")
        );
        other.seeds = 5;
        other.scenarios[0].scenario = "t".into();
        assert!(
            merge(&labelled(vec![one.clone(), other.clone()]))
                .unwrap_err()
                .to_string()
                .contains("scenarios [t] instead of [s]")
        );
        other.scenarios[0].scenario = "s".into();
        other.engine = "turmoil".into();
        assert!(matches!(
            merge(&labelled(vec![one, other])),
            Err(MergeError::Mismatch { .. })
        ));
        assert!(matches!(merge(&[]), Err(MergeError::Empty)));
    }

    /// Proptest cases: 64 unless `GAMEDAY_PROPTEST_CASES` says otherwise.
    fn cases() -> u32 {
        std::env::var("GAMEDAY_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(cases()))]

        /// Any number of seeds split any number of ways, merged in any order, is the whole.
        #[test]
        fn every_split_merges_back(seeds in 1u64..40, count in 1u32..8, rotate in 0usize..8, fail_every in 1u64..5) {
            let run = |i: u64| seed_run(i, !i.is_multiple_of(fail_every), (!i.is_multiple_of(3)).then_some(i * 7 % 11), (i * 13 % 17) as f64);
            let part = |shard: Shard| {
                let runs: Vec<SeedRun> = (0..seeds).filter(|i| shard.takes(*i)).map(run).collect();
                let mut r = result(runs, (!shard.is_all()).then_some(shard));
                r.seeds = seeds;
                r
            };
            let whole = part(Shard::ALL);
            let mut parts: Vec<SweepResult> = (1..=count).map(|k| part(Shard::new(k, count).unwrap())).collect();
            let n = parts.len();
            parts.rotate_left(rotate % n);
            let merged = merge(&labelled(parts)).unwrap();
            proptest::prop_assert_eq!(merged.to_json(), whole.to_json());
        }
    }

    #[test]
    fn parse_refuses_other_versions_and_garbage() {
        let mut r = result(runs_of(Shard::ALL), None);
        r.version = 2;
        let err = parse_result("old.json", &r.to_json()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("old.json: sweep result version 2, this gameday reads version {FORMAT_VERSION}")
        );
        assert!(matches!(parse_result("x", "{]"), Err(MergeError::Parse { .. })));
        assert!(matches!(parse_result("x", "{}"), Err(MergeError::Parse { .. })));
        assert!(matches!(
            parse_result("x", r#"{"version": 1}"#),
            Err(MergeError::Parse { .. })
        ));
    }
}
