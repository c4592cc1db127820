//! RELAX NG schemas: loading the XML syntax (RELAX NG §3), the compact syntax (RELAX NG
//! Compact Syntax, in `compact`: parsed to and written from the XML syntax), simplification (§4),
//! restrictions (§7), datatypes (§6.2.8 with the built-in and XML Schema libraries) and the
//! compiled, hash-consed pattern graph the validator walks.
//!
//! Files are read only by [`load_rng`] (local files through [`FsResolver`]) or through a caller's
//! [`Resolver`]; everything else is pure. Every schema error is a [`Diagnostic`] located in the
//! schema file that holds it. Nothing here names TEI.

// Errors are terminal (one per schema) and carry a whole diagnostic with its file text; their
// size does not matter on this path.
#![allow(clippy::result_large_err)]

pub mod compact;
pub mod compile;
pub mod datatype;
pub mod parse;
pub mod pattern;
pub mod xsd_regex;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FullText, Span};
use pattern::{Arena, PatId};

/// One schema file that was read, kept so errors can be printed as file:line:col.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SchemaFile {
    pub path: PathBuf,
    pub text: String,
}

/// A location in one of the schema's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: usize,
    pub span: Span,
}

/// A foreign element (annotation) found in a schema file, with RELAX NG elements around it
/// (RELAX NG §3: allowed anywhere; §4.1: removed before simplification). `range` indexes the
/// text of `files[file]`; embedded Schematron is found here by its namespace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Annotation {
    pub file: usize,
    pub range: std::ops::Range<usize>,
    pub ns: String,
    pub local: String,
}

/// A compiled schema, ready for validation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    pub arena: Arena,
    pub start: PatId,
    pub files: Vec<SchemaFile>,
    /// Foreign elements of every schema file read, in document order per file.
    pub annotations: Vec<Annotation>,
    /// The ID-typed attributes (RELAX NG DTD Compatibility §4), found while compiling.
    pub id_types: compile::IdTypes,
}

impl Schema {
    /// The source text of an annotation.
    pub fn annotation_text(&self, a: &Annotation) -> &str {
        self.files
            .get(a.file)
            .and_then(|f| f.text.get(a.range.clone()))
            .unwrap_or("")
    }
}

/// Why a schema could not be compiled: the first error found, in the file that holds it.
#[derive(Debug, Clone)]
pub struct SchemaError {
    /// Path of the file the error is in (`None` if it could not be read at all).
    pub path: Option<PathBuf>,
    /// Text of that file, for line/column.
    pub text: String,
    pub diagnostic: Diagnostic,
    /// True when the schema (or a file it references) could not be found or read, as opposed
    /// to being incorrect (exit 2 rather than 3).
    pub not_found: bool,
}

impl SchemaError {
    /// `path:line:col: error: message`.
    pub fn to_short(&self) -> String {
        let path = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into());
        crate::diag::format_short(&path, &FullText::new(self.text.as_str()), &self.diagnostic)
    }
}

/// Reads the files a schema references (`include`, `externalRef`).
pub trait Resolver: Send {
    /// Resolves `href` against the directory `base_dir` and returns the file's path and text.
    fn resolve(&mut self, base_dir: &Path, href: &str) -> Result<(PathBuf, String), String>;
}

/// Reads local files only (relative paths or `file:` URIs); never fetches from a network.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsResolver;

impl Resolver for FsResolver {
    fn resolve(&mut self, base_dir: &Path, href: &str) -> Result<(PathBuf, String), String> {
        let local = href
            .strip_prefix("file://")
            .or_else(|| href.strip_prefix("file:"))
            .unwrap_or(href);
        if let Some((scheme, _)) = local.split_once(':')
            && scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(format!(
                "'{href}' is not a local file; only local files are read"
            ));
        }
        let path = base_dir.join(local);
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let text = crate::source::decode_text(&bytes)
            .map_err(|e| format!("cannot decode '{}': {e:?}", path.display()))?;
        Ok((path, text))
    }
}

/// Compiles a schema in XML syntax from its text; `path` names it and anchors relative hrefs.
pub fn compile_rng(
    text: &str,
    path: &Path,
    resolver: &mut dyn Resolver,
) -> Result<Schema, SchemaError> {
    // Schema processing recurses over the schema's nesting (bounded by the parser); it runs on
    // a thread with a large stack so that the bound, not the platform's default, decides.
    let joined = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("teikit-schema".into())
            .stack_size(STACK)
            .spawn_scoped(s, || compile_rng_here(text, path, &mut *resolver))
            .ok()
            .map(|h| h.join())
    });
    match joined {
        Some(Ok(r)) => r,
        // No thread could be started: compile here (the depth bound still holds).
        None => compile_rng_here(text, path, resolver),
        Some(Err(_)) => Err(SchemaError {
            path: Some(path.to_path_buf()),
            text: text.to_string(),
            diagnostic: Diagnostic::error("schema/internal", "the schema compiler failed"),
            not_found: false,
        }),
    }
}

