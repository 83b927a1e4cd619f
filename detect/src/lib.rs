//! Phone numbers in page text: find candidates, reject what only looks like a
//! number, validate the rest against libphonenumber's metadata (a compact
//! copy generated into `data/metadata.tsv`), and give E.164 plus any
//! extension. The same code runs in the native host (`ringside-host detect`)
//! and in the extension's detection module, which only the service worker
//! loads.
//!
//! The scan is one linear pass over the text; only candidates that pass the
//! cheap lookalike rules reach the (comparatively costly) pattern matching.
//! Offsets are UTF-8 byte offsets into the input.

use serde::{Deserialize, Serialize};

mod lookalike;
mod metadata;
mod pattern;
mod scan;
use lookalike::lookalike;

/// One number found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneMatch {
    /// UTF-8 byte offset of the first byte of the match.
    pub start: usize,
    /// UTF-8 byte offset one past the last byte (the extension included).
    pub end: usize,
    /// The matched text, as it appears.
    pub text: String,
    /// The number in E.164, e.g. `+33123456789`.
    pub e164: String,
    /// Extension digits (`x`, `ext.`, `poste`, `#`), if any.
    pub extension: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("`{0}` is not a region code (two letters, e.g. FR, US, GB)")]
    BadRegion(String),
}

/// A detector for one default region (for numbers written without `+`).
#[derive(Debug, Clone)]
pub struct Detector {
    region: String,
}

/// Bytes where a number may start: ASCII digits, `+`, `(`, and every byte of
/// a non-ASCII character (other scripts' digits, full-width `+` and `(`),
/// which the scan then decodes.
const MAY_START: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b >= 0x80
            || (b >= b'0' as usize && b <= b'9' as usize)
            || b == b'+' as usize
            || b == b'(' as usize;
        b += 1;
    }
    t
};

/// Digits in a number without the country code (E.164 caps the whole at 15).
const MIN_DIGITS: usize = 6;
const MAX_DIGITS: usize = 15;
const MAX_EXTENSION_DIGITS: usize = 6;

impl Detector {
    /// `region` is an ISO 3166 alpha-2 code, in any case. Checking it reads
    /// only the list of region codes, never the patterns.
    pub fn new(region: &str) -> Result<Detector, PhoneError> {
        let upper = region.trim().to_ascii_uppercase();
        if upper.len() != 2 || !metadata::is_region(&upper) {
            return Err(PhoneError::BadRegion(region.to_owned()));
        }
        Ok(Detector { region: upper })
    }

    /// The default region's code.
    pub fn region(&self) -> String {
        self.region.clone()
    }

