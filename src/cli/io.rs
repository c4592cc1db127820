//! Filesystem access for the command line: reading inputs (`-` is stdin), writing outputs
//! atomically (temporary file in the target's folder, then rename), refusing to overwrite without
//! `--force`, and resolving the reproducible clock (`--date`, else `SOURCE_DATE_EPOCH`, else today).
//!
//! Every error here is a plain message for stderr with exit 2; nothing here panics on user input.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// An input read whole: the name to show in messages and its bytes.
pub struct Input {
    pub name: String,
    pub path: Option<PathBuf>,
    pub bytes: Vec<u8>,
}

/// Reads a file, or stdin for `-`.
pub fn read_input(arg: &Path) -> Result<Input, String> {
    if arg.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(Input {
            name: "<stdin>".to_string(),
            path: None,
            bytes,
        });
    }
    let name = arg.display().to_string();
    let mut bytes = Vec::new();
    open_file(arg)?
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    Ok(Input {
        name,
        path: Some(arg.to_path_buf()),
        bytes,
    })
}

/// Opens a file for reading; the error says plainly what is wrong (no such file, permission
/// denied, a directory, or the system's reason).
pub fn open_file(arg: &Path) -> Result<fs::File, String> {
    let name = arg.display();
    let fail = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{name}: no such file"),
        std::io::ErrorKind::PermissionDenied => format!("{name}: permission denied"),
        _ => format!("{name}: cannot read: {e}"),
    };
    if fs::metadata(arg).map_err(fail)?.is_dir() {
        return Err(format!("{name}: is a directory, not a file"));
    }
    fs::File::open(arg).map_err(fail)
}

/// Checks, before any work is done, that `out` may be written: not the input itself, not a
/// directory, and not an existing file unless `force`.
pub fn check_output(out: &Path, inputs: &[&Path], force: bool) -> Result<(), String> {
    let name = out.display().to_string();
    for input in inputs {
        if same_file(out, input) {
            return Err(format!(
                "{name}: the output path is the input file; choose another output path"
            ));
        }
    }
    match fs::metadata(out) {
        Ok(meta) if meta.is_dir() => Err(format!("{name}: is a directory; name an output file")),
        Ok(_) if !force => Err(format!(
            "{name}: already exists; pass --force to overwrite it"
        )),
        _ => Ok(()),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Writes `bytes` to `out` atomically: a temporary file beside it, flushed, then renamed over.
/// A failure leaves no partial file behind.
pub fn write_atomic(out: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = out.display().to_string();
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = out
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, out)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("{name}: cannot write: {e}"));
    }
    Ok(())
}

/// Writes to `-o` (atomically) or to stdout.
pub fn emit(out: Option<&Path>, bytes: &[u8]) -> Result<(), String> {
    match out {
        Some(p) if p.as_os_str() != "-" => write_atomic(p, bytes),
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|_| stdout.flush())
                .map_err(|e| format!("cannot write to standard output: {e}"))
        }
    }
}

/// The reproducible clock: `--date`, else `SOURCE_DATE_EPOCH`, else today (UTC), as YYYY-MM-DD.
pub fn resolve_date(arg: Option<&str>) -> Result<String, String> {
    if let Some(d) = arg {
        return if is_iso_date(d) {
            Ok(d.to_string())
        } else {
            Err(format!(
                "--date {d}: not a calendar date in the form YYYY-MM-DD"
            ))
        };
    }
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse::<i64>().map_err(|_| {
            format!("SOURCE_DATE_EPOCH={v}: not a whole number of seconds since 1970")
        })?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let (y, m, d) = crate::calendar::civil_from_days(secs.div_euclid(86_400));
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// True for a real calendar date `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    (1..=12).contains(&m) && d >= 1 && d <= crate::calendar::days_in_month(y, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2023-13-01"));
        assert!(!is_iso_date("23-01-01"));
    }

    #[test]
    fn explicit_date_wins() {
        assert_eq!(resolve_date(Some("2026-01-02")).unwrap(), "2026-01-02");
        assert!(resolve_date(Some("2026-1-2")).is_err());
    }
}
