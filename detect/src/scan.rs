//! The shape of a written number: digit groups, the separators between
//! them, brackets, and an extension after it. No metadata here: this decides
//! only where a number may start and end; validation is the caller's.
//!
//! A bracket belongs to a number only when it closes around 1-5 digits and
//! more digits follow (`(617) 555`, `+44 (0)20`); otherwise the number ends
//! before it, so `800 555 0199 (9 AM` never takes the 9.

use super::{Candidate, MAX_DIGITS, MIN_DIGITS, digit_value, wordlike};

/// One group of digits as written.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Where a scan resumes to start a number here (the bracket if any).
    pub(crate) lead: usize,
    /// Byte offset after the group's last digit.
    pub(crate) end: usize,
    /// ASCII digits.
    pub(crate) digits: String,
    /// The separator before it holds a space (or a bracket): a place where
    /// two numbers written side by side may meet.
    pub(crate) gap_before: bool,
    /// Written in brackets.
    pub(crate) bracketed: bool,
}

/// Digit groups joined by separators, from `start`.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) start: usize,
    pub(crate) plus: bool,
    pub(crate) groups: Vec<Group>,
}

/// Longest run kept: a few numbers side by side, not a whole table.
const MAX_RUN_DIGITS: usize = 40;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    Space,
    Punct,
    Open,
    Close,
}

fn sep(c: char) -> Option<Sep> {
    Some(match c {
        ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}' | '\u{2002}' | '\u{2003}'
        | '\u{3000}' => Sep::Space,
        '-' | '.' | '/' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}'
        | '\u{ff0d}' | '\u{ff0e}' | '\u{ff0f}' | '\u{30fc}' => Sep::Punct,
        '(' | '\u{ff08}' | '[' => Sep::Open,
        ')' | '\u{ff09}' | ']' => Sep::Close,
        _ => return None,
    })
}

fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// Reads digits from `i`; returns (ASCII digits, end).
fn digits_at(text: &str, mut i: usize) -> (String, usize) {
    // ASCII digits, the common case, are copied in one piece.
    let bytes = text.as_bytes();
    let ascii_end = i + bytes
        .get(i..)
        .map_or(0, |b| b.iter().take_while(|b| b.is_ascii_digit()).count());
    if bytes.get(ascii_end).is_none_or(|b| *b < 0x80) {
        return (text.get(i..ascii_end).unwrap_or("").to_owned(), ascii_end);
    }
    let mut out = String::with_capacity(16);
    while let Some(c) = char_at(text, i) {
        match digit_value(c) {
            Some(d) => {
                out.push(char::from(b'0' + d));
                i += c.len_utf8();
            }
            None => break,
        }
    }
    (out, i)
}

/// Reads separators from `i` (at most one punctuation mark and two spaces:
/// "020 - 123", "617-555", ". "); returns (end, holds a space) when a digit
/// follows, else None.
fn separators_then_digit(text: &str, mut i: usize) -> Option<(usize, bool)> {
    let (mut spaces, mut puncts) = (0, 0);
    while let Some(c) = char_at(text, i) {
        match sep(c) {
            Some(Sep::Space) => spaces += 1,
            Some(Sep::Punct) => puncts += 1,
            _ => break,
        }
        if spaces > 2 || puncts > 1 {
            return None;
        }
        i += c.len_utf8();
    }
    let next = char_at(text, i)?;
    (digit_value(next).is_some() || sep(next) == Some(Sep::Open)).then_some((i, spaces > 0))
}

/// At an opening bracket at `i`: `(` 1-5 digits `)` then (after separators) a
/// digit. Returns (digits, digits end, end after the bracket
/// and the separators that follow).
fn bracket_at(text: &str, i: usize) -> Option<(String, usize, usize)> {
    let open = char_at(text, i)?;
    let start = i + open.len_utf8();
    let (digits, end) = digits_at(text, start);
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let close = char_at(text, end)?;
    if sep(close) != Some(Sep::Close) {
        return None;
    }
    let after = end + close.len_utf8();
    let (next, _) = separators_then_digit(text, after)?;
    // Another bracket right after a bracket is not a number's shape.
    let d = char_at(text, next)?;
    digit_value(d)?;
    Some((digits, end, next))
}

/// The run of digit groups starting at `start` (a digit, `+` or `(`).
pub(crate) fn scan_run(text: &str, start: usize) -> Option<Run> {
    let mut i = start;
    let mut plus = false;
    let first = char_at(text, i)?;
    if matches!(first, '+' | '\u{ff0b}') {
        plus = true;
        i += first.len_utf8();
    }
    let mut groups: Vec<Group> = vec![];
    let mut total = 0;
    let mut gap_before = false;
    let mut lead = start;
    loop {
        let c = char_at(text, i)?;
        if sep(c) == Some(Sep::Open) {
            let Some((digits, e, next)) = bracket_at(text, i) else {
                break;
            };
            total += digits.len();
            groups.push(Group {
                lead,
                end: e,
                digits,
                gap_before: gap_before || !groups.is_empty(),
                bracketed: true,
            });
            i = next;
            gap_before = false;
            lead = i;
            continue;
        }
        let (digits, end) = digits_at(text, i);
        if digits.is_empty() {
            break;
        }
        total += digits.len();
        groups.push(Group {
            lead,
            end,
            digits,
            gap_before,
            bracketed: false,
        });
        if total > MAX_RUN_DIGITS {
            return None;
        }
        match separators_then_digit(text, end) {
            Some((next, space)) => {
                lead = next;
                gap_before = space;
                i = next;
            }
            None => break,
        }
    }
    if groups.is_empty() {
        return None;
    }
    Some(Run {
        start,
        plus,
        groups,
    })
}

