//! The rules: each proposes candidates with a confidence; `scan` keeps the
//! most confident of any that overlap.

use crate::Category;
use crate::checks;
use crate::names;
use regex::{Captures, Regex};

pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub category: Category,
    pub confidence: f32,
}

mod patterns;

use patterns::*;

fn push(out: &mut Vec<Candidate>, m: regex::Match<'_>, category: Category, confidence: f32) {
    out.push(Candidate {
        start: m.start(),
        end: m.end(),
        category,
        confidence,
    });
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The text just before `at`, lowercased, up to `n` bytes (on a char
/// boundary).
fn before(text: &str, at: usize, n: usize) -> String {
    let mut from = at.saturating_sub(n);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    text[from..at].to_lowercase()
}

fn has_any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// The character right before `at`, if any.
fn prev_char(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn next_char(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

const PHONE_WORDS: &[&str] = &[
    "tel",
    "phone",
    "mobile",
    "mob",
    "cell",
    "fax",
    "call",
    "contact",
    "tlf",
    "tfno",
    "teléfono",
    "telefono",
    "móvil",
    "movil",
    "llamar",
];

pub fn candidates(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    internet(text, &mut out);
    people(text, &mut out);
    dates(text, &mut out);
    ages(text, &mut out);
    national_numbers(text, &mut out);
    phones(text, &mut out);
    records(text, &mut out);
    places(text, &mut out);
    codes(text, &mut out);
    out
}

fn internet(text: &str, out: &mut Vec<Candidate>) {
    for m in EMAIL.find_iter(text) {
        push(out, m, Category::Email, 0.99);
    }
    for m in URL.find_iter(text) {
        let trimmed = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
        out.push(Candidate {
            start: m.start(),
            end: m.start() + trimmed.len(),
            category: Category::Url,
            confidence: 0.9,
        });
    }
    for c in IPV4.captures_iter(text) {
        let ok = (1..=4).all(|i| {
            c.get(i)
                .and_then(|g| g.as_str().parse::<u16>().ok())
                .is_some_and(|n| n <= 255)
        });
        if ok && let Some(m) = c.get(0) {
            push(out, m, Category::IpAddress, 0.95);
        }
    }
}

/// Trims words off the end of a name that are not names ("Smith Presented"
/// → "Smith"); `None` when nothing is left.
fn name_span(text: &str, g: regex::Match<'_>) -> Option<(usize, usize)> {
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut at = g.start();
    for w in g.as_str().split([' ', '\t']) {
        if !w.is_empty() {
            words.push((at, w));
        }
        at += w.len() + 1;
    }
    if words.first().is_some_and(|(_, w)| names::is_not_name(w)) {
        return None;
    }
    while words.last().is_some_and(|(_, w)| names::is_not_name(w)) {
        words.pop();
    }
    let (first, _) = *words.first()?;
    let (last_at, last) = *words.last()?;
    let end = last_at + last.len();
    debug_assert!(end <= text.len());
    Some((first, end))
}

/// "Parkinson's disease", "Charles Bonnet syndrome", "escala de Glasgow".
fn is_eponym(text: &str, start: usize, end: usize) -> bool {
    let rest = &text[end..];
    let rest = rest
        .strip_prefix("'s")
        .or_else(|| rest.strip_prefix("’s"))
        .or_else(|| rest.strip_prefix('\''))
        .unwrap_or(rest);
    let next = rest
        .trim_start_matches([' ', '\t', '-'])
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    if names::EPONYM_AFTER.contains(&next)
        || names::EPONYM_AFTER.contains(&next.to_lowercase().as_str())
    {
        return true;
    }
    let head = before(text, start, 40);
    let mut words = head.split_whitespace().rev();
    if let (Some(de), Some(what)) = (words.next(), words.next())
        && (de == "de" || de == "del")
    {
        return names::EPONYM_BEFORE_ES.contains(&what);
    }
    false
}

fn people(text: &str, out: &mut Vec<Candidate>) {
    for c in TITLE_NAME.captures_iter(text) {
        let (Some(all), Some(g)) = (c.get(0), c.get(1)) else {
            continue;
        };
        // "12 Oak Dr" is an address, not Dr Oak.
        if all.as_str().starts_with("Dr")
            && prev_char(text, all.start()).is_some_and(|p| p == ' ')
            && before(text, all.start(), 3)
                .trim()
                .chars()
                .last()
                .is_some_and(|ch| ch.is_ascii_digit())
        {
            continue;
        }
        if let Some((s, e)) = name_span(text, g) {
            out.push(Candidate {
                start: s,
                end: e,
                category: Category::Name,
                confidence: 0.9,
            });
        }
    }
    for c in CONTEXT_NAME.captures_iter(text) {
        let Some(g) = c.get(1) else { continue };
        if let Some((s, e)) = name_span(text, g)
            && !is_eponym(text, s, e)
        {
            out.push(Candidate {
                start: s,
                end: e,
                category: Category::Name,
                confidence: 0.85,
            });
        }
    }
    for c in GIVEN_NAME.captures_iter(text) {
        let Some(g) = c.get(0) else { continue };
        let Some((s, e)) = name_span(text, g) else {
            continue;
        };
        if is_eponym(text, s, e) {
            continue;
        }
        let with_surname = text[s..e].contains([' ', '\t']);
        out.push(Candidate {
            start: s,
            end: e,
            category: Category::Name,
            confidence: if with_surname { 0.8 } else { 0.65 },
        });
    }
}

fn valid_day_month(a: u32, b: u32) -> bool {
    (1..=31).contains(&a) && (1..=12).contains(&b) || (1..=12).contains(&a) && (1..=31).contains(&b)
}

fn num(c: &Captures<'_>, i: usize) -> Option<u32> {
    c.get(i).and_then(|g| g.as_str().parse().ok())
}

fn dates(text: &str, out: &mut Vec<Candidate>) {
    for c in DATE_NUMERIC.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let (Some(a), Some(b)) = (num(&c, 1), num(&c, 3)) else {
            continue;
        };
        let same_sep = c.get(2).map(|g| g.as_str()) == c.get(4).map(|g| g.as_str());
        // Part of a longer dotted number (a version, an IP address)?
        let dotted = prev_char(text, m.start()).is_some_and(|p| p == '.')
            || text[m.end()..].starts_with('.')
                && text[m.end() + 1..].starts_with(|ch: char| ch.is_ascii_digit());
        if same_sep && !dotted && valid_day_month(a, b) {
            let year4 = c.get(5).is_some_and(|g| g.as_str().len() == 4);
            push(out, m, Category::Date, if year4 { 0.9 } else { 0.75 });
        }
    }
    for c in DATE_ISO.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let same_sep = c.get(2).map(|g| g.as_str()) == c.get(4).map(|g| g.as_str());
        if let (Some(mo), Some(d)) = (num(&c, 3), num(&c, 5))
            && same_sep
            && (1..=12).contains(&mo)
            && (1..=31).contains(&d)
        {
            push(out, m, Category::Date, 0.92);
        }
    }
    for re in [&*DATE_EN_DMY, &*DATE_EN_MDY, &*DATE_ES] {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let Some(day) = num(&c, 1) else { continue };
            if !(1..=31).contains(&day) {
                continue;
            }
            let conf = if c.get(2).is_some() { 0.95 } else { 0.75 };
            push(out, m, Category::Date, conf);
        }
    }
    for c in DATE_ABBR.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if num(&c, 1).is_some_and(|d| (1..=31).contains(&d)) {
            push(out, m, Category::Date, 0.9);
        }
    }
}

