//! No input makes the parser panic: arbitrary text, and valid files with bytes cut,
//! repeated or replaced, all give either a scenario or a located error.

use std::path::Path;

use gameday_scenario::strategy::{arb_scenario, proptest_cases};
use gameday_scenario::{ErrorKind, parse, to_toml};
use proptest::prelude::*;

fn check_located(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = parse(text, Path::new("fuzz.toml")) {
        prop_assert!(e.kind != ErrorKind::Io);
        prop_assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        prop_assert!(
            e.line <= text.split('\n').count(),
            "line {} of {:?}",
            e.line,
            text
        );
        let shown = e.to_string();
        let prefix = format!("fuzz.toml:{}:{}: error: ", e.line, e.column);
        prop_assert!(shown.starts_with(&prefix), "{}", shown);
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let token = prop_oneof![
        Just("\"".to_string()),
        Just("[".to_string()),
        Just("]]".to_string()),
        Just("=".to_string()),
        Just("\n".to_string()),
        Just("-1".to_string()),
        Just("1e999".to_string()),
        Just("nan".to_string()),
        Just("\"fast\"".to_string()),
        Just("é".to_string()),
        ".{0,4}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(at, n)| Edit::Cut(at, n)),
        (any::<usize>(), token).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edit: &Edit) -> String {
    match edit {
        Edit::Cut(at, n) => {
            let a = boundary(&s, *at);
            let b = boundary(&s, (a + n).min(s.len()));
            s.replace_range(a..b.max(a), "");
        }
        Edit::Insert(at, t) => {
            let a = boundary(&s, *at);
            s.insert_str(a, t);
        }
        Edit::Duplicate(at, n) => {
            let a = boundary(&s, *at);
            let b = boundary(&s, (a + n).min(s.len())).max(a);
            let piece = s[a..b].to_string();
            s.insert_str(b, &piece);
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(256)))]

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,200}") {
        check_located(&text)?;
    }

    #[test]
    fn toml_like_text_never_panics(text in r#"([a-z_\[\]\.="0-9 ]{0,12}\n){0,12}"#) {
        check_located(&text)?;
    }

    #[test]
    fn mutated_valid_files_never_panic(s in arb_scenario(), edits in prop::collection::vec(arb_edit(), 1..4)) {
        let text = edits.iter().fold(to_toml(&s), apply);
        check_located(&text)?;
    }
}
