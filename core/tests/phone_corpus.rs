//! Precision and recall of phone detection on the labelled corpus
//! (tests/data/phone_corpus.tsv). Prints every disagreement, then the figures.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "test: a failed unwrap is a failed test; the figures are printed for the log"
)]

use ringside_core::phone::Detector;

#[test]
fn precision_and_recall_on_the_corpus() {
    let text = include_str!("data/phone_corpus.tsv");
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
        let found: Vec<String> = Detector::new(cols[0])
            .unwrap()
            .find(cols[1])
            .into_iter()
            .map(|m| m.e164)
            .collect();
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
    assert!(recall >= 0.95, "recall {recall:.3}");
}
