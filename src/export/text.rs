//! The plain-text export: the reading text for people and pipelines that want words.
//!
//! Owns the layout: a short header (title, authors, date, source), the blocks one per paragraph
//! separated by blank lines, note markers `[n]` where notes stood, and the notes as numbered
//! endnotes (TEI Guidelines 3.9.1 "Notes and Simple Annotation": a note's place in the text is
//! where it stands), so every word of the TEI text comes back. Notes are numbered in document
//! order.
//! It must not read files; markup, entity links and the register are not carried (reported).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::Edition;
use crate::diag::Report;

/// The note numbers used by the text and HTML exports: notes in document order, 1, 2, 3, ...
pub fn note_numbers(edition: &Edition) -> BTreeMap<String, usize> {
    edition
        .notes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i + 1))
        .collect()
}

/// `text` with `[n]` inserted at the offsets (code points) of the notes anchored in `container`.
pub fn with_markers(
    edition: &Edition,
    container: &str,
    text: &str,
    numbers: &BTreeMap<String, usize>,
) -> String {
    let mut at: Vec<(usize, usize)> = edition
        .notes
        .iter()
        .filter_map(|n| {
            let a = n.anchor.as_ref()?;
            (a.container == container).then(|| (a.offset, numbers.get(&n.id).copied().unwrap_or(0)))
        })
        .collect();
    at.sort();
    let mut out = String::new();
    let mut next = at.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        while let Some((_, n)) = next.next_if(|(o, _)| *o == i) {
            let _ = write!(out, "[{n}]");
        }
        out.push(c);
    }
    for (_, n) in next {
        let _ = write!(out, "[{n}]");
    }
    out
}

pub fn to_text(edition: &Edition, report: &mut Report) -> String {
    let h = &edition.header;
    let mut s = String::new();
    if !h.title.is_empty() {
        let _ = writeln!(s, "{}", h.title);
    }
    let authors: Vec<&str> = h.authors.iter().map(|a| a.name.as_str()).collect();
    if !authors.is_empty() {
        let _ = writeln!(s, "By {}", authors.join("; "));
    }
    if let Some(d) = edition.date() {
        let iso = d.sort_key().unwrap_or("");
        if d.text.is_empty() {
            let _ = writeln!(s, "Date: {iso}");
        } else {
            let _ = writeln!(s, "Date: {} ({iso})", d.text);
        }
    }
    for src in &h.sources {
        let _ = writeln!(s, "Source: {}", src.text);
    }
    if !s.is_empty() {
        s.push('\n');
    }
    let numbers = note_numbers(edition);
    for block in &edition.blocks {
        let _ = writeln!(
            s,
            "{}\n",
            with_markers(edition, &block.id, &block.text, &numbers)
        );
    }
    if !edition.notes.is_empty() {
        s.push_str("Notes\n\n");
        for note in &edition.notes {
            let n = numbers.get(&note.id).copied().unwrap_or(0);
            let _ = writeln!(
                s,
                "[{n}] {}\n",
                with_markers(edition, &note.id, &note.text, &numbers)
            );
        }
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    let spans = edition
        .blocks
        .iter()
        .flat_map(|b| b.spans.iter())
        .chain(edition.notes.iter().flat_map(|n| n.spans.iter()))
        .filter(|s| s.type_ != super::model::SpanType::Markup)
        .count();
    let markup = super::markup_counts(edition);
    let mut lost = vec![format!(
        "{spans} entity and date spans (their links and normalised values)"
    )];
    if !edition.register.is_empty() {
        lost.push(format!("the register ({} entries)", edition.register.len()));
    }
    if !markup.is_empty() {
        lost.push(format!("markup ({})", super::format_counts(&markup)));
    }
    super::not_carried(
        report,
        format!(
            "text carries the words and notes only; not carried: {}; use json or html to keep them",
            lost.join("; ")
        ),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::super::model::read_edition;
    use super::*;

    #[test]
    fn notes_become_endnotes() {
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title></titleStmt></fileDesc></teiHeader><text><body><p>One<note>first <note>inner</note></note> two.</p><p>Three</p></body></text></TEI>"#;
        let (ed, _) = read_edition(xml).unwrap();
        let mut r = Report::new();
        let t = to_text(&ed, &mut r);
        assert_eq!(
            t,
            "T\n\nOne[1] two.\n\nThree\n\nNotes\n\n[1] first[2]\n\n[2] inner\n"
        );
        assert_eq!(r.diagnostics.len(), 1);
    }
}
