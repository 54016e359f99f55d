//! The `.dir` manifest of a directory output.
//!
//! On disk (cache and remote) a manifest is one line of JSON with no
//! trailing newline, exactly Python's `json.dumps(entries, sort_keys=True)`:
//!
//! ```text
//! [{"md5": "094cd8a9f8fc80977346f2785e22ff2a", "relpath": "B.txt"}, {"md5": "…", "relpath": "a/b.txt"}]
//! ```
//!
//! Entries are the directory's files (never directories), sorted by the
//! whole `relpath` string in code-point order (= byte order of UTF-8), with
//! `/` separators. The object id is the MD5 of those bytes plus `.dir`.
//! The size and file count live in the `.dvc` entry, not here.

use crate::hash::md5_bytes;
use crate::oid::{Md5, Oid};
use crate::pyjson;

/// One file of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// POSIX path relative to the directory, validated (see [`check_relpath`]).
    pub relpath: String,
    pub md5: Md5,
}

/// A directory listing, sorted by relpath.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: Vec<Entry>,
}

/// Why manifest bytes were refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("manifest entry {index} is malformed: {reason}")]
    Entry { index: usize, reason: &'static str },
    #[error("manifest entry '{relpath}' is unsafe: {reason}")]
    UnsafePath {
        relpath: String,
        reason: &'static str,
    },
    #[error("manifest lists '{0}' twice")]
    Duplicate(String),
}

/// Checks that a relpath from an untrusted manifest stays inside its
/// directory: relative, no `..`, `.` or empty components, no NUL or `\`.
pub fn check_relpath(relpath: &str) -> Result<(), &'static str> {
    if relpath.is_empty() {
        return Err("empty path");
    }
    if relpath.starts_with('/') {
        return Err("absolute path");
    }
    if relpath.contains('\0') {
        return Err("NUL byte in path");
    }
    if relpath.contains('\\') {
        return Err("backslash in path");
    }
    for comp in relpath.split('/') {
        match comp {
            "" => return Err("empty path component"),
            "." | ".." => return Err("'.' or '..' component escapes the directory"),
            _ => {}
        }
    }
    Ok(())
}

impl Manifest {
    /// Builds a manifest from entries in any order.
    pub fn from_entries(mut entries: Vec<Entry>) -> Self {
        entries.sort_unstable_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        Self { entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks up a file by relpath.
    pub fn get(&self, relpath: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.relpath.as_bytes().cmp(relpath.as_bytes()))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The exact bytes DVC writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(self.entries.len() * 72 + 2);
        s.push('[');
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str("{\"md5\": \"");
            s.push_str(&e.md5.to_hex());
            s.push_str("\", \"relpath\": ");
            pyjson::push_str(&mut s, &e.relpath);
            s.push('}');
        }
        s.push(']');
        s.into_bytes()
    }

    /// The `.dir` object id of this manifest.
    pub fn oid(&self) -> Oid {
        Oid::dir(md5_bytes(&self.to_bytes()))
    }

    /// Parses manifest bytes from a cache or remote, treating them as
    /// untrusted: every relpath is checked, duplicates are refused. Legacy
    /// manifests may carry extra keys; they are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        let list = value.as_array().ok_or(ManifestError::Entry {
            index: 0,
            reason: "the manifest is not a JSON list",
        })?;
        let mut entries = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            let obj = item.as_object().ok_or(ManifestError::Entry {
                index,
                reason: "not an object",
            })?;
            let relpath =
                obj.get("relpath")
                    .and_then(|v| v.as_str())
                    .ok_or(ManifestError::Entry {
                        index,
                        reason: "missing 'relpath'",
                    })?;
            let md5 = obj
                .get("md5")
                .and_then(|v| v.as_str())
                .and_then(Md5::from_hex)
                .ok_or(ManifestError::Entry {
                    index,
                    reason: "missing or invalid 'md5'",
                })?;
            check_relpath(relpath).map_err(|reason| ManifestError::UnsafePath {
                relpath: relpath.to_string(),
                reason,
            })?;
            entries.push(Entry {
                relpath: relpath.to_string(),
                md5,
            });
        }
        let m = Manifest::from_entries(entries);
        for w in m.entries.windows(2) {
            if w[0].relpath == w[1].relpath {
                return Err(ManifestError::Duplicate(w[0].relpath.clone()));
            }
        }
        // A file and a directory of the same name cannot both exist.
        for w in m.entries.windows(2) {
            if let Some(rest) = w[1].relpath.strip_prefix(&w[0].relpath)
                && rest.starts_with('/')
            {
                return Err(ManifestError::UnsafePath {
                    relpath: w[1].relpath.clone(),
                    reason: "a listed file is also used as a directory",
                });
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dvc-vectors");

    #[test]
    fn dvc_vector_roundtrips_byte_for_byte() {
        let p = Path::new(VECTORS).join("expected/dvc3/dir/bf8385e2b15aea0801b306267fe382bc.dir");
        let bytes = std::fs::read(p).unwrap();
        let m = Manifest::parse(&bytes).unwrap();
        assert_eq!(m.len(), 13);
        assert_eq!(m.to_bytes(), bytes);
        assert_eq!(m.oid().to_string(), "bf8385e2b15aea0801b306267fe382bc.dir");
        assert!(m.get("nested/deeper/c.txt").is_some());
    }

    #[test]
    fn empty_dir_oid_matches_dvc() {
        assert_eq!(
            Manifest::default().oid().to_string(),
            "d751713988987e9331980363e24189ce.dir"
        );
    }

    #[test]
    fn rejects_escaping_paths() {
        for bad in ["../x", "/etc/passwd", "a/../../x", "a//b", "./a", ""] {
            let json =
                format!(r#"[{{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "{bad}"}}]"#);
            assert!(
                matches!(
                    Manifest::parse(json.as_bytes()),
                    Err(ManifestError::UnsafePath { .. })
                ),
                "{bad} accepted"
            );
        }
        let dup = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}]"#;
        assert!(Manifest::parse(dup.as_bytes()).is_err());
        let clash = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a/b"}]"#;
        assert!(Manifest::parse(clash.as_bytes()).is_err());
    }
}
