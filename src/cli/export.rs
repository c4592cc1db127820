//! `teikit export`: reads a TEI document (or a folder of them), writes it in the chosen format.
//!
//! Owns the filesystem side of exporting: the interface contract of DEVELOPERS.md (stdout without
//! `-o`, `-` reads stdin, no overwrite without `--force`, atomic writes, exit codes: 1 for a
//! document that is not well-formed XML or not TEI, 2 for usage and I/O errors and for a document
//! a format cannot be made from), finding `teikit.toml` (`--config`, else `./teikit.toml` if
//! present) for the CMIF settings, and corpus mode (`--corpus DIR -o OUTDIR`: one HTML edition
//! per `*.xml` file plus `index.html`, or one file per document in another format; with
//! `--to cmif -o OUT.xml`, one CMIF file whose letters link to their HTML editions under `--url`). Warnings go to stderr as `FILE: warning: message
//! [code]`. The exports themselves are `teikit::export`.

use std::path::{Path, PathBuf};

use super::{exit, io};
use crate::diag::Report;
use crate::export::{self, CmifSettings, ExportError, Format, Options, html};

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The TEI document (`-` reads stdin); omit with --corpus.
    pub file: Option<PathBuf>,
    /// Output format: json, text, csv, csv-register, cmif or html (corpus mode: default html).
    #[arg(long = "to", value_name = "FORMAT")]
    pub to: Option<String>,
    /// Export every *.xml file in this folder: HTML editions plus an index page (default), one file
    /// per document in another format, or with --to cmif one CMIF file for the corpus.
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    pub corpus: Option<PathBuf>,
    /// Write here instead of stdout (corpus mode: the output folder).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
    /// CMIF: the publisher of the CMIF file.
    #[arg(long, value_name = "NAME")]
    pub publisher: Option<String>,
    /// CMIF: the URL of the published edition.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// CMIF: the URI of the licence, e.g. https://creativecommons.org/licenses/by/4.0/.
    #[arg(long, value_name = "URI")]
    pub licence: Option<String>,
    /// Settings file (default: ./teikit.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Date of this export, YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today); used by CMIF.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

fn fail(msg: &str) -> i32 {
    eprintln!("teikit export: error: {msg}");
    exit::USAGE
}

fn print_report(name: &str, report: &Report) {
    for d in &report.diagnostics {
        eprintln!("{name}: {}: {} [{}]", d.severity, d.message, d.code);
    }
}

fn settings(args: &ExportArgs) -> Result<CmifSettings, String> {
    let flags = CmifSettings {
        publisher: args.publisher.clone(),
        url: args.url.clone(),
        licence: args.licence.clone(),
        editor: None,
    };
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => {
            let p = PathBuf::from("teikit.toml");
            p.is_file().then_some(p)
        }
    };
    let file = match path {
        Some(p) => {
            let input = io::read_input(&p)?;
            let text = String::from_utf8(input.bytes)
                .map_err(|e| format!("{}: not UTF-8 text: {e}", input.name))?;
            export::config::parse_config(&text).map_err(|e| format!("{}: {e}", input.name))?
        }
        None => CmifSettings::default(),
    };
    Ok(flags.or(file))
}

/// The export options: the date (`--date`, else `SOURCE_DATE_EPOCH`, else today) and, for
/// CMIF, the settings from flags and `teikit.toml`.
fn options(args: &ExportArgs, format: Format) -> Result<Options, String> {
    let date = io::resolve_date(args.date.as_deref())?;
    let cmif = if format == Format::Cmif {
        settings(args)?
    } else {
        CmifSettings::default()
    };
    Ok(Options { date, cmif })
}

pub fn run(args: ExportArgs) -> i32 {
    if args.corpus.is_some() {
        return run_corpus(args);
    }
    let Some(to) = args.to.as_deref() else {
        return fail("--to FORMAT is required (json, text, csv, csv-register, cmif, html)");
    };
    let Some(format) = Format::from_name(to) else {
        return fail(&format!(
            "--to {to}: unknown format; choose one of json, text, csv, csv-register, cmif, html"
        ));
    };
    let Some(file) = args.file.clone() else {
        return fail("name the TEI document to export (or `-` for stdin), or use --corpus DIR");
    };
    let options = match options(&args, format) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let out = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    if let Some(out) = out {
        let inputs: Vec<&Path> = if file.as_os_str() == "-" {
            Vec::new()
        } else {
            vec![file.as_path()]
        };
        if let Err(e) = io::check_output(out, &inputs, args.force) {
            return fail(&e);
        }
    }
    let input = match io::read_input(&file) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let text = match crate::source::decode_text(&input.bytes) {
        Ok(t) => t,
        Err(e) => return fail(&format!("{}: {e}", input.name)),
    };
    match export::export(&text, format, &options) {
        Ok(output) => {
            print_report(&input.name, &output.report);
            if let Err(e) = io::emit(out, output.text.as_bytes()) {
                return fail(&e);
            }
            exit::OK
        }
        Err(ExportError::Invalid(m)) => {
            eprintln!("{}: error: {m}", input.name);
            exit::INVALID
        }
        Err(ExportError::Unusable(m)) => {
            eprintln!(
                "{}: error: cannot export as {}: {m}",
                input.name,
                format.name()
            );
            exit::USAGE
        }
    }
}

