//! libphonenumber's metadata in the compact form of `data/metadata.tsv`
//! (written by scripts/gen-phone-metadata.mjs): per region the calling code,
//! prefixes and number patterns, nothing for formatting. Patterns are
//! compiled on first use, per region, and kept.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex_lite::Regex;

use crate::pattern::Pattern;

const DATA: &str = include_str!("../data/metadata.tsv");

/// Region codes known to the metadata, sorted (`regions.txt`), kept apart
/// from DATA so that checking a region code never links the patterns in.
const REGIONS: &str = include_str!("../data/regions.txt");

/// Number types, in the order of the metadata's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    FixedLine = 0,
    Mobile,
    TollFree,
    PremiumRate,
    Personal,
    Voicemail,
    Uan,
    Pager,
    Voip,
    SharedCost,
}

const KINDS: [Kind; 10] = [
    Kind::FixedLine,
    Kind::Mobile,
    Kind::TollFree,
    Kind::PremiumRate,
    Kind::Personal,
    Kind::Voicemail,
    Kind::Uan,
    Kind::Pager,
    Kind::Voip,
    Kind::SharedCost,
];

/// One region's line, uncompiled.
#[derive(Debug)]
pub(crate) struct Region {
    pub(crate) id: &'static str,
    pub(crate) code: &'static str,
    idd: &'static str,
    national_prefix: &'static str,
    prefix_for_parsing: &'static str,
    transform: &'static str,
    general: &'static str,
    types: [&'static str; 10],
    /// National number lengths the region's numbers have (a bit per length).
    lengths: u32,
    /// Compiled patterns by column: 0 IDD, 1 prefix for parsing, 2 general,
    /// 3.. the types; each compiled on first use.
    compiled: [OnceLock<Option<Matcher>>; 13],
}

/// A compiled column. Number patterns run on [`Pattern`] (the general regex
/// engine was most of the detection time); an IDD or national prefix that is
/// plain digits is compared as text; the rest (prefixes with alternatives
/// or captures) stays with regex-lite.
#[derive(Debug)]
enum Matcher {
    Literal(&'static str),
    Digits(Pattern),
    Regex(Regex),
}

pub(crate) fn is_region(code: &str) -> bool {
    REGIONS.lines().any(|l| l == code)
}

struct Table {
    regions: Vec<Region>,
    /// Calling code → indices of its regions (main region first).
    /// Indexed by the calling code's value (1 to 999; codes have no leading 0).
    by_code: Vec<(&'static str, Vec<usize>)>,
    by_id: HashMap<&'static str, usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut regions = vec![];
        for line in DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let f: Vec<&'static str> = line.split('\t').collect();
            if f.len() != 19 {
                continue;
            }
            let lengths = f[18]
                .split(',')
                .filter_map(|n| n.parse::<u32>().ok())
                .filter(|n| *n < 32)
                .fold(0u32, |bits, n| bits | (1 << n));
            let mut types = [""; 10];
            let mut prev = "";
            for (k, t) in f[8..18].iter().enumerate() {
                types[k] = if *t == "=" { prev } else { t };
                if !types[k].is_empty() {
                    prev = types[k];
                }
            }
            regions.push(Region {
                id: f[0],
                code: f[1],
                idd: f[2],
                national_prefix: f[3],
                prefix_for_parsing: f[4],
                transform: f[5],
                general: f[7],
                types,
                lengths,
                compiled: Default::default(),
            });
        }
        let mut by_code: Vec<(&'static str, Vec<usize>)> = vec![("", vec![]); 1000];
        let mut by_id = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            if let Some(slot) = code_value(r.code).and_then(|n| by_code.get_mut(n)) {
                slot.0 = r.code;
                slot.1.push(i);
            }
            if r.id != "001" {
                by_id.insert(r.id, i);
            }
        }
        Table {
            regions,
            by_code,
            by_id,
        }
    })
}