    /// Every valid number in `text`, in order.
    pub fn find(&self, text: &str) -> Vec<PhoneMatch> {
        let mut out = vec![];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < text.len() {
            // Most of a page's text starts no number: skip ASCII quickly.
            while i < bytes.len() && !MAY_START[usize::from(bytes[i])] {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            let next_is_digit = || {
                let mut it = text[i + c.len_utf8()..].chars();
                match it.next() {
                    Some(d) if digit_value(d).is_some() => true,
                    // "+(44)" and "(+44)" are rare; "+ 44" is not a number start.
                    _ => false,
                }
            };
            let starts = digit_value(c).is_some()
                || (matches!(c, '+' | '\u{ff0b}' | '(' | '\u{ff08}') && next_is_digit());
            if !starts {
                i += c.len_utf8();
                continue;
            }
            // Digits glued to a word or another number are not a phone number.
            if glued_before(text, i) {
                i = skip_token(text, i);
                continue;
            }
            let Some(run) = scan::scan_run(text, i) else {
                // "(415-666-7777)": a bracket that is not an area code's
                // may still open a number.
                i = if matches!(c, '(' | '\u{ff08}') {
                    i + c.len_utf8()
                } else {
                    skip_token(text, i)
                };
                continue;
            };
            match self.accept_run(text, &run) {
                Some((m, resume)) => {
                    i = resume.max(i + c.len_utf8());
                    out.push(m);
                }
                None if matches!(c, '(' | '\u{ff08}') => i += c.len_utf8(),
                None => i = run.end().max(i + c.len_utf8()),
            }
        }
        out
    }

    /// The whole run if it is a number, else its longest valid prefix cut
    /// where the writing leaves a gap (two numbers side by side in a table,
    /// a number followed by a year). Returns the match and where to go on.
    fn accept_run(&self, text: &str, run: &scan::Run) -> Option<(PhoneMatch, usize)> {
        for k in (1..=run.groups.len()).rev() {
            if k < run.groups.len() && !run.groups[k].gap_before {
                continue;
            }
            let Some(cand) = run.candidate(text, k) else {
                continue;
            };
            if let Some(m) = self.accept(text, &cand) {
                let resume = if k < run.groups.len() {
                    run.groups[k].lead
                } else {
                    cand.end
                };
                return Some((m, resume));
            }
        }
        None
    }

    fn accept(&self, text: &str, c: &Candidate) -> Option<PhoneMatch> {
        // Both rules must pass and neither has side effects: the metadata's
        // verdict, now the cheaper of the two, goes first.
        let e164 = self.validate(&c.digits)?;
        if lookalike(text, c) {
            return None;
        }
        Some(PhoneMatch {
            start: c.start,
            end: c.end,
            text: text[c.start..c.end].to_owned(),
            e164,
            extension: c.extension.clone(),
        })
    }

    /// E.164 for a number written as text, if libphonenumber's metadata
    /// says it is valid.
    pub fn validate(&self, number_text: &str) -> Option<String> {
        let text = number_text.trim();
        let plus = text.starts_with('+');
        // "+44 (0)20 ...": the trunk prefix in brackets is not dialled.
        let cleaned;
        let text = if plus && text.contains("(0)") {
            cleaned = text.replacen("(0)", "", 1);
            cleaned.as_str()
        } else {
            text
        };
        let mut digits = String::with_capacity(text.len());
        digits.extend(
            text.chars()
                .filter_map(digit_value)
                .map(|d| char::from(b'0' + d)),
        );
        if digits.len() > MAX_DIGITS + 4 {
            return None;
        }
        // With a `+`, the default region takes no part (`+39 02 …` keeps
        // Italy's leading 0 whatever the default region).
        metadata::to_e164(metadata::region_index(&self.region)?, plus, &digits)
    }
}

/// What calling a number costs, as far as it decides whether a click from a
/// page may dial it without the agent confirming (libphonenumber's number
/// types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberCost {
    /// Fixed line, mobile, toll-free, VoIP and the other ordinary types.
    Regular,
    /// A premium-rate service (UK 09, FR 089, DE 0900, US 900...).
    PremiumRate,
    /// A shared-cost number (UK 0845, FR 081...).
    SharedCost,
    /// Not a valid number for any region (or not E.164).
    Unrecognised,
}

/// Classifies an E.164 number (`+449098790000`).
pub fn number_cost(e164: &str) -> NumberCost {
    let Some(digits) = e164.strip_prefix('+') else {
        return NumberCost::Unrecognised;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return NumberCost::Unrecognised;
    }
    match metadata::classify(digits) {
        Some(metadata::Kind::PremiumRate) => NumberCost::PremiumRate,
        Some(metadata::Kind::SharedCost) => NumberCost::SharedCost,
        Some(_) => NumberCost::Regular,
        None => NumberCost::Unrecognised,
    }
}

