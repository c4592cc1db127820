//! The export model: what teikit reads out of any TEI document before writing it in another
//! format, and the reading of it with roxmltree.
//!
//! Owns the `Edition` structure (header metadata, the text as blocks with spans, notes with their
//! anchors, the register with authority identifiers), which is also the JSON export
//! (`schemas/teikit-export.schema.json`, versioned by `FORMAT_VERSION`), and the rules that make
//! a block's text: the reading string of an element is its descendant text with `note` left out
//! (notes become separate entries anchored where they stood, TEI Guidelines 3.9 "Notes,
//! Annotation, and Indexing"), `lb`, `pb`, `cb` (unless `@break="no"`, TEI Guidelines 3.11.3
//! "Milestone Elements") and `space` read as a space, chunk-level elements inside a block
//! (`WORD_BOUNDARIES`) read with a space before and after, and XML white space collapsed as XPath's
//! `normalize-space()` does. Offsets are counted in Unicode code points.
//! It must not write any output format, read files or know about teikit's own source layouts.

use std::collections::{BTreeMap, BTreeSet};

use std::collections::HashMap;

use roxmltree::{Document, Node, NodeId};
use serde::Serialize;

use crate::diag::{Diagnostic, Report};
use crate::register::Identifier;
use crate::tei::TEI_NS;

/// The name of the JSON structure, in its `format` field.
pub const FORMAT_NAME: &str = "teikit-export";
/// The version of the JSON structure; a change that breaks readers changes the major number.
pub const FORMAT_VERSION: &str = "1.0";

/// Everything an export format may carry from one TEI document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Edition {
    pub format: String,
    pub version: String,
    /// `TEI/@xml:id`, if any.
    pub id: Option<String>,
    /// `TEI/@xml:lang` (else `text/@xml:lang`), if any.
    pub lang: Option<String>,
    pub header: Header,
    pub blocks: Vec<Block>,
    pub notes: Vec<Note>,
    pub register: Vec<Entry>,
}

/// Header metadata (TEI Guidelines 2 "The TEI Header"). Parts the model does not read are
/// reported as warnings by `read_edition`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Header {
    /// The main title: `title[@type='main']`, else `title[@level='a']`, else the first.
    pub title: String,
    pub titles: Vec<Title>,
    pub authors: Vec<Name>,
    pub editors: Vec<Name>,
    pub funders: Vec<Name>,
    pub responsibilities: Vec<Responsibility>,
    pub edition: Option<String>,
    pub publisher: Option<String>,
    #[serde(rename = "pubPlace")]
    pub pub_place: Option<String>,
    #[serde(rename = "publicationDate")]
    pub publication_date: Option<DateValue>,
    /// `publicationStmt/p`, when the statement is prose.
    #[serde(rename = "publicationStatement")]
    pub publication_statement: Vec<String>,
    pub idnos: Vec<Idno>,
    pub licence: Option<Licence>,
    pub series: Vec<String>,
    /// `notesStmt/note`.
    #[serde(rename = "headerNotes")]
    pub header_notes: Vec<TypedText>,
    /// `sourceDesc//bibl`, as text, with the URLs of its `ref/@target`.
    pub sources: Vec<SourceCitation>,
    pub manuscripts: Vec<Manuscript>,
    #[serde(rename = "abstract")]
    pub abstract_: Vec<String>,
    pub creation: Option<DateValue>,
    pub languages: Vec<Language>,
    pub correspondence: Vec<Correspondence>,
    pub revisions: Vec<Change>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Title {
    pub text: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub level: Option<String>,
}

