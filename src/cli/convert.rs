//! `teikit convert`: reads the source and the register, runs the conversion, writes the edition.
//!
//! Owns the filesystem side of conversion: refusing bad input before any work (missing file,
//! directory, empty, binary or non-UTF-8 text with the byte offset, output equal to the input,
//! existing output without `--force`: exit 2, nothing written), choosing the register (the
//! bundled `editions/register.xml` unless `--register` names another), printing diagnostics to
//! stderr and the `--report`. The conversion itself is `teikit::convert`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{exit, io};
use crate::convert::{self, Options};
use crate::diag::{FullText, Severity, format_short};
use crate::register::{self, Register};

/// The register bundled into the binary: the project's `editions/register.xml`.
pub const BUNDLED_REGISTER: &str = include_str!("../../editions/register.xml");

#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// The plain-text source document (`-` reads stdin).
    pub source: PathBuf,
    /// Register of persons, places and organisations (TEI); default: the bundled register.
    #[arg(long, value_name = "FILE")]
    pub register: Option<PathBuf>,
    /// Date of this revision, YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Print a report to stderr: what was recognised, and names missing from the register.
    #[arg(long)]
    pub report: bool,
    /// Write the edition here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "OUT.xml")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

fn fail(msg: &str) -> i32 {
    eprintln!("teikit convert: error: {msg}");
    exit::USAGE
}

pub fn run(args: ConvertArgs) -> i32 {
    let date = match io::resolve_date(args.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let out = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    if let Some(out) = out {
        let mut inputs: Vec<&Path> = Vec::new();
        if args.source.as_os_str() != "-" {
            inputs.push(&args.source);
        }
        if let Some(r) = &args.register {
            inputs.push(r);
        }
        if let Err(e) = io::check_output(out, &inputs, args.force) {
            return fail(&e);
        }
    }
    let input = match io::read_input(&args.source) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let text = match crate::source::decode_text(&input.bytes) {
        Ok(t) => t,
        Err(e) => return fail(&format!("{}: {e}", input.name)),
    };
    let (register, register_name) = match load(&args.register) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let options = Options {
        date,
        ..Options::default()
    };
    let result = convert::convert(&text, &register, &options);

    let lines = FullText::new(text.as_str());
    let mut stderr = String::new();
    for d in &result.report.diagnostics {
        if d.severity == Severity::Info && !args.report {
            continue;
        }
        let _ = writeln!(stderr, "{}", format_short(&input.name, &lines, d));
    }
    if args.report {
        stderr.push_str(&report_text(&result, &register_name));
    }
    if !stderr.is_empty() {
        eprint!("{stderr}");
    }
    if let Err(e) = io::emit(out, result.xml.as_bytes()) {
        return fail(&e);
    }
    exit::OK
}

fn load(path: &Option<PathBuf>) -> Result<(Register, String), String> {
    match path {
        Some(p) => {
            let (r, report) = register::load_register(p)?;
            let name = p.display().to_string();
            for d in &report.diagnostics {
                eprintln!("{name}: {}: {}", d.severity, d.message);
            }
            if r.entries.is_empty() {
                return Err(format!(
                    "{name}: the register has no entries (person, place or org with xml:id and a name)"
                ));
            }
            Ok((r, name))
        }
        None => {
            let (r, _) = register::parse_register(BUNDLED_REGISTER, "bundled register")?;
            Ok((
                r,
                "the bundled register (editions/register.xml)".to_string(),
            ))
        }
    }
}

fn report_text(result: &convert::Conversion, register_name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "teikit convert report");
    let _ = writeln!(s, "  register: {register_name}");
    for (k, v) in &result.stats {
        let _ = writeln!(s, "  {k}: {v}");
    }
    let _ = writeln!(
        s,
        "  entries referred to: {}",
        if result.referenced.is_empty() {
            "none".to_string()
        } else {
            result.referenced.join(", ")
        }
    );
    if result.unknown_names.is_empty() {
        let _ = writeln!(s, "  names not in the register: none");
    } else {
        let _ = writeln!(
            s,
            "  names not in the register ({}), to consider adding:",
            result.unknown_names.len()
        );
        for u in &result.unknown_names {
            let _ = writeln!(s, "    {} ({}x)", u.name, u.count);
        }
    }
    s
}
