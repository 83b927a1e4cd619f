//! Precision and recall of the detector on labelled corpus files
//! (`region<TAB>text<TAB>expected E.164s or -`, as core/tests/data/phone_corpus*.tsv),
//! file by file, to measure a new batch of lines before it joins the corpus.
//! Usage: `cargo run -p ringside-detect --example corpus_score -- [-v] file.tsv…`
//! (`-v` prints every disagreement).
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a developer's measuring tool: a bad file is a crash, and stdout is its output"
)]

use ringside_detect::Detector;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    for path in args.iter().filter(|a| *a != "-v") {
        let text = std::fs::read_to_string(path).unwrap();
        let (mut tp, mut fp, mut fn_, mut lines) = (0usize, 0usize, 0usize, 0usize);
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            lines += 1;
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "bad corpus line: {line}");
            let want: Vec<&str> = match cols[2].trim() {
                "-" => vec![],
                w => w.split(',').collect(),
            };
            let got: Vec<String> = Detector::new(cols[0])
                .unwrap()
                .find(cols[1])
                .into_iter()
                .map(|m| m.e164)
                .collect();
            for g in &got {
                if want.contains(&g.as_str()) {
                    tp += 1;
                } else {
                    fp += 1;
                    if verbose {
                        println!("false positive {g}: {line}");
                    }
                }
            }
            for w in &want {
                if !got.iter().any(|g| g == w) {
                    fn_ += 1;
                    if verbose {
                        println!("missed {w}: {line}");
                    }
                }
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        println!(
            "{path}: {lines} lines, precision {precision:.3} recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})"
        );
    }
}
