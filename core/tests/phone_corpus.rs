//! Precision and recall of phone detection on the labelled corpus
//! (tests/data/phone_corpus*.tsv: the first set, and the world set grown
//! from independent sources). Prints every disagreement, then the figures.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "test: a failed unwrap is a failed test; the figures are printed for the log"
)]

use ringside_core::phone::Detector;

#[test]
fn precision_and_recall_on_the_corpus() {
    let text = [
        include_str!("data/phone_corpus.tsv"),
        include_str!("data/phone_corpus_world.tsv"),
    ]
    .concat();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut disagreements = vec![];
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad corpus line: {line}");
        let expected: Vec<&str> = if cols[2] == "-" {
            vec![]
        } else {
            cols[2].split(',').collect()
        };
        let matches = Detector::new(cols[0]).unwrap().find(cols[1]);
        for m in &matches {
            // What is dialled is what is written: the number's last digits
            // as written are those of its E.164 (no digit glued from after).
            let written: String = m.text[..m.text.len() - extension_len(&m.text, &m.extension)]
                .chars()
                .filter_map(|c| c.to_digit(10).or_else(|| other_script_digit(c)))
                .map(|d| char::from(b'0' + d as u8))
                .collect();
            let tail = |s: &str| s.chars().rev().take(6).collect::<String>();
            assert_eq!(
                tail(&written),
                tail(&m.e164),
                "digits differ: {m:?} in {line}"
            );
        }
        let found: Vec<String> = matches.into_iter().map(|m| m.e164).collect();
        for f in &found {
            if expected.contains(&f.as_str()) {
                tp += 1;
            } else {
                fp += 1;
                disagreements.push(format!("false positive {f}: {line}"));
            }
        }
        for e in &expected {
            if !found.iter().any(|f| f == e) {
                fn_ += 1;
                disagreements.push(format!("missed {e}: {line}"));
            }
        }
    }
    for d in &disagreements {
        println!("{d}");
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("precision {precision:.3} recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})");
    assert!(precision >= 0.98, "precision {precision:.3}");
    assert!(recall >= 0.97, "recall {recall:.3}");
}

/// Bytes of the written extension at the end of a match's text.
fn extension_len(text: &str, extension: &Option<String>) -> usize {
    let Some(ext) = extension else { return 0 };
    // The extension's digits are the last ones written; cut from the first
    // of them that starts its label (the number ends before the label).
    let digits_seen = ext.chars().count();
    let mut count = 0;
    for (i, c) in text.char_indices().rev() {
        if c.is_ascii_digit() || other_script_digit(c).is_some() {
            count += 1;
            if count == digits_seen {
                return text.len() - i;
            }
        }
    }
    0
}

fn other_script_digit(c: char) -> Option<u32> {
    for base in ['\u{660}', '\u{6f0}', '\u{966}', '\u{ff10}'] {
        let d = (c as u32).wrapping_sub(base as u32);
        if d < 10 {
            return Some(d);
        }
    }
    None
}
