//! The CMIF export: the letter's correspondence metadata in the Correspondence Metadata
//! Interchange Format v1.1 (TEI Correspondence SIG; TEI Guidelines 2.4.6 "Correspondence
//! Description"), the format correspSearch harvests.
//!
//! Owns the CMIF file: `titleStmt` (title, editor), `publicationStmt` (publisher, the edition's
//! URL as `idno[@type='url']`, the export date, licence), the edition as one `sourceDesc/bibl`
//! whose `@xml:id` is `uuid-` and a UUID (version 5, derived from the URL, RFC 9562 §5.5: the same edition
//! always gets the same id) referenced by every `correspDesc/@source`, and each `correspDesc` with
//! its actions: names with the authority URI of their register entry as `@ref` (CMIF accepts only
//! authority URIs there, never local pointers), dates with their normalised attributes only.
//! Refuses (exit 2, nothing written) a document without correspondence metadata, one without a
//! sending and a receiving action (CMIF Schematron E0001/E0002), and missing settings, naming
//! them. Everything CMIF cannot carry is a warning. It must not read files.

use std::fmt::Write as _;

use super::model::{CorrespAction, DateValue, Edition, Name};
use super::{ExportError, Options};
use crate::diag::Report;
use crate::tei::{self, Document, Element, TEI_NS};

/// Where the CMIF consortium publishes its RELAX NG schema, for the `<?xml-model?>` line.
pub const CMIF_RNG_URL: &str = "https://raw.githubusercontent.com/TEI-Correspondence-SIG/CMIF/master/schema/cmi-customization.rng";

/// Why a document cannot be described in CMIF, if it cannot: no correspondence metadata, or a
/// `correspDesc` without a sending and a receiving action (CMIF Schematron E0001/E0002).
pub fn unusable(edition: &Edition) -> Option<String> {
    if !edition.has_correspondence() {
        return Some(
            "the document has no correspondence metadata (teiHeader/profileDesc/correspDesc with correspAction), which CMIF consists of".to_string(),
        );
    }
    for (i, c) in edition.header.correspondence.iter().enumerate() {
        let missing: Vec<String> = ["sent", "received"]
            .into_iter()
            .filter(|t| !c.actions.iter().any(|a| a.type_ == *t))
            .map(|m| format!("\"{m}\""))
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "correspDesc {} has no correspAction of type {}; CMIF requires one sent and one received action",
                i + 1,
                missing.join(" or ")
            ));
        }
    }
    None
}

/// One letter of a CMIF file: its edition and, for a corpus, the URL of its page (used as
/// `correspDesc/@ref` when the document gives none).
pub struct Letter<'a> {
    pub edition: &'a Edition,
    pub url: Option<String>,
    /// The document's name in warnings (its file), for a corpus.
    pub name: Option<String>,
}

struct Settings<'s> {
    publisher: &'s str,
    url: &'s str,
    licence: &'s str,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.trim().is_empty())
}

fn settings(options: &Options) -> Result<Settings<'_>, ExportError> {
    let s = &options.cmif;
    let mut missing = Vec::new();
    for (value, name) in [
        (&s.publisher, "publisher (--publisher)"),
        (&s.url, "edition URL (--url)"),
        (&s.licence, "licence URI (--licence)"),
    ] {
        if given(value).is_none() {
            missing.push(name);
        }
    }
    match (given(&s.publisher), given(&s.url), given(&s.licence)) {
        (Some(publisher), Some(url), Some(licence)) => Ok(Settings {
            publisher,
            url,
            licence,
        }),
        _ => Err(ExportError::Unusable(format!(
            "CMIF requires a publisher, the edition's URL and a licence; missing: {}; pass them as options or set them in teikit.toml under [cmif]",
            missing.join(", ")
        ))),
    }
}

/// The CMIF file of one document; refuses one that `unusable` names (nothing written).
pub fn to_cmif(
    edition: &Edition,
    options: &Options,
    report: &mut Report,
) -> Result<String, ExportError> {
    if let Some(why) = unusable(edition) {
        return Err(ExportError::Unusable(format!("{why}; nothing written")));
    }
    let set = settings(options)?;
    let h = &edition.header;
    let mut citation = if h.title.is_empty() {
        "Edition".to_string()
    } else {
        h.title.clone()
    };
    if !h.authors.is_empty() {
        let names: Vec<&str> = h.authors.iter().map(|a| a.name.as_str()).collect();
        let _ = write!(citation, ", by {}", names.join("; "));
    }
    let editors: Vec<String> = h.editors.iter().map(|e| e.name.clone()).collect();
    Ok(write_cmif(
        &h.title,
        &citation,
        &editors,
        &[Letter {
            edition,
            url: None,
            name: None,
        }],
        &set,
        options,
        report,
    ))
}