/// A name with its pointer (`@ref`) and, when the pointer is local and resolves, the register
/// entry's id.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    #[serde(rename = "ref")]
    pub ref_: Option<String>,
    pub entry: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Responsibility {
    pub resp: String,
    pub names: Vec<Name>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Idno {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Licence {
    pub target: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TypedText {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SourceCitation {
    pub text: String,
    pub urls: Vec<String>,
}

/// `msIdentifier` (TEI Guidelines 10.4 "The Manuscript Identifier").
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Manuscript {
    pub country: Option<String>,
    pub settlement: Option<String>,
    pub repository: Option<String>,
    pub collection: Option<String>,
    pub idno: Option<String>,
}

/// A date: its text and its normalised attributes (TEI `att.datable.w3c`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DateValue {
    pub text: String,
    pub when: Option<String>,
    #[serde(rename = "notBefore")]
    pub not_before: Option<String>,
    #[serde(rename = "notAfter")]
    pub not_after: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Every attribute of the `date` element as written (`@evidence`, `@cert`, `@calendar`, ...).
    pub attributes: BTreeMap<String, String>,
}

impl DateValue {
    /// The earliest ISO value the date gives, for sorting.
    pub fn sort_key(&self) -> Option<&str> {
        self.when
            .as_deref()
            .or(self.from.as_deref())
            .or(self.not_before.as_deref())
            .or(self.not_after.as_deref())
            .or(self.to.as_deref())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Language {
    pub ident: Option<String>,
    /// `@n` or `@usage` as given (teikit's editions mark "original" and "translation" in `@n`).
    pub role: Option<String>,
    pub name: String,
}

/// One `correspDesc` (TEI Guidelines 2.4.6 "Correspondence Description").
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Correspondence {
    #[serde(rename = "ref")]
    pub ref_: Option<String>,
    pub actions: Vec<CorrespAction>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CorrespAction {
    #[serde(rename = "type")]
    pub type_: String,
    pub persons: Vec<Name>,
    pub places: Vec<Name>,
    pub orgs: Vec<Name>,
    pub dates: Vec<DateValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub when: Option<String>,
    pub who: Option<String>,
    pub text: String,
}

/// A block of the text: a paragraph, heading, opener, closer, list item and the like, with its
/// reading string and the spans of the elements inside it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Block {
    /// `b1`, `b2`, ... in document order.
    pub id: String,
    /// The TEI element's local name.
    pub element: String,
    /// The element's location: `/TEI[1]/text[1]/body[1]/div[1]/p[2]` (local names, 1-based).
    pub path: String,
    /// The ids of the enclosing divisions' `@type`/`@n`, outermost first (e.g. `letter`).
    pub division: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub text: String,
    pub spans: Vec<Span>,
}

/// What a span marks.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum SpanType {
    Person,
    Place,
    Org,
    Work,
    Event,
    /// A name of another or unknown kind (`name`, `rs` without a known `@type`).
    Name,
    Date,
    /// Any other element (editorial and typographic markup: `supplied`, `sic`, `hi`, `lb`, ...).
    Markup,
}

impl SpanType {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanType::Person => "person",
            SpanType::Place => "place",
            SpanType::Org => "org",
            SpanType::Work => "work",
            SpanType::Event => "event",
            SpanType::Name => "name",
            SpanType::Date => "date",
            SpanType::Markup => "markup",
        }
    }

    /// Persons, places, organisations, works, events and other names: what the CSV and the HTML
    /// index list as mentions.
    pub fn is_entity(self) -> bool {
        !matches!(self, SpanType::Date | SpanType::Markup)
    }
}

/// An element inside a block or note: `start` and `length` in Unicode code points into its
/// container's `text`. Its text is the element's reading string with surrounding white space
/// trimmed; empty elements (`lb`, `gap`, `anchor`) have length 0.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub length: usize,
    #[serde(rename = "type")]
    pub type_: SpanType,
    pub element: String,
    pub path: String,
    /// The register entry the span's `@ref` (else `@key`) points to, when it resolves.
    pub entry: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// A note, taken out of the text and anchored where it stood.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Note {
    /// `@xml:id`, else `note-1`, `note-2`, ...
    pub id: String,
    /// The note's number for readers: `@n`, else its position among the notes.
    pub n: String,
    pub path: String,
    pub attributes: BTreeMap<String, String>,
    pub anchor: Option<Anchor>,
    pub text: String,
    pub spans: Vec<Span>,
}

/// Where a note stood: the id of a block or of another note, and an offset into its text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Anchor {
    pub container: String,
    pub offset: usize,
}

/// What a register entry is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    Person,
    Place,
    Org,
    Work,
    Event,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Person => "person",
            EntryType::Place => "place",
            EntryType::Org => "org",
            EntryType::Work => "work",
            EntryType::Event => "event",
        }
    }

    /// A heading for an index of entries of this type.
    pub fn plural_label(self) -> &'static str {
        match self {
            EntryType::Person => "Persons",
            EntryType::Place => "Places",
            EntryType::Org => "Organisations",
            EntryType::Work => "Works",
            EntryType::Event => "Events",
        }
    }
}

/// A register entry (`person`, `place`, `org`, `event`, or a `bibl` in `listBibl`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: EntryType,
    /// The preferred name: the form typed `main` or `pref`, else the first.
    pub name: String,
    pub names: Vec<TypedText>,
    pub identifiers: Vec<EntryIdentifier>,
    pub notes: Vec<TypedText>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EntryIdentifier {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: String,
    /// The identifier as a URI, when it is one or its scheme is known.
    pub uri: Option<String>,
}

impl Entry {
    /// The first authority URI of the entry, if any.
    pub fn authority_uri(&self) -> Option<&str> {
        self.identifiers.iter().find_map(|i| i.uri.as_deref())
    }
}

impl Edition {
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.register.iter().find(|e| e.id == id)
    }

    /// The document's date: the sending date of its correspondence, else the creation date.
    pub fn date(&self) -> Option<&DateValue> {
        self.header
            .correspondence
            .iter()
            .flat_map(|c| c.actions.iter())
            .filter(|a| a.type_ == "sent")
            .flat_map(|a| a.dates.iter())
            .find(|d| d.sort_key().is_some())
            .or(self.header.creation.as_ref())
    }

    /// True when the header has a `correspDesc` with at least one action.
    pub fn has_correspondence(&self) -> bool {
        self.header
            .correspondence
            .iter()
            .any(|c| !c.actions.is_empty())
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// XML white space (XML 1.0 §2.3 production `S`), the set `normalize-space()` collapses.
pub fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Collapses runs of XML white space to one space and trims both ends.
pub fn normalize_space(s: &str) -> String {
    s.split(is_xml_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_tei(n: &Node) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(TEI_NS)
}

fn local(n: &Node) -> String {
    n.tag_name().name().to_string()
}

fn tei_children<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(move |c| is_tei(c) && c.tag_name().name() == name)
}

fn tei_child<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> Option<Node<'a, 'i>> {
    tei_children(n, name).next()
}

fn tei_descendants<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.descendants()
        .filter(move |c| is_tei(c) && c.tag_name().name() == name)
}