impl Run {
    /// Where the run's last digit ends.
    pub(crate) fn end(&self) -> usize {
        self.groups.last().map_or(self.start, |g| g.end)
    }

    /// The candidate made of the first `k` groups, if its size fits a number.
    pub(crate) fn candidate(&self, text: &str, k: usize) -> Option<Candidate> {
        let groups = &self.groups[..k];
        let mut digits = String::with_capacity(24);
        let mut count = 0;
        if self.plus {
            digits.push('+');
        }
        for (n, g) in groups.iter().enumerate() {
            // "+44 (0)20": the trunk prefix in brackets is not dialled.
            if self.plus && g.bracketed && g.digits == "0" && n > 0 {
                continue;
            }
            if n > 0 {
                digits.push(' ');
            }
            digits.push_str(&g.digits);
            count += g.digits.len();
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&count) {
            return None;
        }
        let last = groups.last()?;
        let number_end = if last.bracketed {
            // "(617)" alone is not a number; a closing bracket ends it.
            return None;
        } else {
            last.end
        };
        let (extension, end) = match scan_extension(text, number_end) {
            Some((ext, end)) => (Some(ext), end),
            None => (None, number_end),
        };
        let unbroken = groups.len() == 1 && !self.plus;
        Some(Candidate {
            start: self.start,
            number_end,
            end,
            extension,
            digits,
            unbroken,
        })
    }
}

/// Extension labels, lower case: English, French, German, Spanish and
/// Portuguese, Italian, Dutch, Polish, Russian, Japanese and Chinese.
const EXTENSION_MARKERS: &[&str] = &[
    "extension",
    "extn.",
    "extn",
    "ext.",
    "ext",
    "poste",
    "durchwahl",
    "dw.",
    "dw",
    "anexo",
    "ramal",
    "int.",
    "toestel",
    "tst.",
    "wewn.",
    "wew.",
    "доб.",
    "доб",
    "вн.",
    "内線",
    "内线",
    "分机",
    "分機",
    "x.",
    "x",
    "#",
];
const MAX_EXTENSION_DIGITS: usize = 6;

/// `x123`, ` ext. 123`, `, ext 12`, ` poste 123`, ` #123`, `,,305`, `（内線 123）`.
/// Returns (digits, end).
pub(crate) fn scan_extension(text: &str, from: usize) -> Option<(String, usize)> {
    let rest = &text[from..];
    // ",,": the pause a phone dials before the extension.
    if let Some(after) = rest.strip_prefix(",,") {
        let (digits, end) = digits_at(after, 0);
        return extension_digits(after, digits, end, None).map(|(d, e)| (d, from + 2 + e));
    }
    let mut i = 0;
    let skip_spaces = |i: &mut usize| {
        let mut n = 0;
        while let Some(c) = char_at(rest, *i) {
            if sep(c) != Some(Sep::Space) || n == 3 {
                break;
            }
            *i += c.len_utf8();
            n += 1;
        }
    };
    skip_spaces(&mut i);
    if let Some(c @ (',' | ';')) = char_at(rest, i) {
        i += c.len_utf8();
        skip_spaces(&mut i);
    }
    let mut close = None;
    if let Some(c @ ('(' | '\u{ff08}')) = char_at(rest, i) {
        i += c.len_utf8();
        close = Some(if c == '(' { ')' } else { '\u{ff09}' });
        skip_spaces(&mut i);
    }
    // Most numbers are followed by a space and a word, or by nothing: no
    // marker starts with a digit, a space or punctuation other than `#`.
    let first = char_at(rest, i)?;
    if !(first.is_alphabetic() || first == '#') {
        return None;
    }
    let marker = EXTENSION_MARKERS
        .iter()
        .find(|m| starts_with_lowercase(&rest[i..], m))?;
    // Lower-casing keeps these markers' byte lengths.
    i += marker.len();
    // The marker must be a word of its own ("ext" but not "extra").
    if marker.chars().all(char::is_alphabetic)
        && marker.is_ascii()
        && char_at(rest, i).is_some_and(char::is_alphabetic)
    {
        return None;
    }
    while let Some(c) = char_at(rest, i) {
        if matches!(c, ':' | '.' | '=' | '\u{ff1a}') || sep(c) == Some(Sep::Space) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    let (digits, end) = digits_at(rest, i);
    extension_digits(rest, digits, end, close).map(|(d, e)| (d, from + e))
}

/// Whether `text`, lower-cased, starts with `marker` (lower case), without
/// building the lower-cased text.
fn starts_with_lowercase(text: &str, marker: &str) -> bool {
    let mut lower = text.chars().flat_map(char::to_lowercase);
    marker.chars().all(|m| lower.next() == Some(m))
}

fn extension_digits(
    rest: &str,
    digits: String,
    mut end: usize,
    close: Option<char>,
) -> Option<(String, usize)> {
    if digits.is_empty() || digits.len() > MAX_EXTENSION_DIGITS {
        return None;
    }
    if let Some(close) = close {
        while let Some(c) = char_at(rest, end).filter(|c| sep(*c) == Some(Sep::Space)) {
            end += c.len_utf8();
        }
        if char_at(rest, end) != Some(close) {
            return None;
        }
        end += close.len_utf8();
    } else if char_at(rest, end).is_some_and(wordlike) {
        // The extension must end the token too.
        return None;
    }
    Some((digits, end))
}
