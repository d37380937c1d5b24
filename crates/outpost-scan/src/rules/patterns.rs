//! The regular expressions and word lists the rules match with, compiled
//! once on first use.

use crate::names;
use regex::Regex;
use std::sync::LazyLock;

/// A capitalized word that can be a name: "Smith", "O'Brien", "McDonald",
/// "García-López".
pub(super) const CAP: &str = r"[A-ZÁÉÍÓÚÑ](?:[a-záéíóúñüàèìòçäëïö]+|['’][A-Z][a-z]+|c[A-Z][a-z]+)(?:-[A-ZÁÉÍÓÚÑ][a-záéíóúñüàèìòç]+)?";
pub(super) const EN_MONTH: &str = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)";
pub(super) const ES_MONTH: &str = r"(?i:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)";

fn re(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(r) => r,
        // The patterns are constants; a bad one is a programming error
        // that every test run would hit at once.
        Err(e) => panic!("bad scanner pattern {pattern}: {e}"),
    }
}

macro_rules! rule {
    ($name:ident, $pat:expr) => {
        pub(super) static $name: LazyLock<Regex> = LazyLock::new(|| re(&$pat));
    };
}

rule!(
    EMAIL,
    r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"
);
rule!(URL, r#"(?i)\b(?:https?://|www\.)[^\s<>"')\]]+"#);
rule!(IPV4, r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b");
rule!(
    TITLE_NAME,
    format!(
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Dra|Sr|Sra|Srta|Doña|Dña)\.?[ \t]+({CAP}(?:[ \t]+{CAP}){{0,2}})"
    )
);
rule!(
    CONTEXT_NAME,
    format!(
        r"(?i:\b(?:patient|pt\.?|paciente|named|called|name is|name|nombre|se llama|llamad[oa]|husband|wife|son|daughter|mother|father|brother|sister|partner|grandson|granddaughter|hijo|hija|esposa|esposo|marido|madre|padre|hermano|hermana|nieto|nieta|neighbour|neighbor|vecino|vecina|carer|cuidador|cuidadora))[ \t]*[:,]?[ \t]*({CAP}(?:[ \t]+{CAP}){{0,2}})"
    )
);
rule!(
    GIVEN_NAME,
    format!(
        r"\b({})\b((?:[ \t]+{CAP}){{0,2}})",
        names::GIVEN_NAMES.join("|")
    )
);
rule!(
    DATE_NUMERIC,
    r"\b(\d{1,2})([/.\-])(\d{1,2})([/.\-])(\d{4}|\d{2})\b"
);
rule!(
    DATE_ISO,
    r"\b((?:19|20)\d{2})([/.\-])(\d{1,2})([/.\-])(\d{1,2})\b"
);
rule!(
    DATE_EN_DMY,
    format!(
        r"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:[ \t]+of)?[ \t]+{EN_MONTH}\.?(?:,?[ \t]+(\d{{4}}))?\b"
    )
);
rule!(
    DATE_EN_MDY,
    format!(r"\b{EN_MONTH}\.?[ \t]+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?[ \t]+(\d{{4}})\b)?")
);
rule!(
    DATE_ABBR,
    r"(?i)\b(\d{1,2})[\-/ ](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|ene|abr|ago|dic)[a-z]*\.?[\-/ ](\d{4}|\d{2})\b"
);
rule!(
    DATE_ES,
    format!(r"\b(\d{{1,2}})(?:[ \t]+de)?[ \t]+{ES_MONTH}\b(?:[ \t]+(?:del?[ \t]+)?(\d{{4}})\b)?")
);
rule!(
    AGE_UNIT,
    r"\b(9\d|1[01]\d)[ \t]*-?[ \t]*(?i:(?:years?|yrs?)(?:[ \t\-]*old)?\b|y\.?o\b\.?|años\b|a\.)"
);
rule!(
    AGE_AGED,
    r"(?i:\b(?:aged?|edad(?:[ \t]+de)?)[ \t:]+)(9\d|1[01]\d)\b"
);
rule!(
    PHONE_CONTEXT,
    r"(?i:\b(?:tel|telephone|phone|mobile|mob|cell|fax|tlf|tfno|teléfono|telefono|móvil|movil|contact number|call|llamar al)\b)[^\d\n+(]{0,12}(\+?[\d(][\d \t().\-]{5,18}\d)"
);
rule!(PHONE_INTL, r"\+\d{1,3}(?:[ \t.\-]?\(?\d{1,4}\)?){2,5}");
rule!(PHONE_PAREN, r"\(\d{2,5}\)[ \t]?\d{3,4}[ \t.\-]?\d{3,4}\b");
rule!(PHONE_ZERO, r"\b0\d{2,4}[ \t\-]?\d{3,4}[ \t\-]?\d{3,4}\b");
rule!(PHONE_US, r"\b\d{3}[.\-]\d{3}[.\-]\d{4}\b");
rule!(
    PHONE_ES,
    r"\b[6-9]\d{2}(?:[ \t.]?\d{2,3}){2,3}\b|\b[89]\d[ \t]\d{3}[ \t]\d{2}[ \t]\d{2}\b"
);
rule!(SSN_DASHED, r"\b(\d{3})-(\d{2})-(\d{4})\b");
rule!(
    SSN_CONTEXT,
    r"(?i:\b(?:ssn|social security(?: number| no\.?)?))[ \t:#]*(\d{3}[ \t]?\d{2}[ \t]?\d{4})\b"
);
rule!(NHS, r"\b(\d{3})([ \t\-]?)(\d{3})([ \t\-]?)(\d{4})\b");
rule!(
    MEDICARE,
    r"\b([2-6]\d{3})([ \t]?)(\d{5})([ \t]?)(\d)(?:[ \t\-/]?(\d))?\b"
);
rule!(DNI, r"\b(\d{8})[ \t\-]?([A-Za-z])\b");
rule!(NIE, r"\b([XYZxyz])[ \t\-]?(\d{7})[ \t\-]?([A-Za-z])\b");
rule!(
    RECORD,
    r"(?i:\b(?:mrn|m\.r\.n\.|medical record(?: number| no\.?| num)?|hospital (?:number|no\.?|num)|hosp\.? no\.?|record (?:number|no\.?)|case (?:number|no\.?)|unit (?:number|no\.?)|urn?|ur number|nhc|n\.h\.c\.|historia cl[íi]nica|n[úu]mero de historia(?: cl[íi]nica)?|cip|sip|nuss|tarjeta sanitaria|patient id|id del paciente|chart (?:number|no\.?)|account (?:number|no\.?)|episode (?:number|no\.?)|nhi|chi(?: number)?|ihi|insurance (?:number|no\.?)|policy (?:number|no\.?)|member id|ubrn|nhs e-?referral|n[º°o]\.? de historia))\b[ \t.]*(?:(?:is|es|number|no\.?|n[º°o]\.?|#|:)[ \t]*)*([A-Za-z0-9][A-Za-z0-9/\-]{3,}[A-Za-z0-9])"
);
rule!(CODE, r"\b[A-Za-z0-9][A-Za-z0-9\-]{4,}[A-Za-z0-9]\b");
rule!(
    UK_POSTCODE,
    r"\b([A-Z]{1,2}\d[A-Z\d]?)([ \t]?)(\d[A-Z]{2})\b"
);
rule!(
    US_ZIP_STATE,
    r"\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC),?[ \t]+(\d{5}(?:-\d{4})?)\b"
);
rule!(ZIP4, r"\b\d{5}-\d{4}\b");
rule!(
    ZIP_CONTEXT,
    r"(?i:\b(?:zip(?:[ \t]?code)?|c\.p\.|cp|código postal|codigo postal|postcode|post code))[ \t:]*(\d{5}(?:-\d{4})?)\b"
);
rule!(
    ES_POSTCODE,
    r",[ \t]*((?:0[1-9]|[1-4]\d|5[0-2])\d{3})[ \t]+[A-ZÁÉÍÓÚ][a-záéíóúñ]"
);
rule!(
    AU_POSTCODE,
    r"\b(?:NSW|VIC|QLD|WA|SA|TAS|NT|ACT)[ \t]+(\d{4})\b"
);
rule!(
    ADDRESS_EN,
    format!(
        r"\b(?:(?:Flat|Apt|Apartment|Unit)[ \t]+\d+[A-Za-z]?,?[ \t]+)?\d{{1,5}}[A-Za-z]?,?[ \t]+(?:{CAP}[ \t]+){{1,3}}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Crescent|Cres|Terrace|Place|Court|Ct|Boulevard|Blvd|Grove|Gardens|Row|Square|Sq|Parade|Highway|Hwy|Mews|Walk|Rise|Hill)\b\.?"
    )
);
rule!(
    ADDRESS_ES,
    format!(
        r"\b(?:Calle|C/|Avda\.?|Avenida|Av\.|Plaza|Pza\.?|Paseo|Camino|Carretera|Ctra\.?|Ronda|Travesía|Urbanización|Urb\.)[ \t]*(?:(?:de|del|la|las|los|el|y)[ \t]+)*{CAP}(?:[ \t]+(?:(?:de|del|la|las|los|el|y)[ \t]+)*{CAP}){{0,3}},?[ \t]*(?:n[º°o]\.?[ \t]*)?\d{{1,4}}(?:[ \t]*,?[ \t]*(?:\d{{1,2}}[º°ª]|\d{{1,2}}\b)(?:[ \t]*[A-Za-z]\b)?)?"
    )
);

/// Outward codes that are really vitamins, hormones, nerve roots or
/// cell markers ("B12 …", "T4 …").
pub(super) const NOT_POSTCODE_OUTWARD: &[&str] = &[
    "B1", "B2", "B3", "B6", "B9", "B12", "D2", "D3", "K1", "K2", "T1", "T2", "T3", "T4", "C1",
    "C2", "C3", "C4", "C5", "C6", "C7", "L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "V1",
    "V2", "V3", "V4", "V5", "V6", "CD4", "CD8", "H1", "H2", "E1", "E2", "A1", "A2",
];

/// Codes after these name a concept, not a person.
pub(super) const CODE_SYSTEMS: &[&str] = &[
    "snomed",
    "sctid",
    "loinc",
    "atc",
    "cpt",
    "icd",
    "cie",
    "read code",
    "ref",
    "nice",
    "ng",
    "isbn",
    "doi",
    "pmid",
    "version",
];

pub(super) const UNITS: &[&str] = &[
    "mg", "ml", "mcg", "ug", "iu", "ui", "u", "g", "kg", "units", "mmol", "l", "dl", "mm", "cm",
    "ms", "hz", "kcal",
];