/// A region for a browser locale (`fr-FR` → FR, `de` → DE, `en` → US).
pub fn region_from_locale(locale: &str) -> Option<String> {
    let mut parts = locale.split(['-', '_']);
    let lang = parts.next()?.to_ascii_lowercase();
    if let Some(r) = parts.find(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic())) {
        return Some(r.to_ascii_uppercase());
    }
    let region = match lang.as_str() {
        "en" => "US",
        "fr" => "FR",
        "de" => "DE",
        "es" => "ES",
        "it" => "IT",
        "nl" => "NL",
        "pt" => "PT",
        "sv" => "SE",
        "da" => "DK",
        "nb" | "no" => "NO",
        "pl" => "PL",
        "ja" => "JP",
        _ => return None,
    };
    Some(region.to_owned())
}

/// What a `tel:`, `callto:` or `sip:` link dials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkTarget {
    /// A telephone number.
    Phone {
        e164: String,
        extension: Option<String>,
    },
    /// A SIP address, dialled as is (`sip:alice@example.com`).
    Sip { uri: String },
}

/// Interprets a link's href. Returns None for other schemes and invalid numbers.
pub fn parse_link(href: &str, detector: &Detector) -> Option<LinkTarget> {
    let href = href.trim();
    let (scheme, rest) = href.split_once(':')?;
    let scheme = scheme.to_ascii_lowercase();
    let rest = percent_decode(rest.trim_start_matches("//"));
    match scheme.as_str() {
        "sip" | "sips" => {
            let (user, host) = rest.split_once('@')?;
            let host = host.split([';', '?']).next()?;
            let valid_user = !user.is_empty()
                && user
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'+".contains(c));
            let valid_host = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
            (valid_user && valid_host).then(|| LinkTarget::Sip {
                uri: format!("{scheme}:{user}@{host}"),
            })
        }
        "tel" | "callto" => {
            // RFC 3966: tel:+1-201-555-0123;ext=1234;phone-context=...
            let mut parts = rest.split(';');
            let number = parts.next()?.trim();
            let mut extension = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("ext"))
                .map(|(_, v)| v.to_owned());
            let number = match number.split_once(['x', 'X', '#']) {
                Some((n, ext)) if extension.is_none() && !ext.is_empty() => {
                    extension = Some(ext.trim().to_owned());
                    n
                }
                _ => number,
            };
            if let Some(e) = &extension
                && (e.is_empty()
                    || e.len() > MAX_EXTENSION_DIGITS
                    || !e.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            let e164 = detector.validate(number)?;
            Some(LinkTarget::Phone { e164, extension })
        }
        _ => None,
    }
}

/// Answers a `detect` request: every number in every text (UTF-16 offsets, as
/// the DOM counts) and every dialable link.
pub fn detect(params: &DetectParams) -> Result<DetectResult, PhoneError> {
    let detector = Detector::new(&params.region)?;
    let mut out = DetectResult::default();
    for (i, text) in params.texts.iter().enumerate() {
        let found = detector.find(text);
        if found.is_empty() {
            continue;
        }
        let bytes: Vec<usize> = found.iter().flat_map(|m| [m.start, m.end]).collect();
        let units = utf16_offsets(text, &bytes);
        for (m, pair) in found.into_iter().zip(units.chunks(2)) {
            out.texts.push(TextHit {
                i: i as u32,
                start: pair[0],
                end: pair[1],
                e164: m.e164,
                extension: m.extension,
            });
        }
    }
    for (i, href) in params.links.iter().enumerate() {
        if let Some(target) = parse_link(href, &detector) {
            out.links.push(LinkHit {
                i: i as u32,
                target,
            });
        }
    }
    Ok(out)
}

/// `detect` parameters (the host request's and the detection module's):
/// texts and hrefs, scanned for phone numbers with a default region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectParams {
    /// Default region for numbers written without `+` (ISO 3166 alpha-2).
    pub region: String,
    #[serde(default)]
    pub texts: Vec<String>,
    /// `href`s of `tel:`, `callto:` and `sip:` links.
    #[serde(default)]
    pub links: Vec<String>,
}

/// A number found in `texts[i]`, with UTF-16 offsets (what the DOM uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextHit {
    pub i: u32,
    pub start: u32,
    pub end: u32,
    pub e164: String,
    #[serde(default)]
    pub extension: Option<String>,
}

