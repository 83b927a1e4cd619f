//! Rules for what only looks like a phone number: dates, ranges, prices,
//! IP addresses, ISBNs, card numbers, identifiers, versions, glued tokens.

use super::Candidate;

fn digit_groups(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect()
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Currency codes and names written beside amounts (lower case).
const CURRENCIES: &[&str] = &[
    "eur", "euro", "euros", "usd", "gbp", "chf", "kr", "sek", "nok", "dkk", "pln", "czk", "huf",
    "jpy", "cny", "rmb", "inr", "rub", "brl", "cad", "aud", "nzd", "mxn", "zar", "mad", "dh",
    "xof", "xaf", "fcfa", "cfa", "tnd", "dzd", "egp", "ngn", "kes", "sgd", "hkd", "krw", "aed",
    "sar", "dollars", "pounds", "yen",
];

/// Words that, right before a number, make it an identifier and not a phone.
const ID_WORDS: &[&str] = &[
    "order",
    "ticket",
    "invoice",
    "ref",
    "ref.",
    "reference",
    "id",
    "no.",
    "nº",
    "n°",
    "nr.",
    "nr",
    "tracking",
    "case",
    "commande",
    "facture",
    "dossier",
    "bestellung",
    "rechnung",
    "kundennummer",
    "account",
    "sku",
    "po",
    "isbn",
    "iban",
    "siret",
    "siren",
    "ust-idnr.",
    "version",
    "build",
    "serial",
    "ssn",
    "zip",
    "postcode",
    "vat",
];
/// Words that say "this is a phone number" and win over an ID word.
const PHONE_WORDS: &[&str] = &[
    "tel",
    "tél",
    "phone",
    "fax",
    "mobile",
    "cell",
    "call",
    "appel",
    "telefon",
    "handy",
    "téléphone",
    "portable",
    "hotline",
    "support",
    "contact",
];

pub(crate) fn lookalike(text: &str, c: &Candidate, number: &str) -> bool {
    let after = &text[c.end..];
    let before = &text[..c.start];
    let after_trim = after.trim_start_matches([' ', '\u{a0}']);
    // Followed by a letter or digit: part of a longer token ("0612345678abc").
    if after.chars().next().is_some_and(|ch| ch.is_alphanumeric()) {
        return true;
    }
    // Decimal or time continuation ("123456.78", "2024-05-06 12:30") or a
    // code suffix ("612345678-B", "2015550123/A").
    let mut ac = after.chars();
    if let (Some(p), Some(d)) = (ac.next(), ac.next()) {
        if matches!(p, '.' | ',' | ':') && d.is_ascii_digit() {
            return true;
        }
        if matches!(p, '-' | '/' | '_') && d.is_alphanumeric() {
            return true;
        }
    }
    // Prices and percentages.
    let before_tail: String = before.chars().rev().take(3).collect();
    if before_tail.contains(['$', '€', '£', '¥', '₹']) {
        return true;
    }
    for unit in ["€", "$", "£", "%", "¥", "₹", "₽", "zł"] {
        if after_trim.starts_with(unit) {
            return true;
        }
    }
    // A currency code (or a word-like unit) right after or right before.
    let word_after: String = after_trim
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    let word_before: String = before
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    if CURRENCIES.contains(&word_after.as_str()) || CURRENCIES.contains(&word_before.as_str()) {
        return true;
    }
    // Identifiers: "#123456", "Order 12345678", "ISBN 978-...", "v1.2.3".
    let context: String = before
        .chars()
        .rev()
        .take(24)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    let ctx = context.trim_end_matches([' ', ':', '\u{a0}', '\t']);
    if ctx.ends_with('#') {
        return true;
    }
    let has_phone_word = PHONE_WORDS.iter().any(|w| ctx.contains(w));
    if !has_phone_word {
        let last_word = ctx
            .rsplit(|ch: char| ch.is_whitespace() || ch == '(' || ch == '[')
            .next()
            .unwrap_or("")
            .trim_end_matches(['#', ':']);
        if ID_WORDS.contains(&last_word) || last_word == "v" {
            return true;
        }
    }
    let groups = digit_groups(number);
    let plain: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).collect();
    let intl = number.starts_with('+');
    if !intl {
        // Dates: 3 groups with one of 4 digits and the others of 1-2.
        if groups.len() == 3 {
            let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            let year_first = lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2;
            let year_last = lens[2] == 4 && lens[0] <= 2 && lens[1] <= 2;
            if year_first || year_last {
                return true;
            }
        }
        // IPv4 addresses.
        if groups.len() == 4
            && number.contains('.')
            && !number.contains(' ')
            && groups
                .iter()
                .all(|g| g.len() <= 3 && g.parse::<u16>().is_ok_and(|v| v <= 255))
            && groups.iter().any(|g| g.len() != 2)
        {
            return true;
        }
        // Ranges: "1000-2000", "2019 - 2024".
        if groups.len() == 2 && number.contains(['-', '–']) {
            let (a, b) = (groups[0], groups[1]);
            if a.len() == b.len() && a.len() <= 5 && !b.starts_with('0') && !a.starts_with('0') {
                let (x, y) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
                if x < y {
                    return true;
                }
            }
        }
        // Version-like: dotted groups of differing short lengths ("10.0.19041.1").
        if number.contains('.')
            && groups.len() >= 3
            && groups.iter().any(|g| g.len() >= 4)
            && groups.iter().any(|g| g.len() == 1)
        {
            return true;
        }
    }
    // Payment cards: 13+ digits in groups of four that pass Luhn.
    if plain.len() >= 13
        && groups.len() >= 3
        && groups[..groups.len() - 1].iter().all(|g| g.len() == 4)
        && luhn(&plain)
    {
        return true;
    }
    // ISBN-13 written without the word.
    if plain.len() == 13 && (plain.starts_with(b"978") || plain.starts_with(b"979")) && !intl {
        return true;
    }
    false
}
