//! Measuring the scanner against a labelled corpus: per-category recall
//! and precision. A finding counts when it overlaps a labelled span of the
//! same category.

use crate::{Category, scan};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub category: Category,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    pub lang: String,
    pub text: String,
    pub spans: Vec<Span>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Labelled spans.
    pub gold: usize,
    /// Labelled spans some finding of the same category overlaps.
    pub found: usize,
    /// Findings.
    pub reported: usize,
    /// Findings that overlap a labelled span of their category.
    pub correct: usize,
}

impl Counts {
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.found as f64 / self.gold as f64
        }
    }
    pub fn precision(&self) -> f64 {
        if self.reported == 0 {
            1.0
        } else {
            self.correct as f64 / self.reported as f64
        }
    }
    fn add(&mut self, o: Counts) {
        self.gold += o.gold;
        self.found += o.found;
        self.reported += o.reported;
        self.correct += o.correct;
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub snippets: usize,
    pub by_category: BTreeMap<Category, Counts>,
    pub total: Counts,
    /// Findings in snippets labelled as having no identifier at all.
    pub negatives: usize,
    pub false_alarms_in_negatives: usize,
    /// (snippet text, what went wrong) for the first few misses and false
    /// alarms, to show in a failing test.
    pub errors: Vec<String>,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

pub fn evaluate(corpus: &[Labelled]) -> Report {
    let mut r = Report {
        snippets: corpus.len(),
        ..Report::default()
    };
    for s in corpus {
        let found = scan(&s.text);
        if s.spans.is_empty() {
            r.negatives += 1;
            r.false_alarms_in_negatives += found.len();
        }
        for g in &s.spans {
            let c = r.by_category.entry(g.category).or_default();
            c.gold += 1;
            if found
                .iter()
                .any(|f| f.category == g.category && overlaps((f.start, f.end), (g.start, g.end)))
            {
                c.found += 1;
            } else if r.errors.len() < 40 {
                let got: Vec<String> = found
                    .iter()
                    .filter(|f| overlaps((f.start, f.end), (g.start, g.end)))
                    .map(|f| f.category.to_string())
                    .collect();
                r.errors.push(format!(
                    "missed {} {:?} (found {:?}) in: {}",
                    g.category,
                    s.text.get(g.start..g.end).unwrap_or("?"),
                    got,
                    s.text
                ));
            }
        }
        for f in &found {
            let c = r.by_category.entry(f.category).or_default();
            c.reported += 1;
            if s.spans
                .iter()
                .any(|g| g.category == f.category && overlaps((f.start, f.end), (g.start, g.end)))
            {
                c.correct += 1;
            } else if r.errors.len() < 40 {
                r.errors
                    .push(format!("false {} {:?} in: {}", f.category, f.text, s.text));
            }
        }
    }
    for c in r.by_category.values() {
        r.total.add(*c);
    }
    r
}

impl Report {
    /// A Markdown table: one row per category, then the total.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| category | labelled | found | recall | reported | correct | precision |\n|---|---:|---:|---:|---:|---:|---:|\n",
        );
        let row = |name: &str, c: &Counts| {
            format!(
                "| {name} | {} | {} | {:.3} | {} | {} | {:.3} |\n",
                c.gold,
                c.found,
                c.recall(),
                c.reported,
                c.correct,
                c.precision()
            )
        };
        for (cat, c) in &self.by_category {
            out.push_str(&row(cat.as_str(), c));
        }
        out.push_str(&row("**all**", &self.total));
        out
    }
}
