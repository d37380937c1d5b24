//! Search snippets. The FTS index stores no text (see the schema), so the
//! searchable text is kept DEFLATE-compressed beside the index row and the
//! excerpt around the matched words is cut here, for the top hits only.

use crate::{SNIPPET_END, SNIPPET_START};
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read, Write};

const SEP: char = '\u{1f}';
/// Words of context in a snippet.
const WINDOW: usize = 16;

/// Compresses the body and discussion text of an item into one blob.
pub fn pack(body: &str, discussion: &str) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body.as_bytes());
    let _ = enc.write_all(SEP.to_string().as_bytes());
    let _ = enc.write_all(discussion.as_bytes());
    enc.finish().unwrap_or_default()
}

fn unpack(packed: &[u8]) -> (String, String) {
    let mut s = String::new();
    if DeflateDecoder::new(packed).read_to_string(&mut s).is_err() {
        return (String::new(), String::new());
    }
    match s.split_once(SEP) {
        Some((b, d)) => (b.to_string(), d.to_string()),
        None => (s, String::new()),
    }
}

/// Lower-case and strip the accents FTS5's `remove_diacritics` ignores, so
/// highlighting agrees with matching ("niño" matches "nino").
fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ý' | 'ÿ' => 'y',
            c => c,
        })
        .collect()
}

/// The words of a query, folded; the last one matches as a prefix.
pub fn query_words(query: &str) -> Vec<(String, bool)> {
    let words: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let prefix_last = !query.ends_with(char::is_whitespace);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| (fold(w), prefix_last && i + 1 == words.len()))
        .collect()
}

fn matches(word: &str, words: &[(String, bool)]) -> bool {
    let core: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
    if core.is_empty() {
        return false;
    }
    let f = fold(&core);
    words.iter().any(|(q, prefix)| {
        if *prefix {
            f.starts_with(q.as_str())
        } else {
            &f == q
        }
    })
}

/// An excerpt of about `WINDOW` words from the first field that matches
/// (body, then discussion, then title, then tags), matched words marked.
pub fn snippet(title: &str, packed: &[u8], tags: &[String], words: &[(String, bool)]) -> String {
    let (body, discussion) = unpack(packed);
    let tags = tags.join(" ");
    let fields = [body.as_str(), discussion.as_str(), title, tags.as_str()];
    let chosen = fields
        .iter()
        .find(|f| f.split_whitespace().any(|w| matches(w, words)))
        .copied()
        .unwrap_or(if body.is_empty() {
            title
        } else {
            body.as_str()
        });
    let tokens: Vec<&str> = chosen.split_whitespace().collect();
    let first = tokens.iter().position(|w| matches(w, words)).unwrap_or(0);
    let start = first.saturating_sub(WINDOW / 4);
    let end = (start + WINDOW).min(tokens.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    for (i, w) in tokens[start..end].iter().enumerate() {
        if i > 0 || start > 0 {
            out.push(' ');
        }
        if matches(w, words) {
            // Keep punctuation outside the marks: "«sepsis»," not "«sepsis,»".
            let lead = w.len() - w.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
            let trail = w.len() - w.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
            let (a, rest) = w.split_at(lead);
            let (core, b) = rest.split_at(rest.len() - trail);
            out.push_str(a);
            out.push_str(SNIPPET_START);
            out.push_str(core);
            out.push_str(SNIPPET_END);
            out.push_str(b);
        } else {
            out.push_str(w);
        }
    }
    if end < tokens.len() {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_matches_with_context_and_folds_accents() {
        let packed = pack(
            "El niño tiene fiebre alta y petequias en las piernas.",
            "Dar ceftriaxona.",
        );
        let s = snippet("Fiebre", &packed, &[], &query_words("nino fieb"));
        assert_eq!(
            s,
            "El «niño» tiene «fiebre» alta y petequias en las piernas."
        );
        let s = snippet("Fiebre", &packed, &[], &query_words("ceftriaxona "));
        assert_eq!(s, "Dar «ceftriaxona».");
        let long: String =
            (0..100).map(|i| format!("w{i} ")).collect::<String>() + "sepsis, then more words here";
        let s = snippet("t", &pack(&long, ""), &[], &query_words("sepsis"));
        assert!(s.starts_with('…') && s.contains("«sepsis»,"), "{s}");
    }

    #[test]
    fn survives_garbage() {
        assert_eq!(
            snippet("Title", b"not deflate", &[], &query_words("title")),
            "«Title»"
        );
    }
}
