//! The schemas compiled into the teikit binary (`include_str!`): teikit's edition schema
//! (`schemas/teikit-edition.rnc`, RELAX NG compact syntax) and its rules
//! (`schemas/teikit-edition.sch`, ISO Schematron). `teikit schema list` lists them;
//! `teikit validate` uses them for documents that declare no schema, and resolves a declared
//! schema to its bundled copy by name or by URL (an `http(s)` URL whose last path segment is the
//! bundled name, e.g. the one in [`EDITION_RNC_URL`]), so that validation never needs the network.
//!
//! Owns the table and the name lookup only; it must not load or compile schemas.

/// One bundled schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bundled {
    /// File name (also how documents and `--schema` name it).
    pub name: &'static str,
    /// Canonical URL for `<?xml-model href?>` (resolved to the bundled copy, never fetched).
    pub url: &'static str,
    /// `schematypens` of an `<?xml-model?>` for this schema.
    pub schematypens: &'static str,
    pub text: &'static str,
    pub description: &'static str,
}

pub const NS_RELAXNG: &str = crate::tei::RELAXNG_NS;
pub const NS_SCHEMATRON: &str = crate::tei::SCHEMATRON_NS;

/// URL of the bundled edition grammar, as teikit convert writes it into `<?xml-model?>`.
pub const EDITION_RNC_URL: &str = crate::tei::EDITION_RNC_URL;
/// URL of the bundled edition rules.
pub const EDITION_SCH_URL: &str = crate::tei::EDITION_SCH_URL;

pub const EDITION_RNC: Bundled = Bundled {
    name: "teikit-edition.rnc",
    url: EDITION_RNC_URL,
    schematypens: NS_RELAXNG,
    text: include_str!("../../schemas/teikit-edition.rnc"),
    description: "teikit's TEI P5 customisation for editions (RELAX NG compact syntax)",
};

pub const EDITION_SCH: Bundled = Bundled {
    name: "teikit-edition.sch",
    url: EDITION_SCH_URL,
    schematypens: NS_SCHEMATRON,
    text: include_str!("../../schemas/teikit-edition.sch"),
    description: "teikit's editorial rules for editions (ISO Schematron)",
};

/// Every bundled schema, in listing order.
pub const ALL: &[Bundled] = &[EDITION_RNC, EDITION_SCH];

/// The bundled schema an href or `--schema` value names: its file name, its URL, or any
/// `http(s)` URL ending in `/<name>`.
pub fn lookup(href: &str) -> Option<&'static Bundled> {
    let h = href.trim();
    ALL.iter().find(|b| {
        h == b.name
            || h == b.url
            || ((h.starts_with("http://") || h.starts_with("https://"))
                && h.rsplit('/').next() == Some(b.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_resolve() {
        assert_eq!(lookup("teikit-edition.rnc"), Some(&EDITION_RNC));
        assert_eq!(lookup(EDITION_SCH_URL), Some(&EDITION_SCH));
        assert_eq!(
            lookup("https://example.org/x/teikit-edition.rnc"),
            Some(&EDITION_RNC)
        );
        assert_eq!(lookup("local/teikit-edition.rnc"), None);
        assert_eq!(lookup("tei_all.rng"), None);
        assert!(EDITION_RNC.text.contains("default namespace"));
    }
}