fn ages(text: &str, out: &mut Vec<Candidate>) {
    // "aged 90 and over", "over 90 years", "mayores de 90 años" describe a
    // group, not a person.
    let group = |start: usize, end: usize| {
        let head = before(text, start, 16);
        let tail = text[end..].to_lowercase();
        let tail = tail.trim_start();
        has_any(
            &head,
            &[
                "over ",
                "above ",
                ">",
                "≥",
                "mayores de ",
                "más de ",
                "mas de ",
                "under ",
                "menores de ",
            ],
        ) || [
            "and over",
            "or over",
            "and older",
            "or older",
            "+",
            "y más",
            "o más",
            "y mas",
            "o mas",
            "and above",
        ]
        .iter()
        .any(|t| tail.starts_with(t))
    };
    for c in AGE_UNIT.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if !group(m.start(), m.end()) {
            push(out, m, Category::Age, 0.9);
        }
    }
    for c in AGE_AGED.captures_iter(text) {
        let Some(g) = c.get(1) else { continue };
        if !group(g.start(), g.end()) {
            push(out, g, Category::Age, 0.9);
        }
    }
}

fn national_numbers(text: &str, out: &mut Vec<Candidate>) {
    for c in SSN_DASHED.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if checks::ssn(&digits(m.as_str())) {
            push(out, m, Category::Ssn, 0.95);
        }
    }
    for c in SSN_CONTEXT.captures_iter(text) {
        let Some(g) = c.get(1) else { continue };
        if checks::ssn(&digits(g.as_str())) {
            push(out, g, Category::Ssn, 0.97);
        }
    }
    for c in NHS.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let same_sep = c.get(2).map(|g| g.as_str()) == c.get(4).map(|g| g.as_str());
        if !same_sep {
            continue;
        }
        let head = before(text, m.start(), 30);
        let nhs_context = head.contains("nhs");
        let phone_context = has_any(&head, PHONE_WORDS);
        if checks::nhs_number(&digits(m.as_str())) {
            let conf = if nhs_context {
                0.98
            } else if phone_context {
                0.6
            } else {
                0.88
            };
            push(out, m, Category::NhsNumber, conf);
        } else if nhs_context {
            // A mistyped NHS number still points at a patient.
            push(out, m, Category::RecordNumber, 0.8);
        }
    }
    for c in MEDICARE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if !checks::medicare_number(&digits(m.as_str())) {
            continue;
        }
        let head = before(text, m.start(), 30);
        let spaced = c.get(2).is_some_and(|g| !g.is_empty());
        let conf = if head.contains("medicare") {
            0.98
        } else if has_any(&head, PHONE_WORDS) {
            0.6
        } else if spaced {
            0.9
        } else {
            0.86
        };
        push(out, m, Category::MedicareNumber, conf);
    }
    for re in [&*DNI, &*NIE] {
        for m in re.find_iter(text) {
            let id: String = m
                .as_str()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            let head = before(text, m.start(), 20);
            let context = has_any(
                &head,
                &["dni", "nie", "documento", "nif", "pasaporte", "passport"],
            );
            if checks::dni_nie(&id) {
                push(out, m, Category::DniNie, 0.95);
            } else if context {
                push(out, m, Category::DniNie, 0.7);
            } else {
                push(out, m, Category::OtherId, 0.55);
            }
        }
    }
}

