//! Detection rules, one behaviour per test; the labelled corpus lives in
//! core/tests/phone_corpus.rs.
use super::*;

fn find(region: &str, text: &str) -> Vec<(String, Option<String>)> {
    Detector::new(region)
        .unwrap()
        .find(text)
        .into_iter()
        .map(|m| (m.e164, m.extension))
        .collect()
}

fn e164s(region: &str, text: &str) -> Vec<String> {
    find(region, text).into_iter().map(|(e, _)| e).collect()
}

#[test]
fn offsets_are_utf8_bytes() {
    let text = "Tél. : 01 23 45 67 89 — merci";
    let m = &Detector::new("FR").unwrap().find(text)[0];
    assert_eq!(&text[m.start..m.end], "01 23 45 67 89");
    assert_eq!(m.text, "01 23 45 67 89");
    assert_eq!(m.e164, "+33123456789");
}

#[test]
fn national_and_international_formats() {
    assert_eq!(e164s("FR", "appelez le 06 12 34 56 78"), ["+33612345678"]);
    assert_eq!(e164s("FR", "ou le 01.23.45.67.89"), ["+33123456789"]);
    assert_eq!(e164s("US", "call (415) 555-0132 today"), ["+14155550132"]);
    assert_eq!(e164s("GB", "ring 020 7946 0018"), ["+442079460018"]);
    assert_eq!(e164s("US", "London +44 (0)20 7946 0018"), ["+442079460018"]);
    assert_eq!(e164s("DE", "Tel. 030 12345678"), ["+493012345678"]);
    assert_eq!(e164s("US", "Madrid: +34 612 34 56 78"), ["+34612345678"]);
    assert_eq!(
        e164s("FR", "depuis l'étranger 0044 20 7946 0018"),
        ["+442079460018"]
    );
}

#[test]
fn extensions() {
    assert_eq!(
        find("US", "(415) 555-0132 ext. 42"),
        [("+14155550132".into(), Some("42".into()))]
    );
    assert_eq!(
        find("FR", "01 23 45 67 89 poste 123"),
        [("+33123456789".into(), Some("123".into()))]
    );
    assert_eq!(
        find("US", "+1 415 555 0132 x7"),
        [("+14155550132".into(), Some("7".into()))]
    );
}

#[test]
fn lookalikes_are_rejected() {
    for (region, text) in [
        ("FR", "le 12/05/2024 à 10:30"),
        ("US", "on 2024-05-06"),
        ("DE", "am 06.05.2024"),
        ("US", "pages 1000-2000"),
        ("US", "Total: $1234567"),
        ("FR", "prix 1234567 €"),
        ("US", "server 192.168.100.200"),
        ("US", "ISBN 978-3-16-148410-0"),
        ("US", "card 4111 1111 1111 1111"),
        ("US", "Order #4155550132"),
        ("US", "ticket 4155550132"),
        ("US", "v10.0.19041.1"),
        ("US", "abc4155550132"),
        ("US", "4155550132abc"),
        ("US", "12344155550132999"),
        ("US", "3.14155550132"),
    ] {
        assert!(e164s(region, text).is_empty(), "{region}: {text}");
    }
}

#[test]
fn region_from_locales() {
    assert_eq!(region_from_locale("fr-FR").as_deref(), Some("FR"));
    assert_eq!(region_from_locale("de").as_deref(), Some("DE"));
    assert_eq!(region_from_locale("en_GB").as_deref(), Some("GB"));
    assert_eq!(region_from_locale("en").as_deref(), Some("US"));
    assert_eq!(region_from_locale("xx"), None);
    assert!(Detector::new("ZZZ").is_err());
    assert!(Detector::new("").is_err());
}

#[test]
fn links() {
    let d = Detector::new("FR").unwrap();
    assert_eq!(
        parse_link("tel:+33-1-23-45-67-89;ext=12", &d),
        Some(LinkTarget::Phone {
            e164: "+33123456789".into(),
            extension: Some("12".into())
        })
    );
    assert_eq!(
        parse_link("callto:0612345678", &d),
        Some(LinkTarget::Phone {
            e164: "+33612345678".into(),
            extension: None
        })
    );
    assert_eq!(
        parse_link("tel:%2B14155550132", &d),
        Some(LinkTarget::Phone {
            e164: "+14155550132".into(),
            extension: None
        })
    );
    assert_eq!(
        parse_link("sip:alice@pbx.example.com;transport=tcp", &d),
        Some(LinkTarget::Sip {
            uri: "sip:alice@pbx.example.com".into()
        })
    );
    assert_eq!(parse_link("sip:al ice@x", &d), None);
    assert_eq!(parse_link("tel:12", &d), None);
    assert_eq!(parse_link("https://example.com", &d), None);
    assert_eq!(parse_link("tel:+14155550132;ext=abc", &d), None);
}

