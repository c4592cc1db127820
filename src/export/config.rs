//! `teikit.toml`: project settings the exports read, today the CMIF ones.
//!
//! Owns the file's structure and its parsing from text (TOML v1.0):
//!
//! ```toml
//! [cmif]
//! publisher = "Cold War Letters Project"
//! url = "https://example.org/edition/"
//! licence = "https://creativecommons.org/licenses/by/4.0/"
//! editor = "A. Editor"          # optional; default: the edition's editors, else the publisher
//! ```
//!
//! Unknown keys are an error, so a misspelt key is not silently ignored. It must not read
//! files: the command line finds and reads the file and passes its text here.

use serde::Deserialize;

use super::CmifSettings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    cmif: Option<Cmif>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cmif {
    publisher: Option<String>,
    url: Option<String>,
    licence: Option<String>,
    editor: Option<String>,
}

/// Parses `teikit.toml` text into CMIF settings; `Err` is a message naming what is wrong.
pub fn parse_config(text: &str) -> Result<CmifSettings, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
    let c = file.cmif.unwrap_or_default();
    Ok(CmifSettings {
        publisher: c.publisher,
        url: c.url,
        licence: c.licence,
        editor: c.editor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cmif_section() {
        let s = parse_config("[cmif]\npublisher = \"P\"\nurl = \"https://x/\"\n").unwrap();
        assert_eq!(s.publisher.as_deref(), Some("P"));
        assert_eq!(s.url.as_deref(), Some("https://x/"));
        assert_eq!(s.licence, None);
    }

    #[test]
    fn empty_file_is_fine_and_typos_are_not() {
        assert_eq!(parse_config("").unwrap(), CmifSettings::default());
        assert!(parse_config("[cmif]\npublsher = \"P\"\n").is_err());
        assert!(parse_config("[cmif\n").is_err());
    }
}
