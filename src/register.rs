//! The register of persons, places and organisations an edition links its mentions to.
//!
//! Owns: reading a register (a TEI document with `listPerson`, `listPlace`, `listOrg`; TEI
//! Guidelines 13.3 "Biographical and Prosopographical Data" and 13.3.4 "Places"), the model of
//! its entries (id, kind, every name form, authority identifiers, notes), finding mentions of
//! those forms in text (case-sensitive, longest form first, punctuation and hyphens as word
//! boundaries, flat), and writing entries back as TEI for an edition's `standOff`.
//! It must not read files except in `load_register`, and knows nothing of source layouts.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Report, Span};
use crate::tei::{Element, TEI_NS};

/// What kind of entity an entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    Person,
    Place,
    Org,
}

impl EntityKind {
    /// The TEI name element for mentions of this kind.
    pub fn name_element(self) -> &'static str {
        match self {
            EntityKind::Person => "persName",
            EntityKind::Place => "placeName",
            EntityKind::Org => "orgName",
        }
    }

    /// The TEI entry element.
    pub fn entry_element(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Place => "place",
            EntityKind::Org => "org",
        }
    }

    /// The TEI list element holding entries of this kind.
    pub fn list_element(self) -> &'static str {
        match self {
            EntityKind::Person => "listPerson",
            EntityKind::Place => "listPlace",
            EntityKind::Org => "listOrg",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Place => "place",
            EntityKind::Org => "organisation",
        }
    }
}

/// An authority identifier: scheme (`wikidata`, `viaf`, `geonames`, ...) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub scheme: String,
    pub value: String,
}

impl Identifier {
    /// The identifier as a URI, for the schemes teikit knows.
    pub fn uri(&self) -> Option<String> {
        match self.scheme.as_str() {
            "wikidata" => Some(format!("http://www.wikidata.org/entity/{}", self.value)),
            "viaf" => Some(format!("http://viaf.org/viaf/{}", self.value)),
            "geonames" => Some(format!("https://sws.geonames.org/{}/", self.value)),
            "gnd" => Some(format!("https://d-nb.info/gnd/{}", self.value)),
            _ if self.value.starts_with("http") => Some(self.value.clone()),
            _ => None,
        }
    }
}

/// One register entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub kind: EntityKind,
    /// The first name form is the preferred one; every form is matched in text.
    pub forms: Vec<String>,
    pub identifiers: Vec<Identifier>,
    /// Notes (e.g. where an identifier was verified), as plain text.
    pub notes: Vec<(Option<String>, String)>,
}

impl Entry {
    pub fn preferred(&self) -> &str {
        self.forms
            .first()
            .map(String::as_str)
            .unwrap_or(self.id.as_str())
    }

    /// The entry as TEI (`person`, `place` or `org`).
    pub fn to_tei(&self) -> Element {
        let mut el = Element::new(self.kind.entry_element()).attr("xml:id", self.id.clone());
        for (i, form) in self.forms.iter().enumerate() {
            let ty = if i == 0 { "main" } else { "variant" };
            el.push(
                Element::new(self.kind.name_element())
                    .attr("type", ty)
                    .text(form.clone()),
            );
        }
        for ident in &self.identifiers {
            el.push(
                Element::new("idno")
                    .attr("type", ident.scheme.clone())
                    .text(ident.value.clone()),
            );
        }
        for (ty, text) in &self.notes {
            let mut note = Element::new("note");
            if let Some(ty) = ty {
                note.set_attr("type", ty.clone());
            }
            el.push(note.text(text.clone()));
        }
        el
    }
}

/// A register: entries in file order, with their name forms indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct Register {
    pub entries: Vec<Entry>,
    /// (form, entry index), longest form first, then by form, for deterministic matching.
    forms: Vec<(String, usize)>,
}

/// A mention found in text: byte range and the entry it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub entry: usize,
}

impl Register {
    pub fn new(entries: Vec<Entry>) -> Self {
        let mut forms: Vec<(String, usize)> = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.forms.iter().map(move |f| (f.clone(), i)))
            .filter(|(f, _)| !f.trim().is_empty())
            .collect();
        forms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        forms.dedup_by(|a, b| a.0 == b.0);
        Register { entries, forms }
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub fn entry(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }

