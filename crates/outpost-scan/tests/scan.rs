//! Spans, categories and redaction on a few hand-picked sentences.

use outpost_scan::{Category, redact, scan, utf16_offset};

fn cats(text: &str) -> Vec<(Category, String)> {
    scan(text)
        .into_iter()
        .map(|f| (f.category, f.text))
        .collect()
}

#[test]
fn finds_each_identifier_with_its_span() {
    let text = "Mrs Okafor, DOB 04/09/1931, NHS 943 476 5919, tel 07700 900123.";
    let found = scan(text);
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.category, f.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Category::Name, "Okafor"),
            (Category::Date, "04/09/1931"),
            (Category::NhsNumber, "943 476 5919"),
            (Category::Phone, "07700 900123"),
        ]
    );
    for f in &found {
        assert_eq!(&text[f.start..f.end], f.text);
        assert!(f.confidence >= 0.5 && f.confidence <= 1.0);
    }
}

#[test]
fn a_checksum_decides_between_identifier_and_noise() {
    assert_eq!(cats("NHS 943 476 5919")[0].0, Category::NhsNumber);
    // One digit off: still flagged beside "NHS", but not as a valid number.
    assert_eq!(cats("NHS 943 476 5918")[0].0, Category::RecordNumber);
    assert_eq!(cats("DNI 12345678Z")[0].0, Category::DniNie);
    assert_eq!(cats("lote 12345678A")[0].0, Category::OtherId);
}

#[test]
fn leaves_clinical_look_alikes_alone() {
    for text in [
        "BP 142/88, HR 96, temp 38.4, SpO2 94%",
        "amoxicillin 500 mg TDS; heparin 5000 units BD",
        "ICD-10 I21.4; CIE-10 J18.9",
        "Parkinson's disease, Glasgow Coma Scale 15, Wells score 4",
        "enfermedad de Parkinson; escala de Glasgow 15",
        "Seen in 2019 and again in 2023.",
        "An 85-year-old woman; patients aged 90 and over; mayores de 90 años",
        "Charles Bonnet syndrome",
        "Platelets 150,000; WBC 11.2",
        "The patient presented with cough.",
    ] {
        assert_eq!(cats(text), vec![], "flagged something in {text:?}");
    }
}

#[test]
fn spanish_phrasing() {
    let got = cats(
        "Sra. Fernández, de 93 años, nacida el 5 de mayo de 1933, vive en Calle Mayor 12, 28013 Madrid.",
    );
    let kinds: Vec<Category> = got.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        kinds,
        vec![
            Category::Name,
            Category::Age,
            Category::Date,
            Category::Address,
            Category::Postcode
        ],
        "{got:?}"
    );
}

#[test]
fn redaction_replaces_each_finding() {
    let text = "Patient John Smith, email john@example.com, is 94 years old.";
    let out = redact(text, &scan(text));
    assert_eq!(out, "Patient [NAME], email [EMAIL], is [AGE 90+].");
    // Text without findings is unchanged.
    assert_eq!(redact("Hb 98 g/L", &scan("Hb 98 g/L")), "Hb 98 g/L");
}

#[test]
fn utf16_offsets_for_the_ui() {
    let text = "Sr. Núñez";
    let f = &scan(text)[0];
    assert_eq!(f.text, "Núñez");
    assert_eq!(utf16_offset(text, f.start), 4);
    assert_eq!(utf16_offset(text, f.end), 9);
}

#[test]
fn never_panics_on_odd_input() {
    for text in [
        "",
        "9",
        "+",
        "\u{0}",
        "Mrs",
        "ñññ 12/",
        "Dr\tÁ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 07700 900123 🚑",
    ] {
        let _ = scan(text);
    }
}