fn phones(text: &str, out: &mut Vec<Candidate>) {
    for c in PHONE_CONTEXT.captures_iter(text) {
        let Some(g) = c.get(1) else { continue };
        let n = digits(g.as_str()).len();
        if (7..=15).contains(&n) {
            push(out, g, Category::Phone, 0.95);
        }
    }
    let shaped: [(&Regex, f32, std::ops::RangeInclusive<usize>); 5] = [
        (&PHONE_INTL, 0.9, 9..=15),
        (&PHONE_PAREN, 0.85, 9..=12),
        (&PHONE_ZERO, 0.85, 10..=11),
        (&PHONE_US, 0.8, 10..=10),
        (&PHONE_ES, 0.8, 9..=9),
    ];
    for (re, conf, len) in shaped {
        for m in re.find_iter(text) {
            let d = digits(m.as_str());
            // A decimal or a list of numbers is not a phone number.
            let glued = prev_char(text, m.start()).is_some_and(|p| p == '.' || p == ',')
                || next_char(text, m.end()).is_some_and(|n| {
                    n == ',' && text[m.end() + 1..].starts_with(|c: char| c.is_ascii_digit())
                });
            if len.contains(&d.len()) && !glued {
                let spaced = m.as_str().contains([' ', '-', '.', '(']);
                let conf = if spaced || m.as_str().starts_with(['+', '0']) {
                    conf
                } else {
                    0.7
                };
                push(out, m, Category::Phone, conf);
            }
        }
    }
}

fn records(text: &str, out: &mut Vec<Candidate>) {
    for c in RECORD.captures_iter(text) {
        let Some(g) = c.get(1) else { continue };
        if digits(g.as_str()).len() >= 3 {
            push(out, g, Category::RecordNumber, 0.95);
        }
    }
}

fn places(text: &str, out: &mut Vec<Candidate>) {
    for c in UK_POSTCODE.captures_iter(text) {
        let (Some(m), Some(outward)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if NOT_POSTCODE_OUTWARD.contains(&outward.as_str()) {
            continue;
        }
        let spaced = c.get(2).is_some_and(|g| !g.is_empty());
        push(out, m, Category::Postcode, if spaced { 0.88 } else { 0.7 });
    }
    for (re, conf) in [
        (&*US_ZIP_STATE, 0.9),
        (&*ZIP_CONTEXT, 0.92),
        (&*ES_POSTCODE, 0.85),
        (&*AU_POSTCODE, 0.9),
    ] {
        for c in re.captures_iter(text) {
            if let Some(g) = c.get(1) {
                push(out, g, Category::Postcode, conf);
            }
        }
    }
    for m in ZIP4.find_iter(text) {
        push(out, m, Category::Postcode, 0.8);
    }
    for re in [&*ADDRESS_EN, &*ADDRESS_ES] {
        for m in re.find_iter(text) {
            push(out, m, Category::Address, 0.92);
        }
    }
}

fn codes(text: &str, out: &mut Vec<Candidate>) {
    for m in CODE.find_iter(text) {
        let s = m.as_str();
        let d = s.chars().filter(char::is_ascii_digit).count();
        let letters: String = s.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        let head = before(text, m.start(), 16);
        if has_any(&head, CODE_SYSTEMS) {
            continue;
        }
        // Part of a decimal or a thousands-separated number.
        if prev_char(text, m.start()).is_some_and(|p| p == '.' || p == ',') {
            continue;
        }
        if letters.is_empty() {
            if d >= 7 && !s.contains('-') {
                push(out, m, Category::OtherId, 0.55);
            }
            continue;
        }
        let tail: String = s
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if UNITS.contains(&tail.to_lowercase().as_str()) {
            continue;
        }
        if d >= 5 && letters.chars().any(|c| c.is_ascii_uppercase()) {
            push(out, m, Category::OtherId, 0.6);
        }
    }
}
