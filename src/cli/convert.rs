//! `teikit convert`: reads the source, runs the conversion stages, writes the edition.

use std::path::PathBuf;

use super::exit;

#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// The plain-text source document (`-` reads stdin).
    pub source: PathBuf,
}

pub fn run(args: ConvertArgs) -> i32 {
    eprintln!(
        "teikit convert {}: not yet available",
        args.source.display()
    );
    exit::USAGE
}
