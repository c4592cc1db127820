//! The command line: argument parsing, exit codes, and all filesystem access.
//!
//! Owns the interface contract of DEVELOPERS.md (subcommands, flags, exit codes 0/1/2/3, stdout for
//! output and stderr for diagnostics). Each subcommand lives in its own file and calls pure library
//! functions; this file only dispatches. It must not hold conversion or validation logic.

use clap::{Parser, Subcommand};

mod bundled;
mod cache;
mod convert;
mod export;
pub mod io;
mod schema;
mod schematron;
mod validate;

/// Exit codes of the contract: with several outcomes, the highest wins.
pub mod exit {
    /// Everything valid (warnings allowed).
    pub const OK: i32 = 0;
    /// A document is invalid or not well-formed.
    pub const INVALID: i32 = 1;
    /// Usage or I/O error, or a schema that cannot be found.
    pub const USAGE: i32 = 2;
    /// A schema is incorrect.
    pub const SCHEMA: i32 = 3;
}

#[derive(Parser, Debug)]
#[command(
    name = "teikit",
    version,
    about = "Convert archival documents to TEI P5, validate TEI, export editions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert a plain-text archival document (Wilson Center export layout) to a TEI P5 edition.
    Convert(convert::ConvertArgs),
    /// Export a TEI document as JSON, text, CSV, CMIF or an HTML reading edition.
    Export(export::ExportArgs),
    /// Check documents against ISO Schematron (.sch, or the rules embedded in a .rng).
    Schematron(schematron::SchematronArgs),
    /// Check documents for well-formedness and validity against RELAX NG schemas.
    Validate(validate::ValidateArgs),
    /// Check or convert schemas.
    Schema(schema::SchemaArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Export(args) => export::run(args),
        Command::Schematron(args) => schematron::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
    }
}