/// One CMIF file for a corpus: a `correspDesc` per letter, all citing the corpus's edition.
/// The caller leaves out documents `unusable` names; an empty list is refused.
pub fn corpus_cmif(
    title: &str,
    letters: &[Letter],
    options: &Options,
    report: &mut Report,
) -> Result<String, ExportError> {
    let set = settings(options)?;
    if letters.is_empty() {
        return Err(ExportError::Unusable(
            "no document of the corpus has correspondence metadata with a sent and a received action; nothing written".to_string(),
        ));
    }
    Ok(write_cmif(
        title,
        title,
        &[],
        letters,
        &set,
        options,
        report,
    ))
}

fn write_cmif(
    title: &str,
    citation: &str,
    edition_editors: &[String],
    letters: &[Letter],
    set: &Settings,
    options: &Options,
    report: &mut Report,
) -> String {
    let (publisher, url, licence) = (set.publisher, set.url, set.licence);
    let editors: Vec<String> = match &options.cmif.editor {
        Some(e) => vec![e.clone()],
        None if !edition_editors.is_empty() => edition_editors.to_vec(),
        None => vec![publisher.to_string()],
    };
    // An xml:id is an NCName, which cannot start with a digit (XML Namespaces §3); the prefix
    // keeps the UUID the CMIF Schematron (W0001) looks for.
    let bibl_id = format!("uuid-{}", uuid_v5_url(url));
    let title = if title.is_empty() {
        "Correspondence metadata".to_string()
    } else {
        format!("Correspondence metadata: {title}")
    };
    let mut title_stmt = Element::new("titleStmt").child(Element::new("title").text(title));
    for e in editors {
        title_stmt.push(Element::new("editor").text(e));
    }
    let publication = Element::new("publicationStmt")
        .child(
            Element::new("publisher")
                .child(Element::new("ref").attr("target", url).text(publisher)),
        )
        .child(Element::new("idno").attr("type", "url").text(url))
        .child(Element::new("date").attr("when", options.date.clone()))
        .child(
            Element::new("availability").child(
                Element::new("licence")
                    .attr("target", licence)
                    .text(format!(
                        "This file is licensed under the terms of {licence}"
                    )),
            ),
        );
    let bibl = Element::new("bibl")
        .attr("type", "online")
        .attr("xml:id", bibl_id.clone())
        .text(format!("{citation}. {publisher}, "))
        .child(Element::new("ref").attr("target", url).text(url));
    let file_desc = Element::new("fileDesc")
        .child(title_stmt)
        .child(publication)
        .child(Element::new("sourceDesc").child(bibl));
    let mut profile = Element::new("profileDesc");
    let mut dropped_dates = 0;
    let mut dropped_qualifiers = 0;
    let mut dropped_attributes: std::collections::BTreeMap<String, usize> =
        std::collections::BTreeMap::new();
    let (mut blocks, mut notes) = (0, 0);
    for letter in letters {
        let edition = letter.edition;
        blocks += edition.blocks.len();
        notes += edition.notes.len();
        for c in &edition.header.correspondence {
            let letter_url = c
                .ref_
                .clone()
                .or_else(|| letter.url.clone())
                .unwrap_or_else(|| url.to_string());
            let mut desc = Element::new("correspDesc")
                .attr("ref", letter_url)
                .attr("source", format!("#{bibl_id}"));
            let mut actions: Vec<&CorrespAction> = c.actions.iter().collect();
            actions.sort_by_key(|a| if a.type_ == "sent" { 0 } else { 1 });
            for a in actions {
                if a.type_ != "sent" && a.type_ != "received" {
                    super::not_carried(
                        report,
                        format!(
                            "cmif: correspAction of type \"{}\" is not carried (CMIF has sent and received only)",
                            a.type_
                        ),
                    );
                    continue;
                }
                let mut action = Element::new("correspAction").attr("type", a.type_.clone());
                for (names, element, label) in [
                    (&a.persons, "persName", "person"),
                    (&a.orgs, "orgName", "organisation"),
                    (&a.places, "placeName", "place"),
                ] {
                    for n in names {
                        action.push(name_element(
                            edition,
                            letter.name.as_deref(),
                            n,
                            element,
                            label,
                            &a.type_,
                            report,
                        ));
                    }
                }
                for d in &a.dates {
                    for k in d.attributes.keys() {
                        let normalised = matches!(
                            k.trim_end_matches("-iso"),
                            "when" | "notBefore" | "notAfter" | "from" | "to"
                        );
                        if !normalised {
                            *dropped_attributes.entry(k.clone()).or_insert(0usize) += 1;
                        }
                    }
                    match date_element(d) {
                        Some(el) => {
                            action.push(el);
                            if !d.text.is_empty() {
                                dropped_qualifiers += 1;
                            }
                        }
                        None => dropped_dates += 1,
                    }
                }
                desc.push(action);
            }
            profile.push(desc);
        }
    }
    if dropped_dates > 0 {
        super::not_carried(
            report,
            format!(
                "cmif: {dropped_dates} dates without @when, @from, @to, @notBefore or @notAfter are not carried (CMIF dates are normalised values only)"
            ),
        );
    }
    if !dropped_attributes.is_empty() {
        let list: Vec<String> = dropped_attributes
            .iter()
            .map(|(k, v)| format!("@{k} ×{v}"))
            .collect();
        super::not_carried(
            report,
            format!("cmif: date attributes not carried: {}", list.join(", ")),
        );
    }
    if dropped_qualifiers > 0 {
        super::not_carried(
            report,
            format!(
                "cmif: the wording of {dropped_qualifiers} dates is not carried, only their normalised values"
            ),
        );
    }
    super::not_carried(
        report,
        format!(
            "cmif carries correspondence metadata only; not carried: the text ({}), {} and the register's other entries",
            super::plural(blocks, "block"),
            super::plural(notes, "note")
        ),
    );
    let root = Element::new("TEI")
        .attr("xmlns", TEI_NS)
        .child(Element::new("teiHeader").child(file_desc).child(profile))
        .child(Element::new("text").child(Element::new("body").child(Element::new("p"))));
    tei::serialize(&Document {
        pis: vec![tei::xml_model_rng(CMIF_RNG_URL)],
        root,
    })
}