const STACK: usize = 512 << 20;

fn compile_rng_here(
    text: &str,
    path: &Path,
    resolver: &mut dyn Resolver,
) -> Result<Schema, SchemaError> {
    let main = SchemaFile {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let parsed = match parse::parse(main, resolver) {
        Ok(p) => p,
        Err((files, e)) => return Err(make_error(&files, *e)),
    };
    match compile::compile(&parsed) {
        Ok((arena, start, id_types)) => Ok(Schema {
            arena,
            start,
            files: parsed.files,
            annotations: parsed.annotations,
            id_types,
        }),
        Err(e) => Err(make_error(&parsed.files, *e)),
    }
}

fn make_error(files: &[SchemaFile], (file, diagnostic): (usize, Diagnostic)) -> SchemaError {
    let f = files.get(file);
    SchemaError {
        path: f.map(|f| f.path.clone()),
        text: f.map(|f| f.text.clone()).unwrap_or_default(),
        not_found: diagnostic.code == "schema/not-found",
        diagnostic,
    }
}

/// Reads a `.rng` file from disk and compiles it (include/externalRef read local files only).
pub fn load_rng(path: &Path) -> Result<Schema, SchemaError> {
    let bytes = std::fs::read(path).map_err(|e| SchemaError {
        path: Some(path.to_path_buf()),
        text: String::new(),
        diagnostic: Diagnostic::error("schema/not-found", format!("cannot read schema: {e}")),
        not_found: true,
    })?;
    let text = crate::source::decode_text(&bytes).map_err(|e| SchemaError {
        path: Some(path.to_path_buf()),
        text: String::new(),
        diagnostic: Diagnostic::error(
            "schema/not-well-formed",
            format!("cannot decode schema: {e:?}"),
        ),
        not_found: false,
    })?;
    compile_rng(&text, path, &mut FsResolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Resolver for NoFiles {
        fn resolve(&mut self, _: &Path, href: &str) -> Result<(PathBuf, String), String> {
            Err(format!("no file {href}"))
        }
    }

    fn compile(s: &str) -> Result<Schema, SchemaError> {
        compile_rng(s, Path::new("t.rng"), &mut NoFiles)
    }

    #[test]
    fn correct_and_incorrect() {
        let ok =
            r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0"><text/></element>"#;
        assert!(compile(ok).is_ok());
        let loop_ = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><ref name="x"/></start><define name="x"><ref name="x"/></define></grammar>"#;
        assert!(compile(loop_).is_err());
        let junk = "<thisIsJunk/>";
        assert!(compile(junk).is_err());
        let bad_attr = r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0"><attribute name="b"><attribute name="c"/></attribute></element>"#;
        let Err(e) = compile(bad_attr) else { panic!() };
        assert!(e.to_short().starts_with("t.rng:1:"), "{}", e.to_short());
    }

    #[test]
    fn dtd_compatibility_id_types() {
        let wrap = |body: &str| {
            format!(
                r#"<element name="r" xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes"><choice>{body}</choice></element>"#
            )
        };
        let id =
            r#"<element name="foo"><attribute name="id"><data type="ID"/></attribute></element>"#;
        let Ok(ok) = compile(&wrap(&format!(
            "{id}<element name='bar'><empty/></element>"
        ))) else {
            panic!("a compatible schema is refused")
        };
        // The validator checks IDs from this table.
        let foo_id = (String::new(), "foo".into(), String::new(), "id".into());
        assert_eq!(ok.id_types, vec![(foo_id, datatype::IdType::Id)]);
        // The same (element, attribute) with two ID-types.
        let text = r#"<element name="foo"><attribute name="id"><text/></attribute></element>"#;
        assert!(compile(&wrap(&format!("{id}{text}"))).is_err());
        // An overlapping wildcard element.
        let any = r#"<element><anyName/><attribute name="id"/></element>"#;
        assert!(compile(&wrap(&format!("{id}{any}"))).is_err());
        // ID-typed data outside an attribute.
        let bare = r#"<element name="x"><data type="ID"/></element>"#;
        assert!(compile(&wrap(&format!("{bare}{text}"))).is_err());
    }

    #[test]
    fn annotations_are_kept() {
        let s = r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0" xmlns:sch="http://purl.oclc.org/dsdl/schematron"><sch:pattern><sch:rule context="a"/></sch:pattern><empty/></element>"#;
        let Ok(schema) = compile(s) else { panic!() };
        assert_eq!(schema.annotations.len(), 1);
        let a = &schema.annotations[0];
        assert_eq!(a.local, "pattern");
        assert!(schema.annotation_text(a).starts_with("<sch:pattern>"));
    }

    #[test]
    fn deep_schema_does_not_crash() {
        let n = 5000;
        let s = format!(
            r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0">{}<empty/>{}</element>"#,
            "<group>".repeat(n),
            "</group>".repeat(n)
        );
        assert!(compile(&s).is_err());
    }
}
