//! The scanner against the labelled corpus (`corpus/snippets.jsonl`):
//! recall ≥ 0.95 and precision ≥ 0.85 overall, and no category far below.

use outpost_scan::eval::{Labelled, evaluate};

fn corpus() -> Vec<Labelled> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/snippets.jsonl");
    let text = std::fs::read_to_string(path).expect("corpus file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect()
}

#[test]
fn corpus_has_enough_snippets_in_both_languages() {
    let c = corpus();
    assert!(c.len() >= 300, "{} snippets", c.len());
    for lang in ["en", "es"] {
        let n = c.iter().filter(|s| s.lang == lang).count();
        assert!(n >= 120, "{n} snippets in {lang}");
        let negatives = c
            .iter()
            .filter(|s| s.lang == lang && s.spans.is_empty())
            .count();
        assert!(negatives >= 40, "{negatives} negative snippets in {lang}");
    }
    for s in &c {
        for g in &s.spans {
            assert!(
                s.text.get(g.start..g.end).is_some(),
                "bad span in {}",
                s.text
            );
        }
    }
}

#[test]
fn scanner_meets_its_recall_and_precision_targets() {
    let report = evaluate(&corpus());
    let summary = format!("{}\n{}", report.markdown(), report.errors.join("\n"));
    assert!(report.total.recall() >= 0.95, "recall too low:\n{summary}");
    assert!(
        report.total.precision() >= 0.85,
        "precision too low:\n{summary}"
    );
    for (cat, c) in &report.by_category {
        assert!(
            c.recall() >= 0.8,
            "{cat} recall {:.3}:\n{summary}",
            c.recall()
        );
        assert!(
            c.precision() >= 0.7,
            "{cat} precision {:.3}:\n{summary}",
            c.precision()
        );
    }
}