fn attr(n: &Node, name: &str) -> Option<String> {
    n.attribute(name).map(str::to_string)
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

fn xml_id(n: &Node) -> Option<String> {
    n.attribute((XML_NS, "id")).map(str::to_string)
}

fn attributes(n: &Node) -> BTreeMap<String, String> {
    n.attributes()
        .map(|a| {
            let key = match a.namespace() {
                Some(XML_NS) => format!("xml:{}", a.name()),
                _ => a.name().to_string(),
            };
            (key, a.value().to_string())
        })
        .collect()
}

/// Chunk-level elements (TEI Guidelines 1.3.2, the `model.pLike`, `model.divLike`,
/// `model.divTopPart`/`model.divBottomPart` and `model.addrPart` classes, and `seg`): inside a
/// block they read with a space before and after, so that `<salute>` after a `<seg>` of a
/// letterhead, or `<signed>` after a `<dateline>`, never glue two words together.
pub const WORD_BOUNDARIES: &[&str] = &[
    "p",
    "ab",
    "head",
    "l",
    "lg",
    "item",
    "list",
    "label",
    "div",
    "opener",
    "closer",
    "salute",
    "signed",
    "dateline",
    "postscript",
    "byline",
    "trailer",
    "address",
    "addrLine",
    "seg",
    "table",
    "row",
    "cell",
    "fw",
    "figure",
];

fn is_boundary(n: &Node) -> bool {
    is_tei(n) && WORD_BOUNDARIES.contains(&n.tag_name().name())
}

/// True for the empty elements that read as a space: line, page and column beginnings (unless
/// `@break="no"`) and `space`.
fn reads_as_space(n: &Node) -> bool {
    if !is_tei(n) {
        return false;
    }
    match n.tag_name().name() {
        "lb" | "pb" | "cb" => n.attribute("break") != Some("no"),
        "space" => true,
        _ => false,
    }
}

/// The reading string of an element (see the module doc), normalised.
pub fn reading_string(n: Node) -> String {
    let mut s = String::new();
    collect_reading(n, &mut s);
    normalize_space(&s)
}

fn collect_reading(n: Node, out: &mut String) {
    for c in n.children() {
        if c.is_text() {
            out.push_str(c.text().unwrap_or(""));
        } else if c.is_element() {
            if reads_as_space(&c) {
                out.push(' ');
            } else if is_tei(&c) && c.tag_name().name() == "note" {
                continue;
            } else if is_boundary(&c) {
                out.push(' ');
                collect_reading(c, out);
                out.push(' ');
            } else {
                collect_reading(c, out);
            }
        }
    }
}

/// The location of an element: local names with 1-based positions among same-named siblings.
pub fn element_path(n: Node) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(n);
    while let Some(node) = cur {
        if node.is_element() {
            let name = node.tag_name().name();
            let pos = node
                .prev_siblings()
                .filter(|s| s.is_element() && s.tag_name().name() == name)
                .count();
            parts.push(format!("{name}[{pos}]"));
        }
        cur = node.parent();
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// How deeply elements may nest in a document `read_edition` accepts: far beyond any real TEI
/// text, and low enough that reading it can never exhaust the stack.
pub const MAX_DEPTH: usize = 1000;

fn max_depth(doc: &Document) -> usize {
    // Document order visits a parent before its children, so its depth is known.
    let mut depths: HashMap<NodeId, usize> = HashMap::new();
    let mut max = 0;
    for n in doc.descendants() {
        let d = n
            .parent()
            .and_then(|p| depths.get(&p.id()))
            .copied()
            .unwrap_or(0)
            + usize::from(n.is_element());
        max = max.max(d);
        depths.insert(n.id(), d);
    }
    max
}

/// Every element's 1-based position among its same-named siblings, computed in one pass.
fn sibling_positions(doc: &Document) -> HashMap<NodeId, usize> {
    let mut out = HashMap::new();
    for parent in doc.descendants() {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in parent.children().filter(|c| c.is_element()) {
            let n = counts.entry(c.tag_name().name()).or_insert(0);
            *n += 1;
            out.insert(c.id(), *n);
        }
    }
    out
}

/// `element_path` with positions looked up instead of counted.
fn path_with(n: Node, positions: &HashMap<NodeId, usize>) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(n);
    while let Some(node) = cur {
        if node.is_element() {
            let pos = positions.get(&node.id()).copied().unwrap_or(1);
            parts.push(format!("{}[{pos}]", node.tag_name().name()));
        }
        cur = node.parent();
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// Reads a TEI document into the export model. `Err` when the text is not well-formed XML or
/// not a TEI document; parts of the document the model does not carry are warnings in the
/// report (code `export/not-carried`).
pub fn read_edition(xml: &str) -> Result<(Edition, Report), String> {
    let doc = Document::parse(xml).map_err(|e| format!("not well-formed XML: {e}"))?;
    let depth = max_depth(&doc);
    if depth > MAX_DEPTH {
        return Err(format!(
            "elements are nested {depth} levels deep; teikit export reads documents nested at most {MAX_DEPTH} levels deep"
        ));
    }
    let positions = sibling_positions(&doc);
    let root = doc.root_element();
    if !(is_tei(&root)
        && (root.tag_name().name() == "TEI" || root.tag_name().name() == "teiCorpus"))
    {
        return Err(format!(
            "the root element is {{{}}}{}, not TEI in the TEI namespace ({TEI_NS})",
            root.tag_name().namespace().unwrap_or(""),
            root.tag_name().name()
        ));
    }
    let mut report = Report::new();
    let register = read_register(root, &mut report);
    let ids: BTreeSet<String> = register.iter().map(|e| e.id.clone()).collect();
    let header = match tei_child(root, "teiHeader") {
        Some(h) => read_header(h, &ids, &mut report),
        None => {
            report.push(Diagnostic::warning(
                "export/no-header",
                "the document has no teiHeader: no metadata to export",
            ));
            Header::default()
        }
    };
    let mut reader = TextReader {
        ids: &ids,
        positions: &positions,
        blocks: Vec::new(),
        notes: Vec::new(),
        divisions: Vec::new(),
        skipped: BTreeMap::new(),
    };
    for text in tei_children(root, "text") {
        reader.container(text);
    }
    for (name, count) in &reader.skipped {
        report.push(Diagnostic::warning(
            "export/not-carried",
            format!("{count} empty <{name}> between blocks (outside any paragraph) not carried"),
        ));
    }
    for child in root.children().filter(|c| c.is_element()) {
        let name = child.tag_name().name();
        if !matches!(name, "teiHeader" | "text" | "standOff") {
            report.push(Diagnostic::warning(
                "export/not-carried",
                format!("<{name}> is not carried"),
            ));
        }
    }
    if let Some(standoff) = tei_child(root, "standOff") {
        for child in standoff.children().filter(|c| c.is_element()) {
            let name = child.tag_name().name();
            if !is_register_list(name) {
                report.push(Diagnostic::warning(
                    "export/not-carried",
                    format!("standOff/<{name}> is not carried"),
                ));
            }
        }
    }
    let lang = root
        .attribute((XML_NS, "lang"))
        .or_else(|| tei_child(root, "text").and_then(|t| t.attribute((XML_NS, "lang"))))
        .map(str::to_string);
    Ok((
        Edition {
            format: FORMAT_NAME.to_string(),
            version: FORMAT_VERSION.to_string(),
            id: xml_id(&root),
            lang,
            header,
            blocks: reader.blocks,
            notes: reader.notes,
            register,
        },
        report,
    ))
}

fn is_register_list(name: &str) -> bool {
    matches!(
        name,
        "listPerson" | "listPlace" | "listOrg" | "listBibl" | "listEvent"
    )
}

// --- header -----------------------------------------------------------------------------------

fn resolve(ref_: Option<&str>, ids: &BTreeSet<String>) -> Option<String> {
    let first = ref_?.split_whitespace().next()?;
    let id = first.strip_prefix('#').unwrap_or(first);
    ids.contains(id).then(|| id.to_string())
}

fn name_of(n: Node, ids: &BTreeSet<String>) -> Name {
    let ref_ = n.attribute("ref").or_else(|| n.attribute("key"));
    Name {
        name: person_name(n),
        ref_: ref_.map(str::to_string),
        entry: resolve(ref_, ids),
    }
}

/// A personal name with `surname` and `forename` parts reads "Surname, Forename"; any other name
/// is its reading string.
fn person_name(n: Node) -> String {
    let surname = tei_child(n, "surname").map(reading_string);
    let forename = tei_child(n, "forename").map(reading_string);
    let has_text = n
        .children()
        .any(|c| c.is_text() && !normalize_space(c.text().unwrap_or("")).is_empty());
    match (surname, forename) {
        (Some(s), Some(f)) if !has_text => format!("{s}, {f}"),
        _ => reading_string(n),
    }
}

const NAME_ELEMENTS: &[&str] = &["persName", "name", "orgName", "placeName", "rs"];

/// The names in an element such as `author`, `editor` or `funder`: its name children when it
/// has no text of its own, else the element itself.
fn names_in(n: Node, ids: &BTreeSet<String>) -> Vec<Name> {
    let has_text = n
        .children()
        .any(|c| c.is_text() && !normalize_space(c.text().unwrap_or("")).is_empty());
    let kids: Vec<Node> = n
        .children()
        .filter(|c| is_tei(c) && NAME_ELEMENTS.contains(&c.tag_name().name()))
        .collect();
    if has_text || kids.is_empty() {
        let mut name = name_of(n, ids);
        if name.ref_.is_none()
            && let [only] = kids.as_slice()
        {
            let inner = name_of(*only, ids);
            name.ref_ = inner.ref_;
            name.entry = inner.entry;
        }
        vec![name]
    } else {
        kids.into_iter().map(|k| name_of(k, ids)).collect()
    }
}

fn date_value(n: Node) -> DateValue {
    DateValue {
        text: reading_string(n),
        when: attr(&n, "when").or_else(|| attr(&n, "when-iso")),
        not_before: attr(&n, "notBefore").or_else(|| attr(&n, "notBefore-iso")),
        not_after: attr(&n, "notAfter").or_else(|| attr(&n, "notAfter-iso")),
        from: attr(&n, "from").or_else(|| attr(&n, "from-iso")),
        to: attr(&n, "to").or_else(|| attr(&n, "to-iso")),
        attributes: attributes(&n),
    }
}

fn opt_text(n: Option<Node>) -> Option<String> {
    n.map(reading_string).filter(|s| !s.is_empty())
}

fn read_header(h: Node, ids: &BTreeSet<String>, report: &mut Report) -> Header {
    let mut header = Header::default();
    let mut not_carried: Vec<String> = Vec::new();
    for part in h.children().filter(|c| c.is_element()) {
        match part.tag_name().name() {
            "fileDesc" => read_file_desc(part, ids, &mut header, &mut not_carried),
            "profileDesc" => read_profile_desc(part, ids, &mut header, &mut not_carried),
            "revisionDesc" => {
                for change in tei_descendants(part, "change") {
                    header.revisions.push(Change {
                        when: attr(&change, "when"),
                        who: attr(&change, "who"),
                        text: reading_string(change),
                    });
                }
            }
            other => not_carried.push(other.to_string()),
        }
    }
    if !not_carried.is_empty() {
        report.push(Diagnostic::warning(
            "export/not-carried",
            format!(
                "teiHeader parts not carried: {}",
                not_carried
                    .iter()
                    .map(|p| format!("<{p}>"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    header
}

fn read_file_desc(
    fd: Node,
    ids: &BTreeSet<String>,
    header: &mut Header,
    not_carried: &mut Vec<String>,
) {
    for part in fd.children().filter(|c| c.is_element()) {
        match part.tag_name().name() {
            "titleStmt" => {
                for c in part.children().filter(|c| is_tei(c)) {
                    match c.tag_name().name() {
                        "title" => header.titles.push(Title {
                            text: reading_string(c),
                            type_: attr(&c, "type"),
                            level: attr(&c, "level"),
                        }),
                        "author" => header.authors.extend(names_in(c, ids)),
                        "editor" => header.editors.extend(names_in(c, ids)),
                        "funder" | "sponsor" => header.funders.extend(names_in(c, ids)),
                        "respStmt" => header.responsibilities.push(responsibility(c, ids)),
                        other => not_carried.push(format!("titleStmt/{other}")),
                    }
                }
            }
            "editionStmt" => {
                header.edition = opt_text(tei_child(part, "edition"));
                for r in tei_children(part, "respStmt") {
                    header.responsibilities.push(responsibility(r, ids));
                }
            }
            "publicationStmt" => {
                for c in part.children().filter(|c| is_tei(c)) {
                    match c.tag_name().name() {
                        "publisher" | "distributor" | "authority" => {
                            if header.publisher.is_none() {
                                header.publisher = opt_text(Some(c));
                            }
                        }
                        "pubPlace" => header.pub_place = opt_text(Some(c)),
                        "date" => header.publication_date = Some(date_value(c)),
                        "idno" => header.idnos.push(Idno {
                            type_: attr(&c, "type"),
                            value: reading_string(c),
                        }),
                        "availability" => {
                            let licence = tei_child(c, "licence");
                            header.licence = Some(Licence {
                                target: licence.and_then(|l| attr(&l, "target")),
                                text: reading_string(licence.unwrap_or(c)),
                            });
                        }
                        "p" => header.publication_statement.push(reading_string(c)),
                        other => not_carried.push(format!("publicationStmt/{other}")),
                    }
                }
            }
            "seriesStmt" => header.series.push(reading_string(part)),
            "notesStmt" => {
                for note in tei_children(part, "note") {
                    header.header_notes.push(TypedText {
                        type_: attr(&note, "type"),
                        text: reading_string(note),
                    });
                }
            }
            "sourceDesc" => {
                for bibl in tei_descendants(part, "bibl")
                    .chain(tei_descendants(part, "biblStruct"))
                    .filter(|b| {
                        !b.ancestors()
                            .skip(1)
                            .any(|a| is_tei(&a) && a.tag_name().name() == "bibl")
                    })
                {
                    header.sources.push(SourceCitation {
                        text: reading_string(bibl),
                        urls: tei_descendants(bibl, "ref")
                            .filter_map(|r| attr(&r, "target"))
                            .collect(),
                    });
                }
                for ms in tei_descendants(part, "msIdentifier") {
                    header.manuscripts.push(Manuscript {
                        country: opt_text(tei_child(ms, "country")),
                        settlement: opt_text(tei_child(ms, "settlement")),
                        repository: opt_text(tei_child(ms, "repository")),
                        collection: opt_text(tei_child(ms, "collection")),
                        idno: opt_text(tei_child(ms, "idno")),
                    });
                }
                for p in tei_children(part, "p") {
                    header.sources.push(SourceCitation {
                        text: reading_string(p),
                        urls: Vec::new(),
                    });
                }
                let mut extra: BTreeSet<String> = BTreeSet::new();
                for d in part.descendants().filter(|d| is_tei(d)) {
                    let name = d.tag_name().name();
                    if matches!(name, "physDesc" | "history" | "msContents" | "additional") {
                        extra.insert(format!("sourceDesc//{name}"));
                    }
                }
                not_carried.extend(extra);
            }
            other => not_carried.push(format!("fileDesc/{other}")),
        }
    }
    header.title = header
        .titles
        .iter()
        .find(|t| t.type_.as_deref() == Some("main"))
        .or_else(|| {
            header
                .titles
                .iter()
                .find(|t| t.level.as_deref() == Some("a"))
        })
        .or_else(|| header.titles.first())
        .map(|t| t.text.clone())
        .unwrap_or_default();
}

fn responsibility(r: Node, ids: &BTreeSet<String>) -> Responsibility {
    Responsibility {
        resp: tei_children(r, "resp")
            .map(reading_string)
            .collect::<Vec<_>>()
            .join("; "),
        names: r
            .children()
            .filter(|c| is_tei(c) && NAME_ELEMENTS.contains(&c.tag_name().name()))
            .map(|c| name_of(c, ids))
            .collect(),
    }
}

fn read_profile_desc(
    pd: Node,
    ids: &BTreeSet<String>,
    header: &mut Header,
    not_carried: &mut Vec<String>,
) {
    for part in pd.children().filter(|c| c.is_element()) {
        match part.tag_name().name() {
            "abstract" => {
                let paras: Vec<String> = tei_children(part, "p").map(reading_string).collect();
                if paras.is_empty() {
                    header.abstract_.push(reading_string(part));
                } else {
                    header.abstract_.extend(paras);
                }
            }
            "creation" => {
                header.creation = tei_descendants(part, "date").next().map(date_value);
            }
            "langUsage" => {
                for l in tei_children(part, "language") {
                    header.languages.push(Language {
                        ident: attr(&l, "ident"),
                        role: attr(&l, "n").or_else(|| attr(&l, "usage")),
                        name: reading_string(l),
                    });
                }
            }
            "correspDesc" => {
                let mut actions = Vec::new();
                for c in part.children().filter(|c| c.is_element()) {
                    match c.tag_name().name() {
                        "correspAction" => actions.push(corresp_action(c, ids, not_carried)),
                        other => not_carried.push(format!("correspDesc/{other}")),
                    }
                }
                header.correspondence.push(Correspondence {
                    ref_: attr(&part, "ref"),
                    actions,
                });
            }
            other => not_carried.push(format!("profileDesc/{other}")),
        }
    }
}

fn corresp_action(a: Node, ids: &BTreeSet<String>, not_carried: &mut Vec<String>) -> CorrespAction {
    let mut action = CorrespAction {
        type_: attr(&a, "type").unwrap_or_default(),
        persons: Vec::new(),
        places: Vec::new(),
        orgs: Vec::new(),
        dates: Vec::new(),
    };
    for c in a.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "persName" => action.persons.push(name_of(c, ids)),
            "placeName" | "settlement" => action.places.push(name_of(c, ids)),
            "orgName" => action.orgs.push(name_of(c, ids)),
            "date" => action.dates.push(date_value(c)),
            "rs" | "name" => match c.attribute("type") {
                Some("place") => action.places.push(name_of(c, ids)),
                Some("org") => action.orgs.push(name_of(c, ids)),
                _ => action.persons.push(name_of(c, ids)),
            },
            other => not_carried.push(format!("correspAction/{other}")),
        }
    }
    action
}

// --- register ---------------------------------------------------------------------------------

fn read_register(root: Node, report: &mut Report) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for list in root
        .descendants()
        .filter(|n| is_tei(n) && is_register_list(n.tag_name().name()))
    {
        // Lists in the header (e.g. `sourceDesc/listBibl`) are sources, not a register.
        if list
            .ancestors()
            .any(|a| is_tei(&a) && a.tag_name().name() == "teiHeader")
        {
            continue;
        }
        for item in list.children().filter(|c| is_tei(c)) {
            let type_ = match item.tag_name().name() {
                "person" | "personGrp" => EntryType::Person,
                "place" => EntryType::Place,
                "org" => EntryType::Org,
                "bibl" | "biblStruct" => EntryType::Work,
                "event" => EntryType::Event,
                _ => continue,
            };
            let Some(id) = xml_id(&item) else {
                report.push(Diagnostic::warning(
                    "export/entry-without-id",
                    format!(
                        "a <{}> in <{}> has no xml:id and is not carried into the register",
                        item.tag_name().name(),
                        list.tag_name().name()
                    ),
                ));
                continue;
            };
            if !seen.insert(id.clone()) {
                continue;
            }
            out.push(read_entry(item, id, type_));
        }
    }
    out
}

fn read_entry(item: Node, id: String, type_: EntryType) -> Entry {
    let name_els: &[&str] = match type_ {
        EntryType::Person => &["persName", "name"],
        EntryType::Place => &["placeName", "geogName", "name"],
        EntryType::Org => &["orgName", "name"],
        EntryType::Work => &["title"],
        EntryType::Event => &["label", "desc", "name"],
    };
    let mut names = Vec::new();
    let mut preferred = None;
    for c in item
        .children()
        .filter(|c| is_tei(c) && name_els.contains(&c.tag_name().name()))
    {
        let t = attr(&c, "type");
        let text = person_name(c);
        if text.is_empty() {
            continue;
        }
        if preferred.is_none() && matches!(t.as_deref(), Some("main" | "pref")) {
            preferred = Some(text.clone());
        }
        if !names.iter().any(|n: &TypedText| n.text == text) {
            names.push(TypedText { type_: t, text });
        }
    }
    let name = preferred
        .or_else(|| names.first().map(|n| n.text.clone()))
        .unwrap_or_else(|| id.clone());
    let identifiers = tei_children(item, "idno")
        .map(|i| {
            let scheme = attr(&i, "subtype")
                .filter(|_| i.attribute("type") == Some("URL"))
                .or_else(|| attr(&i, "type"));
            let value = reading_string(i);
            let uri = if value.starts_with("http://") || value.starts_with("https://") {
                Some(value.clone())
            } else {
                Identifier {
                    scheme: scheme.clone().unwrap_or_default(),
                    value: value.clone(),
                }
                .uri()
            };
            EntryIdentifier {
                type_: scheme,
                value,
                uri,
            }
        })
        .filter(|i| !i.value.is_empty())
        .collect();
    let notes = tei_children(item, "note")
        .map(|n| TypedText {
            type_: attr(&n, "type"),
            text: reading_string(n),
        })
        .collect();
    Entry {
        id,
        type_,
        name,
        names,
        identifiers,
        notes,
    }
}

// --- text -------------------------------------------------------------------------------------

/// Elements whose children are blocks (TEI Guidelines 4 "Default Text Structure").
const CONTAINERS: &[&str] = &[
    "text",
    "front",
    "body",
    "back",
    "group",
    "div",
    "div1",
    "div2",
    "div3",
    "div4",
    "div5",
    "div6",
    "div7",
    "list",
    "lg",
    "postscript",
    "floatingText",
    "table",
    "row",
    "sp",
    "listBibl",
];

struct TextReader<'r> {
    ids: &'r BTreeSet<String>,
    positions: &'r HashMap<NodeId, usize>,
    blocks: Vec<Block>,
    notes: Vec<Note>,
    divisions: Vec<String>,
    skipped: BTreeMap<String, usize>,
}

/// Raw characters of a container with the raw offsets of its spans and notes, before white
/// space is collapsed.
struct RawText<'a, 'i> {
    chars: Vec<char>,
    spans: Vec<(usize, usize, Node<'a, 'i>)>,
    notes: Vec<(usize, Node<'a, 'i>)>,
}

impl<'r> TextReader<'r> {
    fn container(&mut self, n: Node) {
        let is_div = n.tag_name().name().starts_with("div");
        if is_div {
            let label = n
                .attribute("type")
                .or_else(|| n.attribute("n"))
                .unwrap_or("div");
            self.divisions.push(label.to_string());
        }
        for c in n.children() {
            if c.is_text() {
                let t = normalize_space(c.text().unwrap_or(""));
                if !t.is_empty() {
                    let id = format!("b{}", self.blocks.len() + 1);
                    self.blocks.push(Block {
                        id,
                        element: "#text".to_string(),
                        path: path_with(n, self.positions),
                        division: self.divisions.clone(),
                        attributes: BTreeMap::new(),
                        text: t,
                        spans: Vec::new(),
                    });
                }
                continue;
            }
            if !c.is_element() {
                continue;
            }
            let name = c.tag_name().name();
            if is_tei(&c) && is_register_list(name) && name != "listBibl" {
                continue;
            }
            if is_tei(&c)
                && name == "listBibl"
                && c.parent()
                    .is_some_and(|p| is_tei(&p) && p.tag_name().name() == "back")
            {
                // A bibliography in the back matter is the register of works.
                continue;
            }
            if is_tei(&c) && name == "note" {
                let anchor = self.blocks.last().map(|b| Anchor {
                    container: b.id.clone(),
                    offset: b.text.chars().count(),
                });
                self.note(c, anchor);
                continue;
            }
            if is_tei(&c) && CONTAINERS.contains(&name) {
                self.container(c);
                continue;
            }
            self.block(c);
        }
        if is_div {
            self.divisions.pop();
        }
    }

    fn block(&mut self, n: Node) {
        let raw = raw_text(n);
        let (text, spans, anchors) = self.finish(&raw);
        if text.is_empty() && spans.iter().all(|s| s.length == 0) && anchors.is_empty() {
            *self.skipped.entry(local(&n)).or_insert(0) += 1;
            return;
        }
        let id = format!("b{}", self.blocks.len() + 1);
        self.blocks.push(Block {
            id: id.clone(),
            element: local(&n),
            path: path_with(n, self.positions),
            division: self.divisions.clone(),
            attributes: attributes(&n),
            text,
            spans,
        });
        for (offset, note) in anchors {
            self.note(
                note,
                Some(Anchor {
                    container: id.clone(),
                    offset,
                }),
            );
        }
    }

    fn note(&mut self, n: Node, anchor: Option<Anchor>) {
        let raw = raw_text(n);
        let (text, spans, anchors) = self.finish(&raw);
        let position = self.notes.len() + 1;
        let id = xml_id(&n).unwrap_or_else(|| format!("note-{position}"));
        let id = if self.notes.iter().any(|x| x.id == id) {
            format!("note-{position}")
        } else {
            id
        };
        self.notes.push(Note {
            id: id.clone(),
            n: attr(&n, "n").unwrap_or_else(|| position.to_string()),
            path: path_with(n, self.positions),
            attributes: attributes(&n),
            anchor,
            text,
            spans,
        });
        for (offset, inner) in anchors {
            self.note(
                inner,
                Some(Anchor {
                    container: id.clone(),
                    offset,
                }),
            );
        }
    }

    /// Collapses white space and maps raw offsets to offsets in the collapsed text.
    fn finish<'a, 'i>(
        &self,
        raw: &RawText<'a, 'i>,
    ) -> (String, Vec<Span>, Vec<(usize, Node<'a, 'i>)>) {
        let mut out: Vec<char> = Vec::with_capacity(raw.chars.len());
        let mut map: Vec<usize> = Vec::with_capacity(raw.chars.len() + 1);
        let mut pending = false;
        for &c in &raw.chars {
            if is_xml_space(c) {
                pending = true;
                map.push(out.len());
            } else {
                if pending && !out.is_empty() {
                    out.push(' ');
                }
                pending = false;
                map.push(out.len());
                out.push(c);
            }
        }
        map.push(out.len());
        let at = |i: usize| map.get(i).copied().unwrap_or(out.len());
        let mut spans = Vec::new();
        for &(s, e, node) in &raw.spans {
            let inner = raw.chars.get(s..e).unwrap_or(&[]);
            let first = inner.iter().position(|c| !is_xml_space(*c));
            let last = inner.iter().rposition(|c| !is_xml_space(*c));
            let (start, length) = match (first, last) {
                (Some(f), Some(l)) => {
                    let start = at(s + f);
                    (start, at(s + l) + 1 - start)
                }
                _ => (at(s), 0),
            };
            let ref_ = node.attribute("ref").or_else(|| node.attribute("key"));
            spans.push(Span {
                start,
                length,
                type_: span_type(&node),
                element: local(&node),
                path: path_with(node, self.positions),
                entry: resolve(ref_, self.ids),
                attributes: attributes(&node),
            });
        }
        let notes = raw.notes.iter().map(|&(p, n)| (at(p), n)).collect();
        (out.into_iter().collect(), spans, notes)
    }
}

fn raw_text<'a, 'i>(n: Node<'a, 'i>) -> RawText<'a, 'i> {
    let mut raw = RawText {
        chars: Vec::new(),
        spans: Vec::new(),
        notes: Vec::new(),
    };
    walk_raw(n, &mut raw);
    raw
}

fn walk_raw<'a, 'i>(n: Node<'a, 'i>, raw: &mut RawText<'a, 'i>) {
    for c in n.children() {
        if c.is_text() {
            raw.chars.extend(c.text().unwrap_or("").chars());
        } else if c.is_element() {
            if is_tei(&c) && c.tag_name().name() == "note" {
                raw.notes.push((raw.chars.len(), c));
                continue;
            }
            let start = raw.chars.len();
            let index = raw.spans.len();
            raw.spans.push((start, start, c));
            if reads_as_space(&c) {
                raw.chars.push(' ');
                if let Some(s) = raw.spans.get_mut(index) {
                    // The span of an empty element sits before the space it reads as.
                    s.1 = start;
                }
                continue;
            }
            let boundary = is_boundary(&c);
            if boundary {
                raw.chars.push(' ');
                if let Some(s) = raw.spans.get_mut(index) {
                    s.0 = start + 1;
                }
            }
            walk_raw(c, raw);
            let end = raw.chars.len();
            if let Some(s) = raw.spans.get_mut(index) {
                s.1 = end;
            }
            if boundary {
                raw.chars.push(' ');
            }
        }
    }
}

fn span_type(n: &Node) -> SpanType {
    if !is_tei(n) {
        return SpanType::Markup;
    }
    let typed = |t: Option<&str>| match t {
        Some("person") | Some("persName") => SpanType::Person,
        Some("place") | Some("placeName") => SpanType::Place,
        Some("org") | Some("orgName") | Some("organisation") | Some("organization") => {
            SpanType::Org
        }
        Some("work") | Some("bibl") => SpanType::Work,
        Some("event") => SpanType::Event,
        _ => SpanType::Name,
    };
    match n.tag_name().name() {
        "persName" => SpanType::Person,
        "placeName" | "settlement" | "country" | "region" | "geogName" | "bloc" | "district" => {
            SpanType::Place
        }
        "orgName" => SpanType::Org,
        "date" | "time" => SpanType::Date,
        "rs" | "name" => typed(n.attribute("type")),
        "title" if n.attribute("ref").is_some() => SpanType::Work,
        _ => SpanType::Markup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:id="d1">
<teiHeader><fileDesc><titleStmt><title>T</title></titleStmt>
<publicationStmt><p>P</p></publicationStmt><sourceDesc><p>S</p></sourceDesc></fileDesc>
<profileDesc><correspDesc><correspAction type="sent"><persName ref="#a">Anna</persName>
<date when="1900-01-02">2 Jan</date></correspAction></correspDesc></profileDesc></teiHeader>
<text><body><div type="letter"><p>Dear  <persName ref="#a">Anna
 Bell</persName>,<note n="1">See <placeName ref="#v">Vienna</placeName>.</note> line<lb/>two
<date when="1900">1900</date></p></div></body></text>
<standOff><listPerson><person xml:id="a"><persName type="main">Anna Bell</persName>
<idno type="wikidata">Q1</idno></person></listPerson>
<listPlace><place xml:id="v"><placeName>Vienna</placeName></place></listPlace></standOff></TEI>"##;

    #[test]
    fn blocks_spans_and_notes() {
        let (ed, _) = read_edition(DOC).unwrap();
        assert_eq!(ed.blocks.len(), 1);
        let b = &ed.blocks[0];
        assert_eq!(b.text, "Dear Anna Bell, line two 1900");
        let person = &b.spans[0];
        let text: String = b
            .text
            .chars()
            .skip(person.start)
            .take(person.length)
            .collect();
        assert_eq!(text, "Anna Bell");
        assert_eq!(person.entry.as_deref(), Some("a"));
        assert_eq!(
            person.path,
            "/TEI[1]/text[1]/body[1]/div[1]/p[1]/persName[1]"
        );
        let note = &ed.notes[0];
        assert_eq!(note.text, "See Vienna.");
        assert_eq!(
            note.anchor,
            Some(Anchor {
                container: "b1".into(),
                offset: 15
            })
        );
        assert_eq!(b.division, vec!["letter".to_string()]);
        let date = b.spans.iter().find(|s| s.type_ == SpanType::Date).unwrap();
        assert_eq!(
            date.attributes.get("when").map(String::as_str),
            Some("1900")
        );
    }

    #[test]
    fn register_and_header() {
        let (ed, _) = read_edition(DOC).unwrap();
        assert_eq!(ed.register.len(), 2);
        assert_eq!(
            ed.register[0].authority_uri(),
            Some("http://www.wikidata.org/entity/Q1")
        );
        assert!(ed.has_correspondence());
        assert_eq!(
            ed.date().and_then(|d| d.when.as_deref()),
            Some("1900-01-02")
        );
        assert_eq!(ed.header.title, "T");
    }

    #[test]
    fn chunk_level_elements_never_glue_words() {
        // Regression: a letterhead `seg` followed by `salute` read "MainHochgeehrter".
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><div><opener><seg>Frankfurt Main</seg><salute>Dear Sir!</salute></opener><closer>Yours<lb/>truly<signed>A. S.</signed></closer></div></body></text></TEI>"#;
        let (ed, _) = read_edition(xml).unwrap();
        assert_eq!(ed.blocks[0].text, "Frankfurt Main Dear Sir!");
        assert_eq!(ed.blocks[1].text, "Yours truly A. S.");
        let signed = &ed.blocks[1].spans[1];
        assert_eq!((signed.start, signed.length), (12, 5));
    }

    #[test]
    fn identifiers_that_are_uris_stay_as_they_are() {
        // Regression: a GND idno holding a full URI was prefixed with the GND base again.
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>x</p></body></text><standOff><listPerson><person xml:id="s"><persName>S</persName><idno type="gnd">https://d-nb.info/gnd/118609807/</idno><idno type="gnd">118609807</idno></person></listPerson></standOff></TEI>"#;
        let (ed, _) = read_edition(xml).unwrap();
        let uris: Vec<_> = ed.register[0]
            .identifiers
            .iter()
            .map(|i| i.uri.as_deref())
            .collect();
        assert_eq!(
            uris,
            [
                Some("https://d-nb.info/gnd/118609807/"),
                Some("https://d-nb.info/gnd/118609807")
            ]
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let n = MAX_DEPTH + 5;
        let xml = format!(
            r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>{}x{}</p></body></text></TEI>"#,
            "<hi>".repeat(n),
            "</hi>".repeat(n)
        );
        let e = read_edition(&xml).unwrap_err();
        assert!(e.contains("nested"), "{e}");
    }

    #[test]
    fn offsets_count_code_points_not_bytes_or_utf16_units() {
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>𝔘ber Ö <persName>Žiž</persName></p></body></text></TEI>"#;
        let (ed, _) = read_edition(xml).unwrap();
        let span = &ed.blocks[0].spans[0];
        // "𝔘ber Ö " is 7 code points (9 UTF-16 units, 12 bytes).
        assert_eq!((span.start, span.length), (7, 3));
    }

    #[test]
    fn not_tei_is_an_error() {
        assert!(read_edition("<a/>").is_err());
        assert!(read_edition("<a").is_err());
    }

    #[test]
    fn normalize() {
        assert_eq!(normalize_space("  a \n\t b  "), "a b");
        assert_eq!(normalize_space("a\u{a0}b"), "a\u{a0}b");
    }
}
