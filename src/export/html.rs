//! The HTML reading edition and the corpus index page.
//!
//! Owns one self-contained HTML5 file per document: no scripts, no network, no external assets
//! (the CSS is inline; links to authority URIs are plain links a reader may follow). It holds the
//! header metadata, the text with persons, places, organisations, works and dates highlighted
//! and linked to an index of each (with the register's identifiers as authority links and
//! back-links to every mention), notes as numbered footnotes with back-links, print CSS, and a
//! layout that never scrolls sideways at 360 px (WCAG 2.1 SC 1.4.10 "Reflow"). Landmarks,
//! headings and link names follow WCAG 2.1 so that axe-core reports no violations.
//! The corpus page lists letters in date order and persons, places and organisations across
//! documents by register id. It must not read files or run scripts in the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{Edition, EntryType, Name, Span, SpanType};
use super::text::note_numbers;
use crate::diag::Report;

/// Links from a page to its surroundings (in a corpus: the index page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// Relative URL of the corpus index page, if any.
    pub index: Option<String>,
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// An HTML id from any string: letters, digits, `-` and `_` kept, anything else as `_`.
fn html_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn entry_anchor(id: &str) -> String {
    format!("idx-{}", html_id(id))
}

fn note_anchor(id: &str) -> String {
    format!("fn-{}", html_id(id))
}

fn noteref_anchor(id: &str) -> String {
    format!("fnref-{}", html_id(id))
}

fn mention_anchor(container: &str, index: usize) -> String {
    format!("m-{}-{}", html_id(container), index + 1)
}

/// The key dates are grouped under in the index: the ISO value, else the wording.
fn date_key(span: &Span, text: &str) -> String {
    let a = |k: &str| span.attributes.get(k).cloned();
    a("when")
        .or_else(|| a("when-iso"))
        .or_else(|| match (a("from"), a("to")) {
            (None, None) => None,
            (f, t) => Some(format!(
                "{}/{}",
                f.unwrap_or_default(),
                t.unwrap_or_default()
            )),
        })
        .or_else(|| match (a("notBefore"), a("notAfter")) {
            (None, None) => None,
            (f, t) => Some(format!(
                "{}/{}",
                f.unwrap_or_default(),
                t.unwrap_or_default()
            )),
        })
        .unwrap_or_else(|| text.to_string())
}

fn date_anchor(key: &str) -> String {
    format!("date-{}", html_id(key))
}

