//! The `teikit` binary: parses the command line and hands over to `teikit::cli`.
//! It must not hold any logic of its own.

fn main() {
    std::process::exit(teikit::cli::main());
}