/// The output file name of a document in a corpus, from its input name.
fn corpus_name(path: &Path, format: Format) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".to_string());
    // `index.html` is the corpus page.
    let stem = if stem == "index" {
        "index-document".to_string()
    } else {
        stem
    };
    match format {
        Format::CsvRegister => format!("{stem}.register.csv"),
        f => format!("{stem}.{}", f.extension()),
    }
}

fn run_corpus(args: ExportArgs) -> i32 {
    let Some(dir) = args.corpus.as_deref() else {
        return fail("--corpus DIR is required");
    };
    let format = match args.to.as_deref() {
        None => Format::Html,
        Some(to) => match Format::from_name(to) {
            Some(f) => f,
            None => {
                return fail(&format!(
                    "--to {to}: unknown format; choose one of json, text, csv, csv-register, cmif, html"
                ));
            }
        },
    };
    let Some(out) = args.output.as_deref().filter(|p| p.as_os_str() != "-") else {
        return fail(if format == Format::Cmif {
            "--corpus --to cmif needs -o OUT.xml, the CMIF file to write"
        } else {
            "--corpus needs -o OUTDIR, the folder to write the files to"
        });
    };
    if format == Format::Cmif {
        if let Err(e) = io::check_output(out, &[], args.force) {
            return fail(&e);
        }
    } else if out.is_file() {
        return fail(&format!(
            "{}: is a file; name a folder for the corpus output",
            out.display()
        ));
    }
    let options = match options(&args, format) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "xml"))
            .collect(),
        Err(e) => return fail(&format!("{}: cannot read the folder: {e}", dir.display())),
    };
    files.sort();
    if files.is_empty() {
        return fail(&format!("{}: no *.xml files in the folder", dir.display()));
    }
    // Read everything first: an unreadable input stops the run before anything is written.
    let mut code = exit::OK;
    let mut editions = Vec::new();
    for path in &files {
        let input = match io::read_input(path) {
            Ok(i) => i,
            Err(e) => return fail(&e),
        };
        let text = match crate::source::decode_text(&input.bytes) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: error: {e}", input.name);
                code = code.max(exit::INVALID);
                continue;
            }
        };
        match export::read_edition(&text) {
            Ok((ed, report)) => {
                let html = corpus_name(path, Format::Html);
                editions.push((corpus_name(path, format), html, input.name, ed, report));
            }
            Err(m) => {
                eprintln!("{}: error: {m}", input.name);
                code = code.max(exit::INVALID);
            }
        }
    }
    let title = format!(
        "Documents in {}",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string())
    );

    if format == Format::Cmif {
        // One CMIF file for the corpus; each letter's URL is its HTML edition under --url.
        let base = options.cmif.url.clone().unwrap_or_default();
        let mut letters = Vec::new();
        for (_, html, name, ed, report) in &editions {
            print_report(name, report);
            match export::cmif::unusable(ed) {
                Some(why) => {
                    eprintln!("{name}: warning: not in the CMIF file: {why} [export/not-carried]")
                }
                None => letters.push(export::cmif::Letter {
                    edition: ed,
                    name: Some(name.clone()),
                    url: Some(if base.ends_with('/') {
                        format!("{base}{html}")
                    } else {
                        format!("{base}/{html}")
                    }),
                }),
            }
        }
        let mut report = Report::new();
        return match export::cmif::corpus_cmif(&title, &letters, &options, &mut report) {
            Ok(xml) => {
                print_report(&dir.display().to_string(), &report);
                if let Err(e) = io::write_atomic(out, xml.as_bytes()) {
                    return fail(&e);
                }
                eprintln!(
                    "teikit export: wrote the correspondence metadata of {} documents to {}",
                    letters.len(),
                    out.display()
                );
                code
            }
            Err(e) => {
                eprintln!("{}: error: cannot export as cmif: {e}", dir.display());
                exit::USAGE
            }
        };
    }

    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    let links = html::Links {
        index: Some("index.html".to_string()),
    };
    for (file, _, name, ed, report) in &editions {
        let mut report = report.clone();
        let text = if format == Format::Html {
            html::to_html(ed, &links, &mut report)
        } else {
            match export::export_edition(ed, report.clone(), format, &options) {
                Ok(o) => {
                    report = o.report;
                    o.text
                }
                Err(e) => {
                    eprintln!("{name}: error: cannot export as {}: {e}", format.name());
                    code = code.max(exit::USAGE);
                    continue;
                }
            }
        };
        print_report(name, &report);
        outputs.push((out.join(file), text));
    }
    if format == Format::Html {
        let docs: Vec<html::CorpusDocument> = editions
            .iter()
            .map(|(file, _, _, ed, _)| html::CorpusDocument {
                file: file.clone(),
                edition: ed,
            })
            .collect();
        outputs.push((out.join("index.html"), html::corpus_index(&title, &docs)));
    }
    for (path, _) in &outputs {
        if let Err(e) = io::check_output(path, &[], args.force) {
            return fail(&e);
        }
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        return fail(&format!("{}: cannot create the folder: {e}", out.display()));
    }
    for (path, text) in &outputs {
        if let Err(e) = io::write_atomic(path, text.as_bytes()) {
            return fail(&e);
        }
    }
    eprintln!(
        "teikit export: wrote {} {} files{} to {}",
        editions.len(),
        format.name(),
        if format == Format::Html {
            " and index.html"
        } else {
            ""
        },
        out.display()
    );
    code
}
