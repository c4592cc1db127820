//! The integrity pass over quick-xml's namespace reader, for documents whose well-formedness
//! another pass checks.
//!
//! Owns feeding [`Pass`](super::Pass) from `quick_xml::NsReader` events: element and attribute
//! names resolved to namespaces (Namespaces in XML 1.0 §5 and §6.2; the `xml` prefix bound per
//! §3), attribute values normalised (XML 1.0 §3.3.3), predefined and character references
//! resolved (XML 1.0 §4.1, §4.6). It must not judge well-formedness: on anything it does not
//! read exactly as the strict reader of `xml` would (a reference to an entity declared in a DTD,
//! a DOCTYPE, an unbound prefix, any syntax error) it gives up (`None`) and the caller uses the
//! strict reader. No filesystem, no recursion.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::attrs::AttrKinds;
use super::{AttrRef, Pass};
use crate::diag::Span;
use crate::xml::XML_NS;

/// Reads one start tag into the pass; `None` if it cannot be read as the strict reader would.
/// Names and values are borrowed from the text and the reader (no allocation unless a value
/// needs normalising).
fn start(
    pass: &mut Pass,
    kinds: &AttrKinds,
    reader: &NsReader<&[u8]>,
    e: &BytesStart,
    span: Span,
) -> Option<()> {
    let resolver = reader.resolver();
    let (res, local) = resolver.resolve_element(e.name());
    let ns = match res {
        ResolveResult::Unbound => "",
        ResolveResult::Bound(n) => n.into_inner(),
        ResolveResult::Unknown(_) => return None,
    };
    let local = local.into_inner();
    let mut refs: Vec<AttrRef> = Vec::new();
    for a in e.attributes().with_checks(true) {
        let a = a.ok()?;
        let qname: &str = a.key.into_inner();
        if qname == "xmlns" || qname.starts_with("xmlns:") {
            continue;
        }
        let (ans, alocal) = if let Some(l) = qname.strip_prefix("xml:") {
            (XML_NS, l)
        } else {
            let (r, l) = resolver.resolve_attribute(a.key);
            let n = match r {
                ResolveResult::Unbound => "",
                ResolveResult::Bound(n) => n.into_inner(),
                ResolveResult::Unknown(_) => return None,
            };
            (n, l.into_inner())
        };
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()?;
        refs.push(AttrRef {
            ns: ans,
            local: alocal,
            qname,
            value,
            span,
        });
    }
    pass.start(kinds, ns, local, &refs, span);
    Some(())
}

/// Runs the pass; `None` when the strict reader must be used instead.
pub(super) fn pass<'t>(text: &'t str, kinds: &AttrKinds) -> Option<Pass<'t>> {
    let mut pass = Pass::new(text);
    let mut reader = NsReader::from_str(text);
    {
        let c = reader.config_mut();
        c.check_end_names = true;
        c.expand_empty_elements = false;
        c.trim_text(false);
    }
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        let ev = reader.read_event().ok()?;
        let after = usize::try_from(reader.buffer_position()).ok()?;
        let span = Span::new(before, after);
        match ev {
            Event::Start(e) => start(&mut pass, kinds, &reader, &e, span)?,
            Event::Empty(e) => {
                start(&mut pass, kinds, &reader, &e, span)?;
                pass.end();
            }
            Event::End(_) => pass.end(),
            Event::Text(t) => {
                if !pass.dates.is_empty() {
                    pass.text(&t.xml10_content(), span);
                }
            }
            Event::CData(t) => {
                if !pass.dates.is_empty() {
                    pass.text(&t.xml10_content(), span);
                }
            }
            Event::GeneralRef(r) => {
                let resolved: String = if r.is_char_ref() {
                    r.resolve_char_ref().ok()??.to_string()
                } else {
                    let name = r.xml10_content();
                    quick_xml::escape::resolve_predefined_entity(&name)?.to_string()
                };
                if !pass.dates.is_empty() {
                    pass.text(&resolved, span);
                }
            }
            // A DTD may declare entities the strict reader expands: read it that way.
            Event::DocType(_) => return None,
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    Some(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(text: &str) -> bool {
        pass(text, &AttrKinds::tei_default()).is_some()
    }

    #[test]
    fn reads_plain_documents() {
        assert!(reads(
            "<?xml version=\"1.0\"?>\n<!-- c --><TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\
             <p xml:id=\"a\" rend=\"x&amp;y\">t&#233;xt <![CDATA[<raw>]]></p><?pi x?></TEI>"
        ));
    }

    #[test]
    fn hands_back_what_it_cannot_read() {
        assert!(!reads("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>"));
        assert!(!reads("<a>&e;</a>"));
        assert!(!reads("<p:a/>"));
        assert!(!reads("<a x:y=\"1\"/>"));
        assert!(!reads("<a><b></a>"));
        assert!(!reads("<a x=\"1\" x=\"2\"/>"));
    }
}