#[test]
fn no_panic_on_odd_text() {
    let d = Detector::new("US").unwrap();
    for t in [
        "",
        "+",
        "(",
        "+(",
        "1",
        "éé1234567890éé",
        "٣٤٥٦٧٨٩٠١٢",
        "+1 (",
        "12345 x",
        "\u{a0}4155550132\u{a0}",
    ] {
        let _ = d.find(t);
    }
    assert_eq!(d.find("\u{a0}4155550132\u{a0}").len(), 1);
}

#[test]
fn detect_reports_utf16_offsets_per_text_and_links() {
    let params = DetectParams {
        region: "FR".into(),
        texts: vec![
            "rien ici".into(),
            // "é" is 2 bytes in UTF-8 but 1 unit in UTF-16; "😀" is 4 and 2.
            "Appelez 😀 é 01 23 45 67 89 poste 12, merci".into(),
        ],
        links: vec![
            "https://x".into(),
            "tel:+33123456789".into(),
            "sip:bob@pbx".into(),
        ],
    };
    let r = detect(&params).unwrap();
    assert_eq!(r.texts.len(), 1);
    let hit = &r.texts[0];
    assert_eq!(hit.i, 1);
    let text16: Vec<u16> = params.texts[1].encode_utf16().collect();
    let shown = String::from_utf16(&text16[hit.start as usize..hit.end as usize]).unwrap();
    assert_eq!(shown, "01 23 45 67 89 poste 12");
    assert_eq!(hit.e164, "+33123456789");
    assert_eq!(hit.extension.as_deref(), Some("12"));
    assert_eq!(r.links.iter().map(|l| l.i).collect::<Vec<_>>(), vec![1, 2]);
    assert!(
        detect(&DetectParams {
            region: "ZZZ".into(),
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn international_numbers_ignore_the_default_region() {
    // Italian fixed lines keep their leading 0 after +39, whatever the region.
    for region in ["FR", "DE", "US", "IT", "GB"] {
        let d = Detector::new(region).unwrap();
        assert_eq!(
            d.validate("+39 02 1234 5678").as_deref(),
            Some("+390212345678"),
            "{region}"
        );
    }
}

#[test]
fn utf16_offsets_count_surrogate_pairs() {
    let t = "a😀b";
    assert_eq!(utf16_offsets(t, &[0, 1, 5, 6]), vec![0, 1, 3, 4]);
}

// ---- Failure kinds of issue 20, one test each ----

#[test]
fn a_bracket_after_a_number_never_lends_it_a_digit() {
    // "(9 AM" once made 1-800-555-0199 into another valid number.
    assert_eq!(
        e164s("US", "Toll-free: 1-800-555-0199 (9 AM–5 PM ET)"),
        ["+18005550199"]
    );
    assert_eq!(
        e164s("US", "Call 877 555 0121 (7 days a week)"),
        ["+18775550121"]
    );
    assert_eq!(
        e164s("DE", "Tel. 030 12345678 (8 bis 16 Uhr)"),
        ["+493012345678"]
    );
}

#[test]
fn a_bracket_holding_digits_after_a_number_keeps_the_number() {
    assert_eq!(
        e164s("US", "Support 1 (888) 555-0136 (24/7)"),
        ["+18885550136"]
    );
    assert_eq!(
        e164s("US", "Main line 800-555-0140 (option 2 for billing)"),
        ["+18005550140"]
    );
}

#[test]
fn dotted_north_american_numbers_with_a_leading_one() {
    assert_eq!(e164s("US", "1.617.555.0137 (office)"), ["+16175550137"]);
    assert_eq!(e164s("US", "+1.617.555.0139"), ["+16175550139"]);
}

#[test]
fn a_label_glued_to_a_bracket_or_number() {
    assert_eq!(e164s("US", "Tel:(617) 555-0134"), ["+16175550134"]);
    assert_eq!(e164s("US", "TEL:(617)555-0135"), ["+16175550135"]);
    assert_eq!(e164s("US", "Ph:617-555-0136"), ["+16175550136"]);
    // A time is still glue: 12:30 is not the start of a number.
    assert!(e164s("US", "at 12:3045550132").is_empty());
}

#[test]
fn dutch_dash_between_spaces_after_the_area_code() {
    assert_eq!(e164s("NL", "Tel: 020 - 123 4567"), ["+31201234567"]);
    assert_eq!(e164s("NL", "Mobiel: 06 - 12 34 56 78"), ["+31612345678"]);
    // Two dashes between numbers still part them.
    assert_eq!(
        e164s("US", "Call 650-253-4561 -- 212-555-0100"),
        ["+16502534561", "+12125550100"]
    );
}

#[test]
fn extensions_in_many_languages_and_after_a_comma() {
    for (region, text, e164, ext) in [
        ("US", "(617) 555-0141, ext. 12", "+16175550141", "12"),
        ("US", "617-555-0142,,305", "+16175550142", "305"),
        ("US", "617-555-0143 Extn. 77", "+16175550143", "77"),
        ("ES", "Tel 600 123 456 anexo 12", "+34600123456", "12"),
        ("IT", "Tel. 06 1234 5678 int. 23", "+390612345678", "23"),
        (
            "NL",
            "+31 (0)20 123 4567 toestel 214",
            "+31201234567",
            "214",
        ),
        ("PL", "Tel. 22 123 45 67 wew. 301", "+48221234567", "301"),
        (
            "BR",
            "Tel. +55 (21) 2345-6789 ramal 204",
            "+552123456789",
            "204",
        ),
        ("JP", "TEL 03-1234-5678（内線 123）", "+81312345678", "123"),
        ("JP", "03-1234-5678 内線 45", "+81312345678", "45"),
    ] {
        assert_eq!(
            find(region, text),
            [(e164.to_owned(), Some(ext.to_owned()))],
            "{text}"
        );
    }
    // A lone comma and a number is a list, not an extension.
    assert_eq!(
        find("US", "Phone: 201 555 0123, 201 555 0124"),
        [
            ("+12015550123".to_owned(), None),
            ("+12015550124".to_owned(), None)
        ]
    );
}

#[test]
fn digits_in_other_scripts_and_narrow_spaces() {
    assert_eq!(e164s("SA", "جوال: ٠٥٠١٢٣٤٥٦٧"), ["+966501234567"]);
    assert_eq!(e164s("IR", "تلفن: ۰۲۱-۲۲۳۴۵۶۷۸"), ["+982122345678"]);
    assert_eq!(
        e164s("JP", "電話 ０３－１２３４－５６７８"),
        ["+81312345678"]
    );
    assert_eq!(
        e164s("FR", "Tél.\u{a0}01\u{202f}23\u{202f}45\u{202f}67\u{202f}89"),
        ["+33123456789"]
    );
    assert_eq!(e164s("US", "212\u{2011}555\u{2011}0175"), ["+12125550175"]);
    // Offsets stay those of the text as written.
    let text = "جوال: ٠٥٠١٢٣٤٥٦٧ شكرا";
    let m = &Detector::new("SA").unwrap().find(text)[0];
    assert_eq!(&text[m.start..m.end], "٠٥٠١٢٣٤٥٦٧");
}

#[test]
fn numbers_beside_spaceless_scripts() {
    assert_eq!(e164s("JP", "携帯090-1234-5678です"), ["+819012345678"]);
    assert_eq!(e164s("CN", "手机13123456789联系"), ["+8613123456789"]);
}

#[test]
fn long_digit_runs_and_registry_ids_are_not_numbers() {
    for (region, text) in [
        ("DE", "EAN 4006381333931"),
        ("DE", "Artikelnummer 4006381333931 – Lieferzeit 3 Tage"),
        ("DE", "IMEI 490154203237518"),
        ("DE", "Seriennummer 1234567890123"),
        ("DE", "Sendungsnummer 00340434161234567890"),
        ("DE", "USt-IdNr. DE123456789"),
        ("DE", "IBAN DE89 3704 0044 0532 0130 00"),
        ("FR", "IBAN FR76 3000 6000 0112 3456 7890 189"),
        ("FR", "SIRET 732 829 320 00074"),
        ("PL", "NIP 123-456-32-18, REGON 123456785"),
        ("SE", "Org.nr 556123-4567"),
        ("IT", "P.IVA 01234567890"),
        ("US", "Routing number 021000021, account 123456789"),
        ("AU", "ABN 51 824 753 556"),
    ] {
        assert!(e164s(region, text).is_empty(), "{region}: {text}");
    }
}

#[test]
fn numbers_side_by_side_are_parted_where_the_writing_leaves_a_gap() {
    assert_eq!(
        e164s("US", "(212) 555-0177 / (212) 555-0178"),
        ["+12125550177", "+12125550178"]
    );
    assert_eq!(
        e164s("FR", "01 23 45 67 89 06 12 34 56 78"),
        ["+33123456789", "+33612345678"]
    );
    // What is found is always written: never a digit from the next number.
    let text = "Call 212 555 0105 2024";
    let m = &Detector::new("US").unwrap().find(text)[0];
    assert_eq!(m.text, "212 555 0105");
}

#[test]
fn an_id_word_counts_only_in_the_numbers_own_clause() {
    assert!(e164s("US", "Routing number 021000021 0").is_empty());
    assert_eq!(
        e164s("DE", "Bitte das account since. +49 89 3930 4466."),
        ["+498939304466"]
    );
    assert_eq!(
        e164s(
            "FR",
            "client update die please meeting mit. Standard : +33 2 36 66 13 10."
        ),
        ["+33236661310"]
    );
    assert!(e164s("US", "Account 4155550132, balance $0.00").is_empty());
}
