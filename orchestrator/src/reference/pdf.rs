//! The document format and the PDF adapter's work: unwrap the text and normalise it.
//!
//! A document is a minimal PDF-like envelope: a `%PDF-1.4` header, one object whose
//! dictionary declares the stream's `/Length`, the text lines between `stream` and
//! `endstream`, and a closing `%%EOF`. The declared length is checked against the stream, so
//! a truncated or spliced document is refused rather than half-read.
//!
//! Normalising removes what differs between document layouts but not between trades: blank
//! lines, leading and trailing blanks, runs of whitespace, label case and the spacing around
//! the label's colon. `"  trade id  :  T00000001"` becomes `"TRADE ID: T00000001"`.

use crate::domain::{NormalisedText, TradeDocument};
use crate::reference::error::ReferenceError;

const HEADER: &[u8] = b"%PDF-1.4\n";
const STREAM_START: &[u8] = b"stream\n";
const STREAM_END: &[u8] = b"endstream";
const EOF_MARKER: &[u8] = b"%%EOF";

/// Wraps text lines in the envelope (each line ends with a newline inside the stream).
pub fn render(lines: &[String]) -> Vec<u8> {
    let mut content = String::new();
    for line in lines {
        content.push_str(line);
        content.push('\n');
    }
    let mut out = Vec::with_capacity(content.len() + 96);
    out.extend_from_slice(HEADER);
    out.extend_from_slice(format!("1 0 obj\n<< /Length {} >>\n", content.len()).as_bytes());
    out.extend_from_slice(STREAM_START);
    out.extend_from_slice(content.as_bytes());
    out.extend_from_slice(STREAM_END);
    out.extend_from_slice(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n");
    out.extend_from_slice(EOF_MARKER);
    out.push(b'\n');
    out
}

/// The text inside the envelope, exactly as stored.
pub fn stream_text(bytes: &[u8]) -> Result<&str, ReferenceError> {
    let envelope = |msg: &str| ReferenceError::Envelope(msg.to_string());
    if !bytes.starts_with(HEADER) {
        return Err(envelope("missing %PDF-1.4 header"));
    }
    if !trim_end(bytes).ends_with(EOF_MARKER) {
        return Err(envelope("missing %%EOF trailer"));
    }
    let length_at = find(bytes, b"/Length ").ok_or_else(|| envelope("missing /Length"))?;
    let digits: Vec<u8> = bytes[length_at + 8..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    let declared: usize = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| envelope("/Length is not a number"))?;
    let start = find(&bytes[length_at..], STREAM_START)
        .map(|i| length_at + i + STREAM_START.len())
        .ok_or_else(|| envelope("missing stream"))?;
    let actual = find(&bytes[start..], STREAM_END).ok_or_else(|| envelope("missing endstream"))?;
    if actual != declared {
        return Err(ReferenceError::LengthMismatch { declared, actual });
    }
    std::str::from_utf8(&bytes[start..start + actual]).map_err(|_| ReferenceError::NotText)
}

/// The PDF adapter: extracts the document's text and normalises it.
pub fn normalise(doc: &TradeDocument) -> Result<NormalisedText, ReferenceError> {
    let raw = stream_text(&doc.bytes)?;
    Ok(NormalisedText {
        trade: doc.trade,
        text: normalise_lines(raw),
    })
}

/// Normalises text line by line (see the module docs); lines are joined with `\n`.
pub fn normalise_lines(raw: &str) -> String {
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    raw.lines()
        .map(|line| match line.split_once(':') {
            Some((label, value)) => {
                format!("{}: {}", collapse(label).to_uppercase(), collapse(value))
            }
            None => collapse(line),
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TradeId;

    fn doc(bytes: Vec<u8>) -> TradeDocument {
        TradeDocument {
            trade: TradeId(1),
            correlation_id: "c".into(),
            bytes,
        }
    }

    #[test]
    fn renders_and_reads_back() {
        let lines = vec![
            "TRADE CONFIRMATION".to_string(),
            "  trade id  :  T00000001 ".into(),
            String::new(),
        ];
        let bytes = render(&lines);
        assert!(bytes.starts_with(b"%PDF-1.4\n"));
        let text = normalise(&doc(bytes)).expect("valid document");
        assert_eq!(text.text, "TRADE CONFIRMATION\nTRADE ID: T00000001");
        assert_eq!(text.trade, TradeId(1));
    }

    #[test]
    fn whitespace_and_label_case_are_normalised() {
        let raw =
            "Settlement Date\t:\t2025-03-17  \n\n   Counterparty:   Goldman   Sachs  Intl.\nPage 1 of 1";
        assert_eq!(
            normalise_lines(raw),
            "SETTLEMENT DATE: 2025-03-17\nCOUNTERPARTY: Goldman Sachs Intl.\nPage 1 of 1"
        );
    }

    #[test]
    fn broken_envelopes_are_refused() {
        let good = render(&["A: b".to_string()]);
        assert!(matches!(
            normalise(&doc(b"hello".to_vec())),
            Err(ReferenceError::Envelope(_))
        ));
        let truncated = good[..good.len() - 7].to_vec();
        assert!(matches!(
            normalise(&doc(truncated)),
            Err(ReferenceError::Envelope(_))
        ));
        let mut spliced = good.clone();
        let at = find(&spliced, b"A: b").expect("present");
        spliced.insert(at, b'X');
        assert_eq!(
            normalise(&doc(spliced)),
            Err(ReferenceError::LengthMismatch {
                declared: 5,
                actual: 6
            })
        );
        let mut binary = render(&["A: b".to_string()]);
        let at = find(&binary, b"A: b").expect("present");
        binary[at] = 0xff;
        assert_eq!(normalise(&doc(binary)), Err(ReferenceError::NotText));
    }
}