    /// Every mention of a register form in `text`: case-sensitive, longest form first at each
    /// position, forms must start and end at word boundaries (any non-alphanumeric character,
    /// hyphens and apostrophes included, is a boundary), and mentions never overlap.
    pub fn find_mentions(&self, text: &str) -> Vec<Mention> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            let Some(rest) = text.get(pos..) else { break };
            let at_boundary = text
                .get(..pos)
                .and_then(|before| before.chars().next_back())
                .is_none_or(|c| !c.is_alphanumeric());
            let mut matched = None;
            if at_boundary {
                for (form, idx) in &self.forms {
                    if rest.starts_with(form.as_str()) {
                        let end = pos + form.len();
                        let ends_at_boundary = text
                            .get(end..)
                            .and_then(|after| after.chars().next())
                            .is_none_or(|c| !c.is_alphanumeric());
                        if ends_at_boundary {
                            matched = Some(Mention {
                                start: pos,
                                end,
                                entry: *idx,
                            });
                            break;
                        }
                    }
                }
            }
            match matched {
                Some(m) => {
                    out.push(m);
                    pos = m.end;
                }
                None => {
                    pos += rest.chars().next().map(char::len_utf8).unwrap_or(1);
                }
            }
        }
        out
    }

    /// The first entry (of the given kind, if any) whose form occurs in `text`.
    pub fn first_mentioned(&self, text: &str) -> Option<(&Entry, Mention)> {
        let m = self.find_mentions(text).into_iter().next()?;
        Some((self.entries.get(m.entry)?, m))
    }

    /// True when `word` is how a register form begins (e.g. "Soviet" for "Soviet Union",
    /// "Yugoslav" for "Yugoslavia"): such words are adjectives of registered names.
    pub fn is_form_prefix(&self, word: &str) -> bool {
        word.chars().count() >= 4
            && self
                .forms
                .iter()
                .any(|(f, _)| f.starts_with(word) && f.len() > word.len())
    }

    /// `standOff` content: one list per kind holding exactly the entries with the given ids, in
    /// register order.
    pub fn lists_for(&self, ids: &std::collections::BTreeSet<String>) -> Vec<Element> {
        let mut lists: BTreeMap<EntityKind, Element> = BTreeMap::new();
        for e in &self.entries {
            if ids.contains(&e.id) {
                lists
                    .entry(e.kind)
                    .or_insert_with(|| Element::new(e.kind.list_element()))
                    .push(e.to_tei());
            }
        }
        lists.into_values().collect()
    }
}

/// Reads a register from TEI XML text. Malformed XML is an `Err` (the register cannot be used);
/// entries without `xml:id` or names are reported and skipped.
pub fn parse_register(xml: &str, name: &str) -> Result<(Register, Report), String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("{name}: the register is not well-formed XML: {e}"))?;
    let mut report = Report::new();
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name();
        if tag.namespace() != Some(TEI_NS) {
            continue;
        }
        let kind = match tag.name() {
            "person" => EntityKind::Person,
            "place" => EntityKind::Place,
            "org" => EntityKind::Org,
            _ => continue,
        };
        let span = Span::new(node.range().start, node.range().end);
        let Some(id) = node.attribute(("http://www.w3.org/XML/1998/namespace", "id")) else {
            report.push(
                Diagnostic::warning(
                    "register/no-id",
                    format!("{name}: a {} entry has no xml:id; skipped", kind.label()),
                )
                .with_span(span),
            );
            continue;
        };
        if !seen.insert(id.to_string()) {
            report.push(
                Diagnostic::error(
                    "register/duplicate-id",
                    format!(
                        "{name}: xml:id \"{id}\" is used by more than one entry; the first wins"
                    ),
                )
                .with_span(span),
            );
            continue;
        }
        let mut forms = Vec::new();
        let mut identifiers = Vec::new();
        let mut notes = Vec::new();
        for child in node.children().filter(|c| c.is_element()) {
            let text = normalize_space(&string_value(child));
            match child.tag_name().name() {
                n if (n == kind.name_element() || n == "name")
                    && !text.is_empty()
                    && !forms.contains(&text) =>
                {
                    forms.push(text);
                }
                "idno" => {
                    if let Some(scheme) = child.attribute("type")
                        && !text.is_empty()
                    {
                        identifiers.push(Identifier {
                            scheme: scheme.to_string(),
                            value: text,
                        });
                    }
                }
                "note" => notes.push((child.attribute("type").map(str::to_string), text)),
                _ => {}
            }
        }
        if forms.is_empty() {
            report.push(
                Diagnostic::warning(
                    "register/no-name",
                    format!("{name}: entry \"{id}\" has no name form; skipped"),
                )
                .with_span(span),
            );
            continue;
        }
        entries.push(Entry {
            id: id.to_string(),
            kind,
            forms,
            identifiers,
            notes,
        });
    }
    Ok((Register::new(entries), report))
}

