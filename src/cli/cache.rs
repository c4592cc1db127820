//! The compiled-schema cache: a compiled RELAX NG schema is kept on disk so that a fresh process
//! does not compile `tei_all` again (issue 4, item 3).
//!
//! An entry is named by a hash of its format, the teikit version, the schema's path and its
//! text; it records every file the schema includes with a hash of its bytes, and is used only
//! when all of them still hash the same. A corrupt, foreign or stale entry is ignored (and rewritten after
//! compiling). Entries are written to a temporary file and renamed into place, so concurrent runs
//! never read a partial entry. Location: `TEIKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/teikit`, else
//! `~/.cache/teikit`; `TEIKIT_CACHE=off` disables it. Cache failures are never errors: the
//! schema is compiled as if there were no cache.
//!
//! It must not compile schemas (that is `crate::schema`) or decide exit codes.

use std::path::{Path, PathBuf};

use crate::schema::Schema;

const MAGIC: &str = "teikit-compiled-schema-3";

/// A 64-bit content hash for cache keys, eight bytes a step (a schema such as `tei_all` is
/// megabytes, hashed on every run). Not a security boundary: an entry is also checked for
/// magic, version and key, and a forged entry could only misdescribe a schema the user's own
/// cache directory holds.
fn hash(parts: &[&[u8]]) -> u64 {
    fn mix(x: u64) -> u64 {
        x.rotate_left(23).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        let mut words = p.chunks_exact(8);
        for w in &mut words {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(w);
            h = mix(h ^ u64::from_le_bytes(buf));
        }
        for b in words.remainder() {
            h = mix(h ^ u64::from(*b));
        }
        // The length ends each part, so parts cannot trade bytes.
        h = mix(h ^ u64::try_from(p.len()).unwrap_or(u64::MAX) ^ 0xff00_0000_0000_0000);
    }
    h ^ (h >> 29)
}

fn dir() -> Option<PathBuf> {
    if std::env::var("TEIKIT_CACHE").is_ok_and(|v| v == "off") {
        return None;
    }
    if let Some(d) = std::env::var_os("TEIKIT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("teikit"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/teikit"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    magic: String,
    version: String,
    key: u64,
    /// Every file the schema was read from, with the hash of its bytes.
    files: Vec<(PathBuf, u64)>,
    schema: Schema,
}

/// The key of the entry for the schema at `path` whose bytes hash to `content`. The entry
/// format is part of it, so builds that write different formats keep separate entries instead
/// of replacing each other's on every run.
fn key_of(path: &Path, content: u64) -> u64 {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    hash(&[
        MAGIC.as_bytes(),
        env!("CARGO_PKG_VERSION").as_bytes(),
        canonical.to_string_lossy().as_bytes(),
        &content.to_le_bytes(),
    ])
}

fn entry_path(dir: &Path, key: u64) -> PathBuf {
    dir.join(format!("{key:016x}.json"))
}

/// The cached compiled form of the schema at `path`, if a valid entry exists.
pub fn get(path: &Path) -> Option<Schema> {
    let dir = dir()?;
    let bytes = std::fs::read(path).ok()?;
    let main = hash(&[&bytes]);
    let key = key_of(path, main);
    let data = std::fs::read(entry_path(&dir, key)).ok()?;
    let entry: Entry = serde_json::from_slice(&data).ok()?;
    if entry.magic != MAGIC || entry.version != env!("CARGO_PKG_VERSION") || entry.key != key {
        return None;
    }
    for (f, h) in &entry.files {
        // The schema's own file was read above (it is usually the only one).
        let fh = if f == path {
            main
        } else {
            hash(&[&std::fs::read(f).ok()?])
        };
        if fh != *h {
            return None;
        }
    }
    let mut schema = entry.schema;
    schema.arena.rebuild_index();
    Some(schema)
}

/// Stores the compiled form of the schema at `path` (best effort).
pub fn put(path: &Path, schema: &Schema) {
    let Some(dir) = dir() else { return };
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let key = key_of(path, hash(&[&bytes]));
    let mut files = Vec::new();
    for f in &schema.files {
        let Ok(b) = std::fs::read(&f.path) else {
            // A file not on disk (e.g. stdin): the entry could never be checked.
            return;
        };
        files.push((f.path.clone(), hash(&[&b])));
    }
    let entry = Entry {
        magic: MAGIC.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        key,
        files,
        schema: schema.clone(),
    };
    let Ok(data) = serde_json::to_vec(&entry) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let target = entry_path(&dir, key);
    let tmp = dir.join(format!(
        ".{key:016x}.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&tmp, data).is_ok() && std::fs::rename(&tmp, &target).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_separates_parts() {
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
        assert_eq!(hash(&[b"x"]), hash(&[b"x"]));
    }
}