#[allow(clippy::too_many_arguments)]
fn name_element(
    edition: &Edition,
    document: Option<&str>,
    n: &Name,
    element: &str,
    label: &str,
    action: &str,
    report: &mut Report,
) -> Element {
    let mut el = Element::new(element).text(n.name.clone());
    let direct = n
        .ref_
        .as_deref()
        .and_then(|r| r.split_whitespace().find(|t| t.starts_with("http")));
    let from_register = n
        .entry
        .as_deref()
        .and_then(|id| edition.entry(id))
        .and_then(|e| e.authority_uri());
    match direct.or(from_register) {
        Some(uri) => el.set_attr("ref", uri),
        None => super::not_carried(
            report,
            format!(
                "cmif: {}{label} \"{}\" ({action}){} has no authority identifier in the register; written without @ref",
                document.map(|d| format!("{d}: ")).unwrap_or_default(),
                n.name,
                n.ref_
                    .as_deref()
                    .map(|r| format!(", pointer {r},"))
                    .unwrap_or_default()
            ),
        ),
    }
    el
}

fn date_element(d: &DateValue) -> Option<Element> {
    d.sort_key()?;
    let mut el = Element::new("date");
    for (k, v) in [
        ("when", &d.when),
        ("from", &d.from),
        ("to", &d.to),
        ("notBefore", &d.not_before),
        ("notAfter", &d.not_after),
    ] {
        if let Some(v) = v {
            el.set_attr(k, v.clone());
        }
    }
    Some(el)
}

/// The name-based UUID (version 5, SHA-1) of `url` in the URL namespace (RFC 9562 §5.5, §6.6).
pub fn uuid_v5_url(url: &str) -> String {
    // The URL namespace 6ba7b811-9dad-11d1-80b4-00c04fd430c8 (RFC 9562 §6.6).
    let mut data: Vec<u8> = vec![
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    data.extend_from_slice(url.as_bytes());
    let hash = sha1(&data);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// SHA-1 (FIPS 180-4 §6.1), used only to derive the name-based UUID above.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_answers() {
        // FIPS 180-4 example "abc" and the empty message.
        let hex = |b: [u8; 20]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn uuid_v5_is_stable_and_versioned() {
        // The value Python's uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/") gives.
        let u = uuid_v5_url("https://example.org/");
        assert_eq!(u, "527dda32-a0de-5105-a042-cb475b5f7d11");
        assert_eq!(u, uuid_v5_url("https://example.org/"));
        assert_ne!(u, uuid_v5_url("https://example.org/x"));
    }

    #[test]
    fn refuses_without_correspondence_or_settings() {
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title></titleStmt></fileDesc></teiHeader><text><body><p>x</p></body></text></TEI>"#;
        let (ed, _) = super::super::read_edition(xml).unwrap();
        let mut r = Report::new();
        let e = to_cmif(&ed, &Options::default(), &mut r).unwrap_err();
        assert!(e.to_string().contains("no correspondence metadata"));
        let xml = r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><profileDesc><correspDesc><correspAction type="sent"><persName>A</persName></correspAction><correspAction type="received"><persName>B</persName></correspAction></correspDesc></profileDesc></teiHeader><text><body><p>x</p></body></text></TEI>"#;
        let (ed, _) = super::super::read_edition(xml).unwrap();
        let e = to_cmif(&ed, &Options::default(), &mut r).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("publisher") && m.contains("--url") && m.contains("--licence"),
            "{m}"
        );
    }
}
