//! Rules for what only looks like a phone number: dates, ranges, prices,
//! IP addresses, ISBNs, card numbers, identifiers, versions, glued tokens.

use super::{Candidate, digit_value, wordlike};

fn digit_groups(s: &str) -> Vec<&str> {
    s.split(|c: char| digit_value(c).is_none())
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

/// Currency codes and names written beside amounts (lower case, sorted).
const CURRENCIES: &[&str] = &[
    "aed", "aud", "brl", "cad", "cfa", "chf", "cny", "czk", "dh", "dkk", "dollars", "dzd", "egp",
    "eur", "euro", "euros", "fcfa", "gbp", "hkd", "huf", "inr", "jpy", "kes", "kr", "krw", "mad",
    "mxn", "ngn", "nok", "nzd", "pln", "pounds", "rmb", "rub", "sar", "sek", "sgd", "tnd", "usd",
    "xaf", "xof", "yen", "zar",
];

/// Units written right after a measure (lower case, sorted).
const UNITS: &[&str] = &[
    "bps", "cm", "db", "gb", "ghz", "hz", "kb", "kbps", "kg", "khz", "km", "kwh", "lb", "lbs",
    "mb", "mbps", "mg", "mhz", "ml", "mm", "mph", "tb", "wh",
];

/// Words that, right before a number, make it an identifier and not a phone:
/// order, invoice and tracking words, and company, tax, person, bank, product
/// and logistics registries of the corpus's countries. Sorted (binary search).
const ID_WORDS: &[&str] = &[
    "aadhaar",
    "abn",
    "account",
    "acn",
    "artikelnummer",
    "atu",
    "auftrag",
    "auftragsnummer",
    "bestelling",
    "bestellnummer",
    "bestellung",
    "bic",
    "blz",
    "bsn",
    "btw",
    "build",
    "case",
    "cf",
    "cif",
    "claim",
    "client",
    "cnpj",
    "codice",
    "colis",
    "commande",
    "confirmation",
    "cpf",
    "cro",
    "cuil",
    "cuit",
    "curp",
    "customer",
    "cvr",
    "dhl",
    "dič",
    "dossier",
    "ean",
    "ein",
    "factura",
    "facture",
    "factuur",
    "fattura",
    "fedex",
    "fn",
    "folio",
    "gst",
    "gstin",
    "gtin",
    "hra",
    "hrb",
    "iban",
    "ice",
    "ico",
    "id",
    "identifiant",
    "imei",
    "inn",
    "invoice",
    "isbn",
    "ičo",
    "kenmerk",
    "konto",
    "krs",
    "kundennr.",
    "kundennummer",
    "kvk",
    "lieferschein",
    "loan",
    "lot",
    "meeting",
    "member",
    "model",
    "n.",
    "nhs",
    "nie",
    "nif",
    "nip",
    "nit",
    "no",
    "no.",
    "nr",
    "nr.",
    "n°",
    "nº",
    "order",
    "org.nr",
    "org.nr.",
    "orgnr",
    "p.iva",
    "pan",
    "part",
    "partita",
    "passcode",
    "passe",
    "password",
    "passwort",
    "patent",
    "pedido",
    "personnummer",
    "pesel",
    "pin",
    "plz",
    "po",
    "policy",
    "postcode",
    "pratica",
    "promo",
    "protocolo",
    "rcs",
    "rechnung",
    "rechnungsnummer",
    "ref",
    "ref.",
    "reference",
    "referencia",
    "referentie",
    "referenz",
    "reg.",
    "registration",
    "regon",
    "rfc",
    "riferimento",
    "routing",
    "ruc",
    "rut",
    "réf",
    "réf.",
    "référence",
    "sendungsnummer",
    "serial",
    "seriennummer",
    "siren",
    "siret",
    "sku",
    "ssn",
    "steuer-nr.",
    "steuernummer",
    "student",
    "suivi",
    "sécurité",
    "ticket",
    "tracking",
    "trn",
    "tva",
    "uen",
    "uid",
    "upc",
    "ups",
    "ust-idnr",
    "ust-idnr.",
    "vat",
    "version",
    "vertragsnr.",
    "vorgang",
    "vorgangsnummer",
    "y-tunnus",
    "zip",
    "заказ",
    "замовлення",
    "инн",
    "кпп",
    "огрн",
    "№",
    "사업자등록번호",
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
    "mob",
    "móvil",
    "celular",
    "telefone",
    "telemóvel",
    "telefono",
    "teléfono",
    "cellulare",
    "telefoon",
    "mobiel",
    "tlf",
    "puh",
    "тел",
    "моб",
    "电话",
    "電話",
    "携帯",
    "전화",
    "whatsapp",
    "gsm",
    "freephone",
    "switchboard",
    "service",
    "care",
    "line",
    "dial",
    "ruf",
    "toll",
    "free",
    "kontakt",
    "zentrale",
    "notruf",
    "手机",
    "座机",
];

/// Endings that make a word an identifier's name: "Kundennummer",
/// "Bestellnr.", "ordernummer", "会員番号", "订单号" (a phone word before the
/// number wins: "Telefonnummer", "電話番号").
const ID_SUFFIXES: &[&str] = &["nummer", "nr.", "nr", "番号", "号"];

fn is_id_word(w: &str) -> bool {
    ID_WORDS.binary_search(&w).is_ok()
        || ID_SUFFIXES
            .iter()
            .any(|s| w.len() > s.len() + 1 && w.ends_with(s))
}

/// Where the last sentence of `context` starts: after a word of three
/// letters or more, a full stop (or ! ?) and a space ("service. Order",
/// "service. commande"), but not after a phone word's abbreviation of five
/// letters at most ("Tel. 01…", "Mob. 06…", "Tel. Zentrale"); or after `|`,
/// `;` or `·`.
fn sentence_start(context: &str) -> usize {
    let mut start = 0;
    let mut word_start = 0;
    let mut letters = 0;
    for (at, ch) in context.char_indices() {
        if ch.is_alphabetic() {
            if letters == 0 {
                word_start = at;
            }
            letters += 1;
            continue;
        }
        if matches!(ch, '.' | '!' | '?')
            && letters >= 3
            && context[at + ch.len_utf8()..].starts_with([' ', '\u{a0}'])
            && !(letters <= 5 && phone_word(&context[word_start..at].to_lowercase()))
        {
            start = at + ch.len_utf8();
        }
        if matches!(ch, '|' | ';' | '·') {
            start = at + ch.len_utf8();
        }
        letters = 0;
    }
    start
}

/// A word that starts with a phone word ("tel", "telefonnummer", "mob").
fn phone_word(word: &str) -> bool {
    word.len() >= 2
        && PHONE_WORDS
            .iter()
            .any(|w| w.as_bytes()[0] == word.as_bytes()[0] && word.starts_with(w))
}

pub(crate) fn lookalike(text: &str, c: &Candidate) -> bool {
    let number = &text[c.start..c.number_end];
    let after = &text[c.end..];
    let before = &text[..c.start];
    let after_trim = after.trim_start_matches([' ', '\u{a0}']);
    // Followed by a letter or digit: part of a longer token ("0612345678abc").
    if after.chars().next().is_some_and(wordlike) {
        return true;
    }
    // A long run of digits with no separator and no `+`: barcodes (EAN-13),
    // IMEIs, serial numbers, registry ids. National numbers written in one
    // run are at most 12 digits, and those of 12 start with a trunk 0.
    if c.unbroken {
        let n = c.digits.len();
        if n >= 13 || (n == 12 && !c.digits.starts_with('0')) {
            return true;
        }
    }
    // The previous token mixes letters and digits ("FR76 3000 6000", "IE12 …"):
    // the candidate continues a code.
    let prev_token = before
        .strip_suffix(' ')
        .and_then(|b| b.rsplit(char::is_whitespace).next())
        .unwrap_or("");
    if prev_token.chars().any(|ch| ch.is_ascii_digit())
        && prev_token.chars().any(|ch| ch.is_alphabetic())
        && prev_token.chars().all(|ch| ch.is_alphanumeric())
    {
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
        // A file name: "2125550198.jpg".
        if p == '.' && d.is_ascii_lowercase() {
            return true;
        }
    }
    // Prices and percentages.
    if before
        .chars()
        .rev()
        .take(3)
        .any(|ch| matches!(ch, '$' | '€' | '£' | '¥' | '₹'))
    {
        return true;
    }
    for unit in ["€", "$", "£", "%", "¥", "₹", "₽", "zł"] {
        if after_trim.starts_with(unit) {
            return true;
        }
    }
    // A currency code (or a word-like unit) right after or right before.
    let after_len: usize = after_trim
        .chars()
        .take_while(|c| c.is_alphabetic())
        .map(char::len_utf8)
        .sum();
    let before_trim = before.trim_end();
    let before_len: usize = before_trim
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .map(char::len_utf8)
        .sum();
    // The longest currency word has 7 letters: longer words are not looked up.
    let currency = |w: &str| {
        !w.is_empty()
            && w.len() <= 16
            && CURRENCIES.binary_search(&w.to_lowercase().as_str()).is_ok()
    };
    let word_after = &after_trim[..after_len];
    if word_after.len() <= 4
        && UNITS
            .binary_search(&word_after.to_ascii_lowercase().as_str())
            .is_ok()
    {
        return true;
    }
    if currency(word_after) || currency(&before_trim[before_trim.len() - before_len..]) {
        return true;
    }
    // Identifiers: "#123456", "Order 12345678", "ISBN 978-...", "v1.2.3".
    let context_start = before
        .char_indices()
        .rev()
        .take(24)
        .last()
        .map_or(before.len(), |(at, _)| at);
    let context = before[context_start..].to_lowercase();
    let ctx = context.trim_end_matches([' ', ':', '\u{a0}', '\t']);
    // A phone word starts one of the words before ("Tel.:", "Telefon"),
    // not inside one ("Bestellnummer"), in the same sentence ("… customer
    // service. Order #123456" is an order).
    let around = &before[context_start..];
    let sentence = around[sentence_start(around)..].to_lowercase();
    let has_phone_word = sentence
        .split(|ch: char| !ch.is_alphanumeric())
        .any(phone_word);
    // "#123456", but "Tel#: 305-555-0122".
    if ctx.ends_with('#') && !has_phone_word {
        return true;
    }
    if !has_phone_word {
        let last_word = ctx
            .rsplit(|ch: char| ch.is_whitespace() || ch == '(' || ch == '[')
            .next()
            .unwrap_or("")
            .trim_end_matches(['#', ':']);
        if is_id_word(last_word) || last_word == "v" {
            return true;
        }
        // "Order no. 123…", "Routing number 0210…", "N° de sécurité sociale 1 85…":
        // an id word among the last three words of the same clause.
        let words = ctx
            .split(|ch: char| ch.is_whitespace() || ch == '(' || ch == '[')
            .filter(|w| !w.is_empty());
        let mut id_word = false;
        for w in words.rev().take(3) {
            if is_id_word(w.trim_end_matches(['#', ':', ','])) {
                id_word = true;
                break;
            }
            // "… account since. +49 89 …": a sentence or clause ended here.
            if w.ends_with(['.', ';', '!', '?', '|', ',', '·']) {
                break;
            }
        }
        if id_word {
            return true;
        }
    }
    let groups = digit_groups(number);
    let plain: Vec<u8> = c.digits.bytes().filter(u8::is_ascii_digit).collect();
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
        // Amounts in thousands: "3.878.100", "12,345,678".
        if groups.len() >= 3
            && groups[0].len() <= 2
            && !groups[0].starts_with('0')
            && groups[1..].iter().all(|g| g.len() == 3)
            && number
                .chars()
                .all(|ch| ch == '.' || digit_value(ch).is_some())
        {
            return true;
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
        // A lone leading digit is a trunk or calling code ("1.617.555.0137").
        if number.contains('.')
            && groups.len() >= 3
            && groups
                .iter()
                .any(|g| g.len() >= 5 || (g.len() == 4 && number.contains(' ')))
            || number.contains('.')
                && groups.len() >= 3
                && groups.iter().any(|g| g.len() >= 4)
                && groups[1..].iter().any(|g| g.len() == 1)
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

#[cfg(test)]
mod tests {
    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        assert!(super::ID_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(super::CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert!(super::UNITS.windows(2).all(|w| w[0] < w[1]));
    }
}
