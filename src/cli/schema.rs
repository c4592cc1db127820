//! `teikit schema check SCHEMA`, `teikit schema convert SCHEMA --to rng [-o OUT]` and
//! `teikit schema list` (the bundled schemas of [`super::bundled`]), plus the
//! schema loading shared with `teikit validate` (`.rng` XML syntax; `.rnc` compact syntax goes
//! through [`compact_to_rng`], the one place that links the compact-syntax parser).
//!
//! Exit codes (DEVELOPERS.md): 0 correct, 2 usage/I/O/schema not found, 3 schema incorrect.
//! Schema errors print as `file:line:col: error: message` on stderr.

use std::path::{Path, PathBuf};

use super::{exit, io};
use crate::diag::Diagnostic;
use crate::schema::{self, FsResolver, Resolver, Schema};

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub command: SchemaCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SchemaCommand {
    /// Check that a RELAX NG schema (.rng or .rnc) is correct; exit 3 if it is not.
    Check {
        /// The schema file.
        schema: PathBuf,
    },
    /// List the schemas bundled into teikit (usable by name with --schema and in <?xml-model?>).
    List,
    /// Convert a schema to another syntax.
    Convert {
        /// The schema file.
        schema: PathBuf,
        /// Target syntax: rng (XML syntax).
        #[arg(long = "to", value_name = "rng|rnc")]
        to: String,
        /// Output file (default: stdout).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
}

/// Compact syntax (RELAX NG Compact Syntax §1–§5) to XML syntax.
pub fn compact_to_rng(text: &str, name: &str) -> Result<String, Vec<Diagnostic>> {
    crate::schema::compact::parse_compact(text, name)
}

/// Local files, with referenced `.rnc` files converted to XML syntax by [`compact_to_rng`].
struct CliResolver;

impl Resolver for CliResolver {
    fn resolve(
        &mut self,
        base_dir: &Path,
        href: &str,
    ) -> Result<(std::path::PathBuf, String), String> {
        let (path, text) = FsResolver.resolve(base_dir, href)?;
        if !is_rnc(&path) {
            return Ok((path, text));
        }
        let name = path.display().to_string();
        match compact_to_rng(&text, &name) {
            Ok(xml) => Ok((path, xml)),
            Err(ds) => {
                let lines = crate::diag::FullText::new(text.as_str());
                let msgs: Vec<String> = ds
                    .iter()
                    .map(|d| crate::diag::format_short(&name, &lines, d))
                    .collect();
                Err(msgs.join("\n"))
            }
        }
    }
}

/// XML syntax to compact syntax.
pub fn rng_to_compact(rng_xml: &str) -> Result<String, Vec<Diagnostic>> {
    crate::schema::compact::write_compact(rng_xml)
}

/// Why a schema could not be used, with the exit code it implies.
pub struct LoadFailure {
    pub code: i32,
    pub messages: Vec<String>,
}

fn is_rnc(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("rnc")
}

/// Reads a schema's text and returns its RELAX NG XML syntax (converting compact syntax).
pub fn schema_xml(path: &Path) -> Result<String, LoadFailure> {
    let input = io::read_input(path).map_err(|m| LoadFailure {
        code: exit::USAGE,
        messages: vec![m],
    })?;
    let text = crate::source::decode_text(&input.bytes).map_err(|e| LoadFailure {
        code: exit::SCHEMA,
        messages: vec![format!("{}: cannot decode: {e:?}", input.name)],
    })?;
    if is_rnc(path) {
        return compact_to_rng(&text, &input.name).map_err(|ds| {
            let lines = crate::diag::FullText::new(text.as_str());
            LoadFailure {
                code: exit::SCHEMA,
                messages: ds
                    .iter()
                    .map(|d| crate::diag::format_short(&input.name, &lines, d))
                    .collect(),
            }
        });
    }
    Ok(text)
}

/// Compiles a bundled schema from its compact-syntax text (`name` stands for its path; it
/// includes no other file).
pub fn load_bundled(b: &super::bundled::Bundled) -> Result<Schema, LoadFailure> {
    let fail = |messages: Vec<String>| LoadFailure {
        code: exit::SCHEMA,
        messages,
    };
    let xml = compact_to_rng(b.text, b.name).map_err(|ds| {
        fail(
            ds.iter()
                .map(|d| format!("{}: {}", b.name, d.message))
                .collect(),
        )
    })?;
    schema::compile_rng(&xml, Path::new(b.name), &mut CliResolver)
        .map_err(|e| fail(vec![e.to_short()]))
}

/// Loads and compiles a schema (`.rng`, or `.rnc` in compact syntax), through the
/// compiled-schema cache ([`super::cache`]).
pub fn load_schema(path: &Path) -> Result<Schema, LoadFailure> {
    if let Some(s) = super::cache::get(path) {
        return Ok(s);
    }
    let s = load_schema_uncached(path)?;
    super::cache::put(path, &s);
    Ok(s)
}

/// Loads and compiles a schema without the cache.
pub fn load_schema_uncached(path: &Path) -> Result<Schema, LoadFailure> {
    let xml = schema_xml(path)?;
    schema::compile_rng(&xml, path, &mut CliResolver).map_err(|e| LoadFailure {
        code: if e.diagnostic.code == "schema/not-found" && e.path.as_deref() == Some(path) {
            exit::USAGE
        } else {
            exit::SCHEMA
        },
        messages: vec![e.to_short()],
    })
}

pub fn run(args: SchemaArgs) -> i32 {
    match args.command {
        SchemaCommand::List => {
            let mut out = String::new();
            for b in super::bundled::ALL {
                out.push_str(&format!("{}\t{}\t{}\n", b.name, b.url, b.description));
            }
            match io::emit(None, out.as_bytes()) {
                Ok(()) => exit::OK,
                Err(m) => {
                    eprintln!("{m}");
                    exit::USAGE
                }
            }
        }
        SchemaCommand::Check { schema } => match load_schema_uncached(&schema) {
            Ok(_) => exit::OK,
            Err(f) => {
                for m in f.messages {
                    eprintln!("{m}");
                }
                f.code
            }
        },
        SchemaCommand::Convert {
            schema,
            to,
            output,
            force,
        } => {
            if to != "rng" && to != "rnc" {
                eprintln!("teikit schema convert: --to must be rng or rnc, not '{to}'");
                return exit::USAGE;
            }
            if let Some(out) = &output
                && out.as_os_str() != "-"
                && let Err(m) = io::check_output(out, &[schema.as_path()], force)
            {
                eprintln!("{m}");
                return exit::USAGE;
            }
            let xml = match schema_xml(&schema) {
                Ok(x) => x,
                Err(f) => {
                    for m in f.messages {
                        eprintln!("{m}");
                    }
                    return f.code;
                }
            };
            // Conversion is a translation of syntax (RELAX NG Compact Syntax, Appendix A): a
            // schema that is syntactically right converts even when it breaks a restriction of
            // RELAX NG §7 or refers to a file that is not there; that is reported as a warning.
            if let Err(e) = schema::compile_rng(&xml, &schema, &mut CliResolver) {
                eprintln!(
                    "{} (warning: converted all the same; `teikit schema check` refuses this schema)",
                    e.to_short()
                );
            }
            let out = if to == "rnc" {
                match rng_to_compact(&xml) {
                    Ok(t) => t,
                    Err(ds) => {
                        for d in &ds {
                            eprintln!("{}: {}: {}", schema.display(), d.severity, d.message);
                        }
                        return exit::SCHEMA;
                    }
                }
            } else {
                xml
            };
            match io::emit(output.as_deref(), out.as_bytes()) {
                Ok(()) => exit::OK,
                Err(m) => {
                    eprintln!("{m}");
                    exit::USAGE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_syntax_is_linked() {
        let xml = compact_to_rng("element a { empty }", "a.rnc").unwrap();
        assert!(xml.contains("<element"));
        assert!(rng_to_compact(&xml).unwrap().contains("element a"));
        let Err(ds) = compact_to_rng("element a {", "a.rnc") else {
            panic!("a truncated compact schema must be refused")
        };
        assert!(!ds.is_empty());
        assert!(is_rnc(Path::new("x.rnc")));
        assert!(!is_rnc(Path::new("x.rng")));
    }
}
