//! A small owned XML tree for writing TEI P5, and its serialiser.
//!
//! Owns: the TEI namespace, the `Node`/`Element` tree the converter builds, and serialisation
//! through quick-xml's `Writer` with indentation only where content is element-only (TEI
//! Guidelines v. "Whitespace": white space in mixed content is significant, so nothing is ever
//! added inside mixed content). Output is deterministic: attributes are written in the order
//! they were added. It must not read files or know about any source layout.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesPI, BytesStart, BytesText, Event};

/// The TEI namespace (TEI Guidelines, "The TEI Namespace").
pub const TEI_NS: &str = "http://www.tei-c.org/ns/1.0";
/// The RELAX NG namespace, used in `<?xml-model?>` `schematypens`.
pub const RELAXNG_NS: &str = "http://relaxng.org/ns/structure/1.0";
/// The ISO Schematron namespace, used in `<?xml-model?>` `schematypens`.
pub const SCHEMATRON_NS: &str = "http://purl.oclc.org/dsdl/schematron";
/// The URL naming teikit's bundled edition grammar (`schemas/teikit-edition.rnc`); teikit
/// resolves it to its bundled copy and never fetches it.
pub const EDITION_RNC_URL: &str = "https://teikit.org/schemas/teikit-edition.rnc";
/// The URL naming teikit's bundled edition rules (`schemas/teikit-edition.sch`).
pub const EDITION_SCH_URL: &str = "https://teikit.org/schemas/teikit-edition.sch";
/// Where the TEI Consortium publishes `tei_all` in RELAX NG.
pub const TEI_ALL_URL: &str =
    "https://www.tei-c.org/release/xml/tei/custom/schema/relaxng/tei_all.rng";

/// TEI elements whose content model is element-only (no text children allowed), per the
/// element specifications of TEI P5. Only these are ever indented: an element with a mixed
/// content model (`p`, `opener`, `closer`, `signed`, `creation`, ...) is written without added
/// white space even when it happens to hold only elements, because white space there is text.
pub const ELEMENT_ONLY: &[&str] = &[
    "TEI",
    "teiHeader",
    "fileDesc",
    "titleStmt",
    "publicationStmt",
    "notesStmt",
    "sourceDesc",
    "msDesc",
    "msIdentifier",
    "encodingDesc",
    "appInfo",
    "application",
    "editorialDecl",
    "correction",
    "normalization",
    "segmentation",
    "interpretation",
    "punctuation",
    "profileDesc",
    "abstract",
    "langUsage",
    "correspDesc",
    "correspAction",
    "revisionDesc",
    "listChange",
    "text",
    "body",
    "back",
    "front",
    "div",
    "list",
    "standOff",
    "listPerson",
    "listPlace",
    "listOrg",
    "person",
    "place",
    "org",
    "respStmt",
    "postscript",
    "listBibl",
    "editionStmt",
    "seriesStmt",
    "projectDesc",
    "samplingDecl",
    "classDecl",
    "taxonomy",
    "category",
    "textClass",
    "msContents",
    "physDesc",
    "history",
    "additional",
];

/// A node of the tree: an element or a run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with attributes in insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(name: &str) -> Self {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set_attr(key, value);
        self
    }

    /// Sets an attribute, replacing an existing one of the same name.
    pub fn set_attr(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(slot) = self.attrs.iter_mut().find(|(k, _)| k == key) {
            slot.1 = value;
        } else {
            self.attrs.push((key.to_string(), value));
        }
    }

    pub fn get_attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a child element (builder style).
    pub fn child(mut self, el: Element) -> Self {
        self.children.push(Node::Element(el));
        self
    }

    /// Adds a text child (builder style).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.push_text(text);
        self
    }

    /// Appends text, merging with a preceding text node.
    pub fn push_text(&mut self, text: impl Into<String>) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(prev)) = self.children.last_mut() {
            prev.push_str(&text);
        } else {
            self.children.push(Node::Text(text));
        }
    }

    pub fn push(&mut self, el: Element) {
        self.children.push(Node::Element(el));
    }

    pub fn push_node(&mut self, node: Node) {
        match node {
            Node::Text(t) => self.push_text(t),
            Node::Element(e) => self.push(e),
        }
    }

    /// Adds an element holding only text (builder style).
    pub fn text_child(self, name: &str, text: impl Into<String>) -> Self {
        self.child(Element::new(name).text(text))
    }

    /// True when this element's content model is element-only (see `ELEMENT_ONLY`) and no
    /// child is text with anything but white space: only then may its content be indented.
    pub fn is_element_only(&self) -> bool {
        ELEMENT_ONLY.contains(&self.name.as_str())
            && self.children.iter().all(|c| match c {
                Node::Element(_) => true,
                Node::Text(t) => t.trim().is_empty(),
            })
    }

    /// The concatenated text content (string value) of this element.
    pub fn string_value(&self) -> String {
        let mut out = String::new();
        collect_text(self, &mut out);
        out
    }

    /// Visits every element below and including this one, in document order.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Element)) {
        let mut stack = vec![self];
        while let Some(el) = stack.pop() {
            f(el);
            for c in el.children.iter().rev() {
                if let Node::Element(e) = c {
                    stack.push(e);
                }
            }
        }
    }
}

fn collect_text(el: &Element, out: &mut String) {
    let mut stack: Vec<&Node> = el.children.iter().rev().collect();
    while let Some(n) = stack.pop() {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => stack.extend(e.children.iter().rev()),
        }
    }
}

/// A processing instruction before the root (`xml-model`), as target and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingInstruction {
    pub target: String,
    pub content: String,
}

/// A whole document: prolog processing instructions and the root element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub pis: Vec<ProcessingInstruction>,
    pub root: Element,
}

