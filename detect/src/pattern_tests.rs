//! The pattern matcher against regex-lite on every number pattern of the
//! metadata: strings drawn from each pattern, one-digit changes of them, and
//! one digit more or fewer, must be judged the same by both.
use super::{Node, Pattern};
use regex_lite::Regex;

const DATA: &str = include_str!("../data/metadata.tsv");

/// The number columns (general pattern and the ten types) of every region.
fn number_patterns() -> Vec<(String, &'static str)> {
    let mut out = vec![];
    for line in DATA
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 19, "{line}");
        for (k, p) in f[7..18].iter().enumerate() {
            if !p.is_empty() && *p != "=" {
                out.push((format!("{} column {}", f[0], 7 + k), *p));
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift), enough for test inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A string the node matches, choosing branches, counts and digits at random.
fn sample(node: &Node, rng: &mut Rng, out: &mut String) {
    match node {
        Node::Class(set) => {
            let digits: Vec<u8> = (0..10).filter(|d| set & (1 << d) != 0).collect();
            out.push(char::from(
                b'0' + digits[rng.below(digits.len() as u64) as usize],
            ));
        }
        Node::Seq(items) => items.iter().for_each(|n| sample(n, rng, out)),
        Node::Alt(items) => sample(&items[rng.below(items.len() as u64) as usize].1, rng, out),
        Node::Repeat(inner, min, max) => {
            let n = u64::from(*min) + rng.below(u64::from(max - min) + 1);
            for _ in 0..n {
                sample(inner, rng, out);
            }
        }
    }
}

#[test]
fn every_number_pattern_of_the_metadata_compiles_in_the_subset() {
    let patterns = number_patterns();
    assert!(patterns.len() > 1000, "{}", patterns.len());
    for (name, p) in patterns {
        assert!(Pattern::parse(p).is_some(), "{name}: {p}");
    }
}

#[test]
fn agrees_with_a_regex_engine_on_every_number_pattern() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    let mut matched = 0;
    for (name, source) in number_patterns() {
        let ours = Pattern::parse(source).unwrap();
        let re = Regex::new(&format!("^(?:{source})$")).unwrap();
        let mut inputs = vec![];
        for _ in 0..12 {
            let mut s = String::new();
            sample(&ours.0, &mut rng, &mut s);
            let b = s.as_bytes();
            if !b.is_empty() {
                // One digit changed, one dropped, one added.
                let at = rng.below(b.len() as u64) as usize;
                let mut changed = b.to_vec();
                changed[at] = b'0' + ((changed[at] - b'0' + 1 + rng.below(9) as u8) % 10);
                inputs.push(String::from_utf8(changed).unwrap());
                inputs.push(format!("{}{}", &s[..at], &s[at + 1..]));
                inputs.push(format!("{s}{}", rng.below(10)));
            }
            inputs.push(s);
        }
        for input in inputs.iter().filter(|s| s.len() <= super::MAX_LEN) {
            let want = re.is_match(input);
            assert_eq!(ours.full_match(input), want, "{name}: {source} on {input}");
            checked += 1;
            matched += usize::from(want);
        }
    }
    // Both outcomes are well represented.
    assert!(
        matched > checked / 5 && matched < checked * 4 / 5,
        "{matched} of {checked}"
    );
}

#[test]
fn the_subset_and_its_limits() {
    let p = |s: &str| Pattern::parse(s);
    let m = |s: &str, input: &str| p(s).unwrap().full_match(input);
    assert!(m(r"[1-9]\d{8}", "123456789"));
    assert!(!m(r"[1-9]\d{8}", "023456789"));
    assert!(!m(r"[1-9]\d{8}", "12345678"));
    assert!(m(r"6(?:[0-24-8]\d|3[0-8])\d{6}", "638123456"));
    assert!(!m(r"6(?:[0-24-8]\d|3[0-8])\d{6}", "639123456"));
    assert!(m(r"\d\d?", "1") && m(r"\d\d?", "12") && !m(r"\d\d?", "123"));
    assert!(m(r"4\d{5,7}", "4123456") && !m(r"4\d{5,7}", "41234"));
    assert!(m(r"(?:1|12)3", "123") && m(r"(?:1|12)3", "13"));
    assert!(!m(r"\d{2}", "1a"), "digits only");
    // Outside the subset: left to the regex fallback.
    for s in [
        r"\d*", r"\d+", r"(\d)", r"[^0]", r"\d{2}?", r".", r"\s", r"[2-", r"(?:1", r"1)", r"\d{40}",
    ] {
        assert!(p(s).is_none(), "{s}");
    }
}
