//! Recall and precision per category on the labelled corpus, and how long
//! a scan takes. Prints a Markdown section; with a path argument, also
//! writes it there (relative to the repository root), which is how
//! `cargo xtask bench` fills BENCHMARKS.md.

use outpost_scan::eval::{Labelled, evaluate};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{dir}/corpus/snippets.jsonl"))?;
    let corpus: Vec<Labelled> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let en = corpus.iter().filter(|s| s.lang == "en").count();
    let negatives = corpus.iter().filter(|s| s.spans.is_empty()).count();
    let report = evaluate(&corpus);

    // Time: every snippet scanned 20 times, per-snippet mean.
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        for s in &corpus {
            std::hint::black_box(outpost_scan::scan(&s.text));
        }
    }
    let per_snippet_us = started.elapsed().as_secs_f64() * 1e6 / (rounds * corpus.len()) as f64;
    let long: String = corpus
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let started = Instant::now();
    std::hint::black_box(outpost_scan::scan(&long));
    let long_ms = started.elapsed().as_secs_f64() * 1e3;

    let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
    let section = format!(
        "## Identifier scanner\n\n\
         `cargo bench -p outpost-scan --bench corpus` on `crates/outpost-scan/corpus/snippets.jsonl`: \
         {} synthetic snippets ({en} English, {} Spanish; {negatives} negatives full of look-alikes). \
         A finding counts when it overlaps a labelled span of the same category.\n\n{}\n\
         - Recall {:.3} (target ≥ 0.95: {}), precision {:.3} (target ≥ 0.85: {}); \
         {} findings in the {negatives} negative snippets.\n\
         - Speed: {per_snippet_us:.0} µs per snippet; the whole corpus as one {} KB text: {long_ms:.1} ms.\n",
        corpus.len(),
        corpus.len() - en,
        report.markdown(),
        report.total.recall(),
        verdict(report.total.recall() >= 0.95),
        report.total.precision(),
        verdict(report.total.precision() >= 0.85),
        report.false_alarms_in_negatives,
        long.len() / 1024,
    );
    print!("{section}");
    for e in &report.errors {
        eprintln!("{e}");
    }
    if let Some(out) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) {
        let root = std::path::Path::new(dir).join("../..");
        std::fs::write(root.join(out), &section)?;
    }
    Ok(())
}