/// The `<?xml-model?>` instruction pointing at a RELAX NG schema (W3C "Associating Schemas with
/// XML documents 1.0").
pub fn xml_model_rng(href: &str) -> ProcessingInstruction {
    ProcessingInstruction {
        target: "xml-model".to_string(),
        content: format!(
            "href=\"{}\" type=\"application/xml\" schematypens=\"{}\"",
            escape_attr(href),
            RELAXNG_NS
        ),
    }
}

/// `<?xml-model?>` associating an ISO Schematron schema.
pub fn xml_model_sch(href: &str) -> ProcessingInstruction {
    ProcessingInstruction {
        target: "xml-model".to_string(),
        content: format!(
            "href=\"{}\" type=\"application/xml\" schematypens=\"{}\"",
            escape_attr(href),
            SCHEMATRON_NS
        ),
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Escapes text content: only `&`, `<` and `>` (quotes stay readable).
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Serialises a document: XML declaration, processing instructions, root; two-space indentation
/// in element-only content only; a final newline.
pub fn serialize(doc: &Document) -> String {
    let mut writer = Writer::new(Vec::new());
    // Writing to a Vec cannot fail; errors are ignored deliberately rather than unwrapped.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    for pi in &doc.pis {
        let _ = writer.write_event(Event::Text(BytesText::from_escaped("\n")));
        let _ = writer.write_event(Event::PI(BytesPI::new(format!(
            "{} {}",
            pi.target, pi.content
        ))));
    }
    let _ = writer.write_event(Event::Text(BytesText::from_escaped("\n")));
    write_element(&mut writer, &doc.root);
    let mut out = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    out.push('\n');
    out
}

/// Serialises one element on its own (no declaration), with the same indentation rules.
pub fn serialize_element(el: &Element) -> String {
    let mut writer = Writer::new(Vec::new());
    write_element(&mut writer, el);
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

enum Step<'a> {
    Open(&'a Element, usize, bool),
    Close(&'a Element, usize, bool),
    Text(&'a str),
    Indent(usize),
}

fn write_element(writer: &mut Writer<Vec<u8>>, root: &Element) {
    // An explicit stack: deep trees must not exhaust the call stack.
    let mut stack = vec![Step::Open(root, 0, true)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Open(el, depth, indent) => {
                let mut start = BytesStart::new(el.name.as_str());
                for (k, v) in &el.attrs {
                    start.push_attribute((k.as_str(), v.as_str()));
                }
                if el.children.is_empty() {
                    let _ = writer.write_event(Event::Empty(start));
                    continue;
                }
                let _ = writer.write_event(Event::Start(start));
                let child_indent = indent && el.is_element_only();
                stack.push(Step::Close(el, depth, child_indent));
                for c in el.children.iter().rev() {
                    match c {
                        Node::Element(e) => {
                            stack.push(Step::Open(e, depth + 1, child_indent));
                            if child_indent {
                                stack.push(Step::Indent(depth + 1));
                            }
                        }
                        Node::Text(t) => {
                            if !child_indent {
                                stack.push(Step::Text(t));
                            }
                        }
                    }
                }
            }
            Step::Close(el, depth, child_indent) => {
                if child_indent {
                    write_indent(writer, depth);
                }
                let _ = writer.write_event(Event::End(BytesEnd::new(el.name.as_str())));
            }
            Step::Text(t) => {
                let escaped = escape_text(t);
                let _ = writer.write_event(Event::Text(BytesText::from_escaped(escaped)));
            }
            Step::Indent(depth) => write_indent(writer, depth),
        }
    }
}

fn write_indent(writer: &mut Writer<Vec<u8>>, depth: usize) {
    let s = format!("\n{}", "  ".repeat(depth));
    let _ = writer.write_event(Event::Text(BytesText::from_escaped(s)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_element_only_but_not_mixed_content() {
        let p = Element::new("p")
            .text("Hello ")
            .child(Element::new("persName").child(Element::new("forename").text("Tito")))
            .text(" & co.");
        let body = Element::new("body")
            .child(p)
            .child(Element::new("milestone").attr("unit", "x"));
        let out = serialize_element(&body);
        assert_eq!(
            out,
            "<body>\n  <p>Hello <persName><forename>Tito</forename></persName> &amp; co.</p>\n  <milestone unit=\"x\"/>\n</body>"
        );
        // `closer` has a mixed content model: never indented, even with element children only.
        let closer = Element::new("closer")
            .child(Element::new("dateline").text("Moscow"))
            .child(Element::new("signed").child(Element::new("persName").text("N. K.")));
        assert_eq!(
            serialize_element(&closer),
            "<closer><dateline>Moscow</dateline><signed><persName>N. K.</persName></signed></closer>"
        );
    }

    #[test]
    fn document_has_declaration_and_model() {
        let doc = Document {
            pis: vec![xml_model_rng("a.rng")],
            root: Element::new("TEI").attr("xmlns", TEI_NS),
        };
        let out = serialize(&doc);
        assert!(
            out.starts_with(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-model href=\"a.rng\""
            )
        );
        assert!(out.ends_with("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"/>\n"));
    }

    #[test]
    fn attributes_are_escaped_and_text_keeps_quotes() {
        let el = Element::new("a").attr("n", "\"<&").text("\"quoted\" <x>");
        assert_eq!(
            serialize_element(&el),
            "<a n=\"&quot;&lt;&amp;\">\"quoted\" &lt;x&gt;</a>"
        );
    }

    #[test]
    fn string_value_and_text_merge() {
        let mut el = Element::new("p");
        el.push_text("a");
        el.push_text("b");
        el.push(Element::new("hi").text("c"));
        assert_eq!(el.children.len(), 2);
        assert_eq!(el.string_value(), "abc");
    }
}
