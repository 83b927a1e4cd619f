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
    use crate::protocol::DetectParams;
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