const CSS: &str = r#"
:root{--ink:#1b1b1b;--muted:#4a4a4a;--line:#c8c8c8;--person:#7a1f00;--place:#00507a;--org:#3d5200;--work:#5b2a86;--date:#6b4a00;--bg:#ffffff}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:var(--bg);font:1.0625rem/1.6 Georgia,"Times New Roman",serif;overflow-wrap:anywhere}
header.page,main,footer{max-width:44rem;margin:0 auto;padding:0 1rem}
header.page{padding-top:1.5rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.3rem;margin:2rem 0 .75rem;border-bottom:1px solid var(--line)}
h3{font-size:1.1rem;margin:1.5rem 0 .5rem}
nav a,footer{font-family:system-ui,sans-serif;font-size:.95rem}
dl.meta{display:grid;grid-template-columns:minmax(0,9rem) minmax(0,1fr);gap:.25rem 1rem;font-family:system-ui,sans-serif;font-size:.95rem;margin:0}
dl.meta dt{font-weight:bold;color:var(--muted)}
dl.meta dd{margin:0}
@media (max-width:30rem){dl.meta{grid-template-columns:minmax(0,1fr)}dl.meta dd{margin-bottom:.5rem}}
.text p,.text div.block{margin:0 0 1em}
.tei-opener,.tei-closer,.tei-salute,.tei-dateline,.tei-signed,.tei-address{font-style:italic}
.tei-closer .tei-lb,.tei-opener .tei-lb,.tei-address .tei-lb,.tei-closer .tei-dateline,.tei-closer .tei-signed,.tei-opener .tei-dateline,.tei-address .tei-addrLine{display:block}
.tei-supplied::before{content:"["}.tei-supplied::after{content:"]"}
.tei-gap:empty::before{content:"[…]"}
.tei-unclear::after{content:"(?)"}
.tei-del{text-decoration:line-through}
.tei-add::before{content:"⟨"}.tei-add::after{content:"⟩"}
.tei-pb::before{content:" | ";color:var(--muted)}
a{color:#0b4f8a}
a.ent{text-decoration:underline;text-decoration-thickness:1px;text-underline-offset:2px;color:inherit}
.ent-person{color:var(--person)}.ent-place{color:var(--place)}.ent-org{color:var(--org)}.ent-work,.ent-event,.ent-name{color:var(--work)}.ent-date{color:var(--date)}
a.ent-person{text-decoration-style:solid}a.ent-place{text-decoration-style:double}a.ent-org{text-decoration-style:dashed}a.ent-date{text-decoration-style:dotted}
sup.noteref{line-height:0}
sup.noteref a{padding:0 .1em;text-decoration:none}
a:focus-visible{outline:2px solid #0b4f8a;outline-offset:2px}
.notes ol{padding-left:1.5rem}
.notes li{margin:0 0 .75em}
a.back{margin-right:.35em}
.index ul{list-style:none;padding:0}
.index li{margin:0 0 .75em}
.index .forms,.index .ids,.index .mentions{display:block;font-family:system-ui,sans-serif;font-size:.9rem;color:var(--muted)}
.index .mentions a{margin-right:.5em}
footer{margin-top:3rem;padding-bottom:2rem;color:var(--muted);border-top:1px solid var(--line)}
@media print{
 body{font-size:11pt;color:#000}
 header.page,main,footer{max-width:none;padding:0}
 nav,a.back,.index .mentions{display:none}
 a,a.ent{color:#000;text-decoration:none}
 .ent{font-weight:bold}
 .ids a::after{content:" <" attr(href) ">";font-size:9pt}
 section.notes,section.index{break-before:page}
 h2,h3{break-after:avoid}
 p{orphans:3;widows:3}
}
"#;

/// Renders a container's text with its spans and note markers as HTML.
fn render_text(
    edition: &Edition,
    container: &str,
    text: &str,
    spans: &[Span],
    numbers: &BTreeMap<String, usize>,
) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut markers: Vec<(usize, &str, usize)> = edition
        .notes
        .iter()
        .filter_map(|n| {
            let a = n.anchor.as_ref()?;
            (a.container == container).then(|| {
                (
                    a.offset.min(chars.len()),
                    n.id.as_str(),
                    numbers.get(&n.id).copied().unwrap_or(0),
                )
            })
        })
        .collect();
    markers.sort_by_key(|m| (m.0, m.2));
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| {
        let s = &spans[i];
        (s.start, std::cmp::Reverse(s.start + s.length), i)
    });
    let mut out = String::new();
    // (end, closing tag, whether this span is a link)
    let mut stack: Vec<(usize, &'static str, bool)> = Vec::new();
    let mut next_span = order.iter().peekable();
    let mut next_marker = markers.iter().peekable();
    for p in 0..=chars.len() {
        while let Some(&(end, tag, _)) = stack.last() {
            if end <= p {
                out.push_str(tag);
                stack.pop();
            } else {
                break;
            }
        }
        while let Some((_, id, n)) = next_marker.next_if(|m| m.0 <= p) {
            let _ = write!(
                out,
                "<sup class=\"noteref\"><a id=\"{}\" href=\"#{}\" role=\"doc-noteref\" aria-label=\"Note {n}\">[{n}]</a></sup>",
                noteref_anchor(id),
                note_anchor(id)
            );
        }
        while let Some(&&i) = next_span.peek() {
            let s = &spans[i];
            if s.start > p {
                break;
            }
            next_span.next();
            let parent_end = stack.last().map(|t| t.0).unwrap_or(chars.len());
            let end = (s.start + s.length).min(parent_end).max(p);
            let in_link = stack.iter().any(|t| t.2);
            let surface: String = chars
                .get(p..end)
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let (open, close, is_link) = open_tag(s, container, i, &surface, in_link);
            out.push_str(&open);
            if end == p {
                out.push_str(close);
            } else {
                stack.push((end, close, is_link));
            }
        }
        if let Some(c) = chars.get(p) {
            out.push_str(&esc(&c.to_string()));
        }
    }
    while let Some((_, tag, _)) = stack.pop() {
        out.push_str(tag);
    }
    out
}

fn open_tag(
    s: &Span,
    container: &str,
    index: usize,
    surface: &str,
    in_link: bool,
) -> (String, &'static str, bool) {
    let id = mention_anchor(container, index);
    match s.type_ {
        SpanType::Markup => {
            let mut cls = format!("tei-{}", html_id(&s.element));
            if let Some(r) = s.attributes.get("rend") {
                for part in r.split_whitespace() {
                    let _ = write!(cls, " rend-{}", html_id(part));
                }
            }
            match s.attributes.get("target") {
                // A `ref` to the web is a link, unless it sits inside another link.
                Some(t) if s.element == "ref" && t.starts_with("http") && !in_link => (
                    format!("<a class=\"{cls}\" href=\"{}\">", esc(t)),
                    "</a>",
                    true,
                ),
                _ => (format!("<span class=\"{cls}\">"), "</span>", false),
            }
        }
        t => {
            let target = match t {
                SpanType::Date => Some(date_anchor(&date_key(s, surface))),
                _ => s.entry.as_deref().map(entry_anchor),
            };
            let cls = format!("ent ent-{} tei-{}", t.as_str(), html_id(&s.element));
            match target {
                Some(target) if !in_link => (
                    format!("<a class=\"{cls}\" id=\"{id}\" href=\"#{target}\">"),
                    "</a>",
                    true,
                ),
                _ => (
                    format!("<span class=\"{cls}\" id=\"{id}\">"),
                    "</span>",
                    false,
                ),
            }
        }
    }
}

fn block_tag(element: &str) -> &'static str {
    match element {
        "head" => "h3",
        "p" | "ab" | "l" | "salute" | "dateline" | "signed" | "byline" | "trailer" => "p",
        _ => "div",
    }
}

fn name_html(edition: &Edition, n: &Name) -> String {
    match n.entry.as_deref().and_then(|e| edition.entry(e)) {
        Some(e) => format!("<a href=\"#{}\">{}</a>", entry_anchor(&e.id), esc(&n.name)),
        None => esc(&n.name),
    }
}

fn meta_row(out: &mut String, label: &str, value_html: &str) {
    if !value_html.is_empty() {
        let _ = write!(out, "<dt>{}</dt><dd>{value_html}</dd>", esc(label));
    }
}

fn link_or_text(url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        format!("<a href=\"{}\">{}</a>", esc(url), esc(url))
    } else {
        esc(url)
    }
}

/// The reading edition of one document.
pub fn to_html(edition: &Edition, links: &Links, report: &mut Report) -> String {
    let h = &edition.header;
    let title = if h.title.is_empty() {
        "Untitled document".to_string()
    } else {
        h.title.clone()
    };
    // The page's language (WCAG 2.1 SC 3.1.1): the document's xml:lang, else the first language
    // its header declares, else "und" (BCP 47: undetermined).
    let lang = edition
        .lang
        .clone()
        .or_else(|| h.languages.iter().find_map(|l| l.ident.clone()))
        .unwrap_or_else(|| "und".to_string());
    let numbers = note_numbers(edition);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"teikit\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&lang),
        esc(&title)
    );
    s.push_str("<header class=\"page\">\n");
    if let Some(index) = &links.index {
        let _ = writeln!(
            s,
            "<nav aria-label=\"Corpus\"><a href=\"{}\">All documents</a></nav>",
            esc(index)
        );
    }
    let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
    let mut meta = String::new();
    let join = |names: &[Name]| {
        names
            .iter()
            .map(|n| name_html(edition, n))
            .collect::<Vec<_>>()
            .join("; ")
    };
    meta_row(&mut meta, "Author", &join(&h.authors));
    for c in &h.correspondence {
        for a in &c.actions {
            let label = match a.type_.as_str() {
                "sent" => "From",
                "received" => "To",
                _ => "Correspondent",
            };
            let mut parts: Vec<String> = a
                .persons
                .iter()
                .chain(a.orgs.iter())
                .map(|n| name_html(edition, n))
                .collect();
            let places: Vec<String> = a.places.iter().map(|n| name_html(edition, n)).collect();
            if !places.is_empty() {
                parts.push(format!("in {}", places.join(", ")));
            }
            for d in &a.dates {
                let iso = d.sort_key().unwrap_or("");
                if d.text.is_empty() {
                    parts.push(esc(iso));
                } else {
                    parts.push(format!("{} ({})", esc(&d.text), esc(iso)));
                }
            }
            meta_row(&mut meta, label, &parts.join(", "));
        }
    }
    if let Some(d) = edition.date() {
        let iso = d.sort_key().unwrap_or("");
        meta_row(&mut meta, "Date", &esc(iso));
    }
    meta_row(&mut meta, "Editors", &join(&h.editors));
    for r in &h.responsibilities {
        meta_row(&mut meta, &r.resp, &join(&r.names));
    }
    meta_row(&mut meta, "Funder", &join(&h.funders));
    let langs: Vec<String> = h
        .languages
        .iter()
        .map(|l| match &l.role {
            Some(r) => format!("{} ({})", esc(&l.name), esc(r)),
            None => esc(&l.name),
        })
        .collect();
    meta_row(&mut meta, "Languages", &langs.join("; "));
    for m in &h.manuscripts {
        let parts: Vec<String> = [
            &m.country,
            &m.settlement,
            &m.repository,
            &m.collection,
            &m.idno,
        ]
        .into_iter()
        .flatten()
        .map(|x| esc(x))
        .collect();
        meta_row(&mut meta, "Archive", &parts.join(", "));
    }
    for src in &h.sources {
        let mut v = esc(&src.text);
        for u in &src.urls {
            let escaped = esc(u);
            if u.starts_with("http") && v.contains(escaped.as_str()) {
                // The URL as written in the citation becomes its link.
                v = v.replacen(escaped.as_str(), &link_or_text(u), 1);
            } else {
                let _ = write!(v, " {}", link_or_text(u));
            }
        }
        meta_row(&mut meta, "Source", &v);
    }
    if let Some(p) = &h.publisher {
        meta_row(&mut meta, "Publisher", &esc(p));
    }
    for p in &h.publication_statement {
        meta_row(&mut meta, "Publication", &esc(p));
    }
    for i in &h.idnos {
        meta_row(
            &mut meta,
            &format!(
                "Identifier{}",
                i.type_
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
            &link_or_text(&i.value),
        );
    }
    if let Some(l) = &h.licence {
        let v = match &l.target {
            Some(t) => link_or_text(t),
            None => esc(&l.text),
        };
        meta_row(&mut meta, "Licence", &v);
    }
    for n in &h.header_notes {
        meta_row(&mut meta, "Note", &esc(&n.text));
    }
    if !meta.is_empty() {
        let _ = writeln!(s, "<dl class=\"meta\">{meta}</dl>");
    }
    s.push_str("</header>\n<main>\n");
    if !h.abstract_.is_empty() {
        s.push_str("<section aria-labelledby=\"summary-h\"><h2 id=\"summary-h\">Summary</h2>\n");
        for p in &h.abstract_ {
            let _ = writeln!(s, "<p>{}</p>", esc(p));
        }
        s.push_str("</section>\n");
    }
    s.push_str("<section class=\"text\" aria-labelledby=\"text-h\"><h2 id=\"text-h\">Text</h2>\n");
    for b in &edition.blocks {
        let tag = block_tag(&b.element);
        let inner = render_text(edition, &b.id, &b.text, &b.spans, &numbers);
        let extra = if tag == "div" { " block" } else { "" };
        let _ = writeln!(
            s,
            "<{tag} id=\"{}\" class=\"tei-{}{extra}\">{inner}</{tag}>",
            html_id(&b.id),
            html_id(&b.element)
        );
    }
    s.push_str("</section>\n");
    if !edition.notes.is_empty() {
        s.push_str("<section class=\"notes\" aria-labelledby=\"notes-h\"><h2 id=\"notes-h\">Notes</h2>\n<ol>\n");
        for note in &edition.notes {
            let n = numbers.get(&note.id).copied().unwrap_or(0);
            let back = if note.anchor.is_some() {
                format!(
                    "<a class=\"back\" href=\"#{}\" role=\"doc-backlink\" aria-label=\"Back to the text of note {n}\">↩</a>",
                    noteref_anchor(&note.id)
                )
            } else {
                String::new()
            };
            let inner = render_text(edition, &note.id, &note.text, &note.spans, &numbers);
            let _ = writeln!(
                s,
                "<li id=\"{}\" value=\"{n}\">{back}{inner}</li>",
                note_anchor(&note.id)
            );
        }
        s.push_str("</ol>\n</section>\n");
    }
    s.push_str(&index_html(edition));
    s.push_str("</main>\n<footer>\n");
    let _ = writeln!(
        s,
        "<p>Reading edition generated by teikit {} from the TEI document{}.</p>",
        env!("CARGO_PKG_VERSION"),
        edition
            .id
            .as_deref()
            .map(|i| format!(" {}", esc(i)))
            .unwrap_or_default()
    );
    s.push_str("</footer>\n</body>\n</html>\n");
    // Markup the page marks (CSS, line breaks, links) or that carries no text of its own; any
    // other markup is shown as plain text, which is reported.
    const MARKED: &[&str] = &[
        "supplied", "gap", "unclear", "del", "add", "lb", "pb", "space", "anchor", "hi", "c",
        "salute", "dateline", "signed", "address", "addrLine", "opener", "closer",
    ];
    let mut hidden: BTreeMap<String, usize> = BTreeMap::new();
    for span in edition
        .blocks
        .iter()
        .flat_map(|b| b.spans.iter())
        .chain(edition.notes.iter().flat_map(|n| n.spans.iter()))
        .filter(|s| s.type_ == SpanType::Markup)
    {
        let linked = span.element == "ref"
            && span
                .attributes
                .get("target")
                .is_some_and(|t| t.starts_with("http"));
        if !linked && !MARKED.contains(&span.element.as_str()) {
            *hidden.entry(span.element.clone()).or_insert(0) += 1;
        }
    }
    if !hidden.is_empty() {
        super::not_carried(
            report,
            format!(
                "html shows the text of this markup without marking it: {}",
                super::format_counts(&hidden)
            ),
        );
    }
    s
}

/// The index: one section per entry type with every register entry, its other name forms,
/// identifiers and links to its mentions; then the dates.
fn index_html(edition: &Edition) -> String {
    // mentions per entry id and per date key: (anchor, label)
    let mut mentions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut dates: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let containers = edition
        .blocks
        .iter()
        .map(|b| (&b.id, &b.text, &b.spans))
        .chain(edition.notes.iter().map(|n| (&n.id, &n.text, &n.spans)));
    for (id, text, spans) in containers {
        for (i, s) in spans.iter().enumerate() {
            let surface: String = text.chars().skip(s.start).take(s.length).collect();
            if s.type_ == SpanType::Date {
                dates
                    .entry(date_key(s, &surface))
                    .or_default()
                    .push((mention_anchor(id, i), surface));
            } else if s.type_.is_entity()
                && let Some(e) = &s.entry
            {
                mentions
                    .entry(e.clone())
                    .or_default()
                    .push(mention_anchor(id, i));
            }
        }
    }
    let mut s = String::new();
    if edition.register.is_empty() && dates.is_empty() {
        return s;
    }
    s.push_str(
        "<section class=\"index\" aria-labelledby=\"index-h\"><h2 id=\"index-h\">Index</h2>\n",
    );
    for t in [
        EntryType::Person,
        EntryType::Place,
        EntryType::Org,
        EntryType::Work,
        EntryType::Event,
    ] {
        let mut entries: Vec<_> = edition.register.iter().filter(|e| e.type_ == t).collect();
        if entries.is_empty() {
            continue;
        }
        entries.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        let _ = writeln!(
            s,
            "<section aria-labelledby=\"index-{0}\"><h3 id=\"index-{0}\">{1}</h3>\n<ul>",
            t.as_str(),
            t.plural_label()
        );
        for e in entries {
            let _ = write!(
                s,
                "<li id=\"{}\"><span class=\"ent-{}\">{}</span>",
                entry_anchor(&e.id),
                t.as_str(),
                esc(&e.name)
            );
            let forms: Vec<String> = e
                .names
                .iter()
                .filter(|n| n.text != e.name)
                .map(|n| esc(&n.text))
                .collect();
            if !forms.is_empty() {
                let _ = write!(s, "<span class=\"forms\">Also: {}</span>", forms.join("; "));
            }
            let ids: Vec<String> = e
                .identifiers
                .iter()
                .map(|i| {
                    let label = format!(
                        "{}{}",
                        i.type_
                            .as_deref()
                            .map(|t| format!("{t} "))
                            .unwrap_or_default(),
                        i.value
                    );
                    match &i.uri {
                        Some(u) if u.starts_with("http") => {
                            format!("<a href=\"{}\">{}</a>", esc(u), esc(&label))
                        }
                        _ => esc(&label),
                    }
                })
                .collect();
            let _ = write!(
                s,
                "<span class=\"ids\">{}</span>",
                if ids.is_empty() {
                    "No authority identifier".to_string()
                } else {
                    format!("Identifiers: {}", ids.join("; "))
                }
            );
            if let Some(ms) = mentions.get(&e.id) {
                let links: Vec<String> = ms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| {
                        format!(
                            "<a href=\"#{a}\" aria-label=\"Mention {} of {}\">{}</a>",
                            k + 1,
                            esc(&e.name),
                            k + 1
                        )
                    })
                    .collect();
                let _ = write!(
                    s,
                    "<span class=\"mentions\">Mentions: {}</span>",
                    links.join(" ")
                );
            }
            s.push_str("</li>\n");
        }
        s.push_str("</ul>\n</section>\n");
    }
    if !dates.is_empty() {
        s.push_str(
            "<section aria-labelledby=\"index-date\"><h3 id=\"index-date\">Dates</h3>\n<ul>\n",
        );
        for (key, ms) in &dates {
            let links: Vec<String> = ms
                .iter()
                .enumerate()
                .map(|(k, (a, surface))| {
                    format!(
                        "<a href=\"#{a}\" aria-label=\"Mention {} of {}: {}\">{}</a>",
                        k + 1,
                        esc(key),
                        esc(surface),
                        k + 1
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "<li id=\"{}\"><span class=\"ent-date\">{}</span><span class=\"mentions\">Mentions: {}</span></li>",
                date_anchor(key),
                esc(key),
                links.join(" ")
            );
        }
        s.push_str("</ul>\n</section>\n");
    }
    s.push_str("</section>\n");
    s
}

/// One document of a corpus: its output file name and its edition.
pub struct CorpusDocument<'a> {
    pub file: String,
    pub edition: &'a Edition,
}

/// The corpus index page: documents in date order (undated last, then by file name), and
/// persons, places and organisations across documents by register id.
pub fn corpus_index(title: &str, docs: &[CorpusDocument]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"teikit\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header class=\"page\"><h1>{}</h1></header>\n<main>\n",
        esc(title),
        esc(title)
    );
    let mut order: Vec<&CorpusDocument> = docs.iter().collect();
    order.sort_by(|a, b| {
        let ka = a.edition.date().and_then(|d| d.sort_key());
        let kb = b.edition.date().and_then(|d| d.sort_key());
        match (ka, kb) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.file.cmp(&b.file))
    });
    let _ = writeln!(
        s,
        "<section aria-labelledby=\"docs-h\"><h2 id=\"docs-h\">Documents ({})</h2>\n<ol>",
        docs.len()
    );
    for d in &order {
        let date = d
            .edition
            .date()
            .and_then(|d| d.sort_key())
            .unwrap_or("undated");
        let title = if d.edition.header.title.is_empty() {
            d.file.clone()
        } else {
            d.edition.header.title.clone()
        };
        let _ = writeln!(
            s,
            "<li><span class=\"ent-date\">{}</span> <a href=\"{}\">{}</a></li>",
            esc(date),
            esc(&d.file),
            esc(&title)
        );
    }
    s.push_str("</ol>\n</section>\n");
    // entries by (type, id): name, identifiers, documents
    type Key = (EntryType, String);
    // name, authority URIs, (link, document title) per document
    type Across = (String, Vec<String>, Vec<(String, String)>);
    let mut entries: BTreeMap<Key, Across> = BTreeMap::new();
    for d in &order {
        for e in &d.edition.register {
            if !matches!(
                e.type_,
                EntryType::Person | EntryType::Place | EntryType::Org
            ) {
                continue;
            }
            let slot = entries
                .entry((e.type_, e.id.clone()))
                .or_insert_with(|| (e.name.clone(), Vec::new(), Vec::new()));
            for i in &e.identifiers {
                if let Some(u) = &i.uri
                    && !slot.1.contains(u)
                {
                    slot.1.push(u.clone());
                }
            }
            // A short link text: the file's name and the document's date.
            let stem = d.file.trim_end_matches(".html");
            let label = match d.edition.date().and_then(|x| x.sort_key()) {
                Some(date) => format!("{stem} ({date})"),
                None => stem.to_string(),
            };
            slot.2
                .push((format!("{}#{}", d.file, entry_anchor(&e.id)), label));
        }
    }
    s.push_str(
        "<section class=\"index\" aria-labelledby=\"index-h\"><h2 id=\"index-h\">Index</h2>\n",
    );
    for t in [EntryType::Person, EntryType::Place, EntryType::Org] {
        let mut list: Vec<(&Key, &Across)> = entries.iter().filter(|(k, _)| k.0 == t).collect();
        if list.is_empty() {
            continue;
        }
        list.sort_by(|a, b| {
            a.1.0
                .to_lowercase()
                .cmp(&b.1.0.to_lowercase())
                .then(a.0.1.cmp(&b.0.1))
        });
        let _ = writeln!(
            s,
            "<section aria-labelledby=\"index-{0}\"><h3 id=\"index-{0}\">{1}</h3>\n<ul>",
            t.as_str(),
            t.plural_label()
        );
        for ((_, id), (name, uris, docs)) in list {
            let ids: Vec<String> = uris
                .iter()
                .map(|u| format!("<a href=\"{}\">{}</a>", esc(u), esc(u)))
                .collect();
            let links: Vec<String> = docs
                .iter()
                .map(|(href, title)| format!("<a href=\"{}\">{}</a>", esc(href), esc(title)))
                .collect();
            let _ = writeln!(
                s,
                "<li id=\"{}\"><span class=\"ent-{}\">{}</span><span class=\"ids\">{}</span><span class=\"forms\">In {} document{}: {}</span></li>",
                entry_anchor(id),
                t.as_str(),
                esc(name),
                if ids.is_empty() {
                    "No authority identifier".to_string()
                } else {
                    format!("Identifiers: {}", ids.join("; "))
                },
                docs.len(),
                if docs.len() == 1 { "" } else { "s" },
                links.join("; ")
            );
        }
        s.push_str("</ul>\n</section>\n");
    }
    s.push_str("</section>\n</main>\n<footer><p>Corpus index generated by teikit.</p></footer>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::super::model::read_edition;
    use super::*;

    const DOC: &str = r##"<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>A &amp; B</title></titleStmt></fileDesc></teiHeader>
<text><body><p>Dear <persName ref="#a">Anna <placeName ref="#v">Wien</placeName></persName>,<note>See <date when="1900">1900</date>.</note> bye <supplied>now</supplied></p></body></text>
<standOff><listPerson><person xml:id="a"><persName>Anna</persName></person></listPerson>
<listPlace><place xml:id="v"><placeName>Wien</placeName><idno type="geonames">2761369</idno></place></listPlace></standOff></TEI>"##;

    #[test]
    fn nested_entities_never_nest_links() {
        let (ed, _) = read_edition(DOC).unwrap();
        let mut r = Report::new();
        let html = to_html(&ed, &Links::default(), &mut r);
        assert!(html.contains("<title>A &amp; B</title>"));
        assert!(html.contains(
            "<a class=\"ent ent-person tei-persName\" id=\"m-b1-1\" href=\"#idx-a\">Anna <span class=\"ent ent-place tei-placeName\" id=\"m-b1-2\">Wien</span></a>"
        ), "{html}");
        assert!(html.contains("href=\"#fn-note-1\""));
        assert!(html.contains("id=\"fnref-note-1\""));
        assert!(html.contains("href=\"#date-1900\""));
        assert!(html.contains("https://sws.geonames.org/2761369/"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn corpus_lists_documents_by_date() {
        let (ed, _) = read_edition(DOC).unwrap();
        let page = corpus_index(
            "Letters",
            &[
                CorpusDocument {
                    file: "b.html".into(),
                    edition: &ed,
                },
                CorpusDocument {
                    file: "a.html".into(),
                    edition: &ed,
                },
            ],
        );
        let a = page.find("a.html").unwrap();
        let b = page.find("b.html").unwrap();
        assert!(a < b);
        assert!(page.contains("a.html#idx-a"));
    }
}