/// The compiled pattern of `region`'s `column` (0 IDD, 1 prefix for
/// parsing, 2 general, 3.. the types), compiled on first use.
fn matcher(region: usize, column: usize, source: &'static str) -> Option<&'static Matcher> {
    if source.is_empty() {
        return None;
    }
    table().regions[region].compiled[column]
        .get_or_init(|| {
            if column < 2 && source.bytes().all(|b| b.is_ascii_digit()) {
                return Some(Matcher::Literal(source));
            }
            if column >= 2
                && let Some(p) = Pattern::parse(source)
            {
                return Some(Matcher::Digits(p));
            }
            // IDD and prefix-for-parsing patterns match at the start; number
            // patterns match the whole national number.
            let anchored = if column < 2 {
                format!("^(?:{source})")
            } else {
                format!("^(?:{source})$")
            };
            Regex::new(&anchored).ok().map(Matcher::Regex)
        })
        .as_ref()
}

fn full_match(region: usize, column: usize, source: &'static str, national: &str) -> bool {
    match matcher(region, column, source) {
        Some(Matcher::Digits(p)) => p.full_match(national),
        Some(Matcher::Regex(re)) => re.is_match(national),
        Some(Matcher::Literal(l)) => national == *l,
        None => false,
    }
}

pub(crate) fn region_index(id: &str) -> Option<usize> {
    table().by_id.get(id).copied()
}

/// A calling code's value, if it is one to three digits with no leading 0.
fn code_value(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    if b.is_empty() || b.len() > 3 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// The calling code as stored, and its regions (main region first).
fn by_code(code: &str) -> Option<(&'static str, &'static [usize])> {
    let (stored, regions) = table().by_code.get(code_value(code)?)?;
    (!regions.is_empty()).then_some((*stored, regions.as_slice()))
}

fn region(i: usize) -> &'static Region {
    &table().regions[i]
}

/// The type of `national` in the regions of calling code `code`, if valid.
pub(crate) fn kind_of(code: &str, national: &str) -> Option<Kind> {
    let t = table();
    for &i in by_code(code)?.1 {
        let r = &t.regions[i];
        let len = national.len();
        if len >= 32 || r.lengths & (1 << len) == 0 || !full_match(i, 2, r.general, national) {
            continue;
        }
        // libphonenumber's order: the costly and special types before fixed
        // lines and mobiles, whose patterns may overlap them.
        for k in [3, 2, 9, 8, 4, 7, 6, 5, 0, 1] {
            if full_match(i, 3 + k, r.types[k], national) {
                return Some(KINDS[k]);
            }
        }
    }
    None
}

/// The type of an E.164 number's digits (without the `+`), if valid.
pub(crate) fn classify(digits: &str) -> Option<Kind> {
    let (code, national) = split_code(digits)?;
    kind_of(code, national)
}

/// Valid for a region of calling code `code`: any type's pattern matches
/// (fixed lines and mobiles first, the common case; the order matters only
/// for [`kind_of`]).
fn is_valid(code: &str, national: &str) -> bool {
    let t = table();
    let Some((_, regions)) = by_code(code) else {
        return false;
    };
    regions.iter().any(|&i| {
        let r = &t.regions[i];
        let len = national.len();
        len < 32
            && r.lengths & (1 << len) != 0
            && full_match(i, 2, r.general, national)
            && (0..10).any(|k| full_match(i, 3 + k, r.types[k], national))
    })
}

/// Splits a calling code off digits written after `+` or an IDD.
fn split_code(digits: &str) -> Option<(&'static str, &str)> {
    for n in 1..=3.min(digits.len()) {
        if let Some((code, _)) = by_code(&digits[..n]) {
            return Some((code, &digits[n..]));
        }
    }
    None
}

/// The national number with the region's national prefix (and carrier
/// code) taken off, as libphonenumber's parsing rule says, if it has one.
fn strip_national_prefix(i: usize, national: &str) -> Option<String> {
    let r = region(i);
    let rule = if r.prefix_for_parsing.is_empty() {
        r.national_prefix
    } else {
        r.prefix_for_parsing
    };
    if rule.is_empty() {
        return None;
    }
    let stripped = match matcher(i, 1, rule)? {
        // Plain digits have no group for the transform to use.
        Matcher::Literal(l) => national.strip_prefix(l)?.to_owned(),
        Matcher::Regex(re) => {
            let caps = re.captures(national)?;
            let whole = caps.get(0)?;
            let rest = &national[whole.end()..];
            match caps.get(1) {
                Some(g) if !r.transform.is_empty() => {
                    format!("{}{rest}", r.transform.replace("$1", g.as_str()))
                }
                // A rule with a group but no transform keeps nothing of it.
                _ => rest.to_owned(),
            }
        }
        Matcher::Digits(_) => return None,
    };
    (stripped.len() < national.len() || !r.transform.is_empty()).then_some(stripped)
}

/// E.164 for a written number: `+` or IDD then a calling code, else a
/// national number of `default_region` (its national prefix optional).
pub(crate) fn to_e164(default_region: usize, plus: bool, digits: &str) -> Option<String> {
    let international = |rest: &str| -> Option<String> {
        let (code, national) = split_code(rest)?;
        // "+44 020…": a national prefix written after the calling code.
        let main = *by_code(code)?.1.first()?;
        if let Some(s) = strip_national_prefix(main, national)
            && is_valid(code, &s)
        {
            return Some(format!("+{code}{s}"));
        }
        is_valid(code, national).then(|| format!("+{code}{national}"))
    };
    if plus {
        return international(digits);
    }
    let r = region(default_region);
    // An international call prefix (00, 011…) then a calling code.
    let idd_end = match matcher(default_region, 0, r.idd) {
        Some(Matcher::Literal(l)) => digits.starts_with(l).then_some(l.len()),
        Some(Matcher::Regex(re)) => re.find(digits).map(|m| m.end()),
        _ => None,
    };
    if let Some(end) = idd_end
        && end > 0
        && let Some(e164) = international(&digits[end..])
    {
        return Some(e164);
    }
    let code = r.code;
    if let Some(s) = strip_national_prefix(default_region, digits)
        && is_valid(code, &s)
    {
        return Some(format!("+{code}{s}"));
    }
    if is_valid(code, digits) {
        return Some(format!("+{code}{digits}"));
    }
    // The calling code written without its `+` ("33 1 23 45 67 89" in FR).
    if let Some(rest) = digits.strip_prefix(code)
        && is_valid(code, rest)
    {
        return Some(format!("+{code}{rest}"));
    }
    // North America's international prefix, written for callers there
    // ("From the US dial 011 44 20 7946 0019" on a British page).
    if code != "1"
        && let Some(rest) = digits.strip_prefix("011")
    {
        return international(rest);
    }
    None
}
