//! The CSV exports: one row per mention (`csv`) and one row per register entry (`csv-register`).
//!
//! Owns the columns (documented below and in README) and RFC 4180 writing: a header row, CRLF
//! line ends, fields holding a comma, a double quote, CR or LF quoted with `"` and inner quotes
//! doubled (RFC 4180 §2, rules 1-7). It must not read files. A mention table cannot carry the
//! text around its mentions, the notes' text or the header: that is reported as a warning.
//!
//! `csv` columns: `block` (the block id `b1`, `b2`, ..., or the note's id for a mention in a
//! note), `offset` and `length` (Unicode code points into that block's or note's text in the
//! JSON export), `entity_id` (the register entry, empty
//! when the pointer does not resolve), `type` (person, place, org, work, event, name, date),
//! `surface` (the text as written), `register_name` (the entry's preferred name), `ref` (the
//! pointer as written), `date` (ISO value of a date: `@when`, else `from/to` or
//! `notBefore/notAfter` joined by `/`).
//!
//! `csv-register` columns: `id`, `type`, `name`, `names` (every form, ` | `-separated),
//! `identifiers` (`scheme:value`, ` | `-separated), `uris` (` | `-separated), `mentions` (how
//! many spans point to the entry).

use std::collections::BTreeMap;

use super::model::{Edition, Span, SpanType};
use crate::diag::Report;

/// The header row of `csv`.
pub const MENTION_COLUMNS: [&str; 9] = [
    "block",
    "offset",
    "length",
    "entity_id",
    "type",
    "surface",
    "register_name",
    "ref",
    "date",
];

/// The header row of `csv-register`.
pub const REGISTER_COLUMNS: [&str; 7] = [
    "id",
    "type",
    "name",
    "names",
    "identifiers",
    "uris",
    "mentions",
];

/// One field, quoted when RFC 4180 requires it.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn row(out: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn surface(text: &str, span: &Span) -> String {
    text.chars().skip(span.start).take(span.length).collect()
}

fn date_value(span: &Span) -> String {
    let a = |k: &str| span.attributes.get(k).cloned();
    if let Some(w) = a("when").or_else(|| a("when-iso")) {
        return w;
    }
    let pair = |x: Option<String>, y: Option<String>| match (x, y) {
        (None, None) => None,
        (x, y) => Some(format!(
            "{}/{}",
            x.unwrap_or_default(),
            y.unwrap_or_default()
        )),
    };
    pair(a("from"), a("to"))
        .or_else(|| pair(a("notBefore"), a("notAfter")))
        .unwrap_or_default()
}

pub fn mentions(edition: &Edition, report: &mut Report) -> String {
    let mut out = String::new();
    row(&mut out, &MENTION_COLUMNS.map(str::to_string));
    let containers = edition
        .blocks
        .iter()
        .map(|b| (&b.id, &b.text, &b.spans))
        .chain(edition.notes.iter().map(|n| (&n.id, &n.text, &n.spans)));
    let mut rows = 0usize;
    for (id, text, spans) in containers {
        for span in spans.iter().filter(|s| s.type_ != SpanType::Markup) {
            let entry = span.entry.as_deref().and_then(|e| edition.entry(e));
            let ref_ = span
                .attributes
                .get("ref")
                .or_else(|| span.attributes.get("key"))
                .cloned()
                .unwrap_or_default();
            let date = if span.type_ == SpanType::Date {
                date_value(span)
            } else {
                String::new()
            };
            row(
                &mut out,
                &[
                    id.clone(),
                    span.start.to_string(),
                    span.length.to_string(),
                    span.entry.clone().unwrap_or_default(),
                    span.type_.as_str().to_string(),
                    surface(text, span),
                    entry.map(|e| e.name.clone()).unwrap_or_default(),
                    ref_,
                    date,
                ],
            );
            rows += 1;
        }
    }
    let markup = super::markup_counts(edition);
    let mut lost = vec![format!(
        "the text of {} and {}",
        super::plural(edition.blocks.len(), "block"),
        super::plural(edition.notes.len(), "note")
    )];
    lost.push("the header".to_string());
    if !markup.is_empty() {
        lost.push(format!("markup ({})", super::format_counts(&markup)));
    }
    super::not_carried(
        report,
        format!(
            "csv carries {} only; not carried: {}",
            super::plural(rows, "mention"),
            lost.join("; ")
        ),
    );
    out
}

pub fn register(edition: &Edition, report: &mut Report) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for span in edition
        .blocks
        .iter()
        .flat_map(|b| b.spans.iter())
        .chain(edition.notes.iter().flat_map(|n| n.spans.iter()))
    {
        if let Some(e) = span.entry.as_deref() {
            *counts.entry(e).or_insert(0) += 1;
        }
    }
    let mut out = String::new();
    row(&mut out, &REGISTER_COLUMNS.map(str::to_string));
    let mut with_notes = 0;
    for e in &edition.register {
        if !e.notes.is_empty() {
            with_notes += 1;
        }
        row(
            &mut out,
            &[
                e.id.clone(),
                e.type_.as_str().to_string(),
                e.name.clone(),
                e.names
                    .iter()
                    .map(|n| n.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
                e.identifiers
                    .iter()
                    .map(|i| format!("{}:{}", i.type_.as_deref().unwrap_or(""), i.value))
                    .collect::<Vec<_>>()
                    .join(" | "),
                e.identifiers
                    .iter()
                    .filter_map(|i| i.uri.as_deref())
                    .collect::<Vec<_>>()
                    .join(" | "),
                counts.get(e.id.as_str()).copied().unwrap_or(0).to_string(),
            ],
        );
    }
    let mut lost = vec!["the text, notes and header".to_string()];
    if with_notes > 0 {
        lost.push(format!("the notes of {with_notes} entries"));
    }
    super::not_carried(
        report,
        format!(
            "csv-register carries {} entries; not carried: {}",
            edition.register.len(),
            lost.join("; ")
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn rows_end_with_crlf() {
        let mut s = String::new();
        row(&mut s, &["a".into(), "b,c".into()]);
        assert_eq!(s, "a,\"b,c\"\r\n");
    }
}