fn string_value(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// Collapses runs of white space to one space and trims.
pub fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a register file from disk.
pub fn load_register(path: &std::path::Path) -> Result<(Register, Report), String> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| format!("{name}: cannot read the register: {e}"))?;
    let text = crate::source::decode_text(&bytes).map_err(|e| format!("{name}: {e}"))?;
    parse_register(&text, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Register {
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><standOff>
          <listPerson><person xml:id="tito"><persName>Josip Broz Tito</persName><persName>Tito</persName>
            <idno type="wikidata">Q1</idno></person></listPerson>
          <listPlace><place xml:id="moscow"><placeName>Moscow</placeName></place>
            <place xml:id="ussr"><placeName>Soviet Union</placeName><placeName>USSR</placeName></place></listPlace>
          <listOrg><org xml:id="cpsu"><orgName>Communist Party of the Soviet Union</orgName><orgName>CPSU</orgName></org></listOrg>
        </standOff></TEI>"#;
        let (r, report) = parse_register(xml, "r.xml").unwrap();
        assert!(report.is_empty());
        r
    }

    fn found(r: &Register, text: &str) -> Vec<(String, String)> {
        r.find_mentions(text)
            .iter()
            .map(|m| {
                (
                    text[m.start..m.end].to_string(),
                    r.entries[m.entry].id.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn longest_form_wins_and_marking_is_flat() {
        let r = reg();
        assert_eq!(
            found(
                &r,
                "The Communist Party of the Soviet Union and the Soviet Union."
            ),
            vec![
                ("Communist Party of the Soviet Union".into(), "cpsu".into()),
                ("Soviet Union".into(), "ussr".into())
            ]
        );
    }

    #[test]
    fn hyphens_and_apostrophes_are_boundaries_but_letters_are_not() {
        let r = reg();
        assert_eq!(
            found(&r, "Moscow-based"),
            vec![("Moscow".into(), "moscow".into())]
        );
        assert_eq!(
            found(&r, "Tito's letter"),
            vec![("Tito".into(), "tito".into())]
        );
        assert!(found(&r, "Titoism and Muscovites, MoscowX").is_empty());
    }

    #[test]
    fn matching_is_case_sensitive_and_adjectives_are_not_mentions() {
        let r = reg();
        assert!(found(&r, "moscow, the Soviet press, cpsu").is_empty());
        assert!(r.is_form_prefix("Soviet"));
        assert!(!r.is_form_prefix("Fifth"));
    }

    #[test]
    fn entries_round_trip_to_tei() {
        let r = reg();
        let tito = r.get("tito").unwrap();
        let xml = crate::tei::serialize_element(&tito.to_tei());
        assert!(xml.contains("<persName type=\"main\">Josip Broz Tito</persName>"));
        assert!(xml.contains("<idno type=\"wikidata\">Q1</idno>"));
    }

    #[test]
    fn bad_registers_are_reported() {
        assert!(parse_register("<TEI", "x").is_err());
        let (r, report) = parse_register(
            r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><person><persName>A</persName></person>
            <person xml:id="b"/><person xml:id="c"><persName>C</persName></person>
            <person xml:id="c"><persName>D</persName></person></TEI>"#,
            "x",
        )
        .unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(report.diagnostics.len(), 3);
    }
}