/// A dialable link: `links[i]` and what it dials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHit {
    pub i: u32,
    pub target: LinkTarget,
}

/// `detect` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectResult {
    pub texts: Vec<TextHit>,
    pub links: Vec<LinkHit>,
}

/// Converts ascending UTF-8 byte offsets (on char boundaries) to UTF-16 offsets.
pub fn utf16_offsets(text: &str, byte_offsets: &[usize]) -> Vec<u32> {
    let mut out = Vec::with_capacity(byte_offsets.len());
    let mut units = 0u32;
    let mut chars = text.char_indices().peekable();
    for &target in byte_offsets {
        while let Some(&(at, c)) = chars.peek() {
            if at >= target {
                break;
            }
            units += c.len_utf16() as u32;
            chars.next();
        }
        out.push(units);
    }
    out
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A candidate span, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) start: usize,
    /// End of the number proper (before any extension).
    pub(crate) number_end: usize,
    /// End including the extension.
    pub(crate) end: usize,
    pub(crate) extension: Option<String>,
    /// The number as ASCII: an optional `+`, digit groups separated by one space.
    pub(crate) digits: String,
    /// Written as one run of digits, with no separator at all.
    pub(crate) unbroken: bool,
}

/// The value of a decimal digit in any of the scripts numbers are written
/// in on the web: ASCII, Arabic-Indic, Persian (Extended Arabic-Indic),
/// Devanagari and full-width.
pub(crate) fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{660}'..='\u{669}' => '\u{660}',
        '\u{6f0}'..='\u{6f9}' => '\u{6f0}',
        '\u{966}'..='\u{96f}' => '\u{966}',
        '\u{ff10}'..='\u{ff19}' => '\u{ff10}',
        _ => return None,
    };
    Some((c as u32 - base as u32) as u8)
}

/// Scripts written without spaces between words (Han, kana, Hangul, Thai):
/// a number may touch their letters and still stand alone.
fn spaceless_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF61..=0xFF9F)
}

/// A letter or digit that makes the characters beside it one word.
pub(crate) fn wordlike(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !spaceless_script(c)
}

fn prev_char(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

/// True when the digit run starting at `i` continues a word or a number.
fn glued_before(text: &str, i: usize) -> bool {
    match prev_char(text, i) {
        None => false,
        Some(c) if wordlike(c) => true,
        // "Tel:(617)", "Ph.617": a label, not glue.
        Some(p @ ('.' | ':')) => {
            let before = &text[..i - p.len_utf8()];
            before
                .chars()
                .next_back()
                .is_some_and(|c| digit_value(c).is_some())
        }
        // "1,5", "v2-3", "a/123", "id=12": part of a decimal, a range or a
        // token; a bracket or `+` after a comma starts a field ("Kim,(503) …").
        Some(',') if digit_value(text[i..].chars().next().unwrap_or(' ')).is_none() => false,
        Some(p @ (',' | '/' | '-' | '@' | '=' | '&' | '%' | '+' | '_')) => {
            let before = &text[..i - p.len_utf8()];
            before.chars().next_back().is_some_and(wordlike)
        }
        Some(_) => false,
    }
}

/// Skips the rest of an alphanumeric token (and numbers glued with . , : - /).
fn skip_token(text: &str, i: usize) -> usize {
    let mut chars = text[i..].char_indices().peekable();
    let mut end = i;
    // The first char is the digit (or + or bracket) that started the token.
    if let Some((_, c)) = chars.next() {
        end = i + c.len_utf8();
    }
    while let Some((off, c)) = chars.next() {
        let glue = matches!(c, '.' | ',' | ':' | '-' | '/')
            && chars.peek().is_some_and(|(_, n)| digit_value(*n).is_some());
        if wordlike(c) || glue {
            end = i + off + c.len_utf8();
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_world;
