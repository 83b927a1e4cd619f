//! Rules for the failure kinds found with the world set of the corpus
//! (core/tests/data/phone_corpus_world.tsv), one kind per test.
use super::*;

fn e164s(region: &str, text: &str) -> Vec<String> {
    Detector::new(region)
        .unwrap()
        .find(text)
        .into_iter()
        .map(|m| m.e164)
        .collect()
}

#[test]
fn a_number_in_brackets_of_its_own_is_found() {
    assert_eq!(e164s("US", "(415-666-7777)"), ["+14156667777"]);
    assert_eq!(e164s("FR", "(06 12 34 56 78)"), ["+33612345678"]);
    // The bracket still holds an area code when it is one.
    assert_eq!(e164s("US", "(415) 666-7777"), ["+14156667777"]);
}

#[test]
fn a_comma_separated_field_may_open_with_a_bracket() {
    assert_eq!(
        e164s("US", "Kim Park,(503) 555-0135,Portland"),
        ["+15035550135"]
    );
    // A decimal still glues: "1,5" is not a number start.
    assert!(e164s("US", "ratio 1,5035550135").is_empty());
}

#[test]
fn words_that_name_an_identifier_reject_the_number() {
    for (region, text) in [
        ("US", "Confirmation code 6465550127"),
        ("US", "Your confirmation number is 2125550163."),
        ("US", "Policy number 2125550165"),
        ("FR", "Code client : 0612345678"),
        ("FR", "Réf. : 0612345678"),
        ("FR", "Mot de passe temporaire 0612345678"),
        ("DE", "Lieferschein 80012345678"),
        ("DE", "Vorgang 2024-0312345 vom 12.03.2024"),
        ("FR", "RCS Paris B 732 829 320"),
        ("NL", "BSN 111222333"),
        ("AU", "Customer number 0298765432"),
        ("BR", "Protocolo 11987654321"),
    ] {
        assert!(e164s(region, text).is_empty(), "{text}");
    }
}

#[test]
fn compound_words_for_numbers_of_records_reject_the_number() {
    for (region, text) in [
        ("DE", "Kontonummer 0532013000"),
        ("DE", "Mitgliedsnummer 0891234567"),
        ("DE", "Kundennr. 0301234567"),
        ("NL", "Ordernummer 0612345678"),
        ("NL", "Klantnummer 0201234567"),
        ("JP", "会員番号 0312345678"),
        ("CN", "订单号 13812345678"),
    ] {
        assert!(e164s(region, text).is_empty(), "{text}");
    }
    // Unless the word names a phone.
    assert_eq!(e164s("DE", "Telefonnummer 030 1234567"), ["+49301234567"]);
    assert_eq!(e164s("DE", "Rufnummer 030 1234567"), ["+49301234567"]);
    assert_eq!(e164s("JP", "電話番号 03-1234-5678"), ["+81312345678"]);
    assert_eq!(e164s("CN", "手机号 138 1234 5678"), ["+8613812345678"]);
}

#[test]
fn words_for_a_line_to_call_win_over_an_identifier_word() {
    assert_eq!(
        e164s("US", "Order line: 4156667777 x 123"),
        ["+14156667777"]
    );
    assert_eq!(
        e164s("GB", "Customer services: 0345 600 1234"),
        ["+443456001234"]
    );
}

#[test]
fn a_file_name_is_not_a_number() {
    assert!(e164s("US", "Download 2125550198.jpg").is_empty());
    // A sentence may still end after the number.
    assert_eq!(e164s("US", "Call 212-555-0198. Thanks"), ["+12125550198"]);
}

#[test]
fn amounts_in_thousands_are_not_numbers() {
    assert!(e164s("DE", "Einwohner: 3.878.100 (Stand 31.12.2023)").is_empty());
    assert!(e164s("DE", "12.345.678 Einwohner").is_empty());
    // Dotted phone groups are not thousands.
    assert_eq!(e164s("FR", "01.23.45.67.89"), ["+33123456789"]);
    assert_eq!(e164s("US", "212.555.0123"), ["+12125550123"]);
}

#[test]
fn atencion_al_cliente_is_a_line_to_call() {
    assert_eq!(
        e164s("ES", "Atención al cliente 900 123 456 (gratuito)"),
        ["+34900123456"]
    );
}

#[test]
fn a_measure_with_its_unit_is_not_a_number() {
    assert!(e164s("DE", "Zählerstand 0301234567 kWh").is_empty());
    assert!(e164s("US", "Lab result 212.555.0101 mg/dL").is_empty());
    // Any other word after a number is no unit.
    assert_eq!(e164s("DE", "Tel. 030 1234567 Mitte"), ["+49301234567"]);
}

#[test]
fn north_america_s_international_prefix_on_another_region_s_page() {
    assert_eq!(
        e164s("GB", "From the US dial 011 44 20 7946 0019"),
        ["+442079460019"]
    );
    // Buenos Aires' area code 011 stays a national number.
    assert_eq!(e164s("AR", "Tel. 011 4567-8901"), ["+541145678901"]);
}

#[test]
fn a_hash_after_a_phone_word_is_a_label() {
    assert_eq!(e164s("US", "Tel#: 305-555-0122"), ["+13055550122"]);
    assert!(e164s("US", "Claim # 7185550166").is_empty());
}

#[test]
fn identifier_words_of_the_held_back_batch() {
    for (region, text) in [
        ("US", "Loan number 7135550135"),
        ("AT", "ATU 12345678 · FN 123456 x"),
        ("AU", "Member number 0412345678"),
        ("MX", "Folio 5512345678"),
        ("SE", "Kundnummer 0812345678"),
        ("DE", "Auftragsnr. 0891234567"),
    ] {
        assert!(e164s(region, text).is_empty(), "{text}");
    }
}

#[test]
fn a_phone_word_of_the_sentence_before_does_not_make_an_order_a_phone() {
    assert!(e164s("FR", "Merci pour le service. Order #0171373007, v18").is_empty());
    assert!(e164s("FR", "Planning du service. SIRET 969 486 309").is_empty());
    // Within one sentence the phone word still wins.
    assert_eq!(
        e164s("GB", "Customer services: 0345 600 1234"),
        ["+443456001234"]
    );
    assert_eq!(e164s("DE", "Tel. Zentrale 030 1234567"), ["+49301234567"]);
}

#[test]
fn identifier_words_of_the_second_held_back_batch() {
    for (region, text) in [
        ("FR", "Identifiant 0299123456"),
        ("IT", "Numero pratica 0577123456"),
        ("UA", "Замовлення № 0441234567"),
        ("RU", "Заказ 84951234567"),
    ] {
        assert!(e164s(region, text).is_empty(), "{text}");
    }
}

#[test]
fn a_sentence_ends_at_a_full_stop_after_a_word_that_is_no_phone_abbreviation() {
    for text in [
        "agent our renewal service. commande n° 0299565587, 06/04/1994",
        "spring service new. Order #903414564. La",
    ] {
        assert!(e164s("FR", text).is_empty(), "{text}");
    }
    assert_eq!(e164s("FR", "Tél. n° 01 23 45 67 89"), ["+33123456789"]);
    assert_eq!(e164s("DE", "Mob. Nr. 0151 23456789"), ["+4915123456789"]);
}
