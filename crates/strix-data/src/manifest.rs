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
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    entries: Vec<Entry>,
    /// The `.dir` id, computed on first use: serialising and hashing a
    /// million entries costs a fifth of a second, and callers ask often.
    oid: std::sync::OnceLock<Oid>,
}

/// Manifests are equal when they list the same entries.
impl PartialEq for Manifest {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Manifest {}

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
        Self {
            entries,
            oid: std::sync::OnceLock::new(),
        }
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

    /// Feeds the exact bytes DVC writes to `sink`, in chunks.
    fn serialize(&self, mut sink: impl FnMut(&[u8])) {
        let mut s = String::with_capacity(64 * 1024 + 512);
        s.push('[');
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str("{\"md5\": \"");
            s.push_str(e.md5.hex_str(&mut [0; 32]));
            s.push_str("\", \"relpath\": ");
            pyjson::push_str(&mut s, &e.relpath);
            s.push('}');
            if s.len() >= 64 * 1024 {
                sink(s.as_bytes());
                s.clear();
            }
        }
        s.push(']');
        sink(s.as_bytes());
    }

    /// The exact bytes DVC writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * 72 + 2);
        self.serialize(|chunk| out.extend_from_slice(chunk));
        out
    }

    /// The `.dir` object id of this manifest (hashed as it is serialised,
    /// without holding the whole JSON in memory).
    pub fn oid(&self) -> Oid {
        *self.oid.get_or_init(|| {
            use md5::Digest;
            let mut h = md5::Md5::new();
            self.serialize(|chunk| h.update(chunk));
            Oid::dir(Md5(h.finalize().into()))
        })
    }

    /// Remembers `oid`, the verified hash of `bytes`, as this manifest's id
    /// when `bytes` are exactly what [`Manifest::to_bytes`] writes (the
    /// bytes it was parsed from, as DVC and strix write them): serialising
    /// to compare costs a third of hashing again.
    pub fn remember_oid(&self, bytes: &[u8], oid: Oid) {
        let mut pos = 0;
        let mut same = true;
        self.serialize(|chunk| {
            same = same && bytes.get(pos..pos + chunk.len()) == Some(chunk);
            pos += chunk.len();
        });
        if same && pos == bytes.len() {
            let _ = self.oid.set(oid);
        }
    }

    /// Parses manifest bytes from a cache or remote, treating them as
    /// untrusted: every relpath is checked, duplicates are refused. Legacy
    /// manifests may carry extra keys; they are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        // Typed, borrowing parse straight into entries: a million entries
        // must become neither a million JSON maps nor an intermediate list.
        #[derive(serde::Deserialize)]
        struct Raw<'a> {
            #[serde(borrow, default)]
            md5: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            relpath: Option<std::borrow::Cow<'a, str>>,
        }
        struct Entries(Result<Vec<Entry>, ManifestError>);
        impl<'de> serde::Deserialize<'de> for Entries {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Entries;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a list of {md5, relpath} objects")
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Entries, A::Error> {
                        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                        let mut index = 0;
                        while let Some(item) = seq.next_element::<Raw<'de>>()? {
                            match to_entry(index, item) {
                                Ok(e) => entries.push(e),
                                Err(err) => {
                                    // Consume the rest so the JSON itself still parses.
                                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                                    return Ok(Entries(Err(err)));
                                }
                            }
                            index += 1;
                        }
                        Ok(Entries(Ok(entries)))
                    }
                }
                d.deserialize_seq(V)
            }
        }
        fn to_entry(index: usize, item: Raw<'_>) -> Result<Entry, ManifestError> {
            let relpath = item.relpath.ok_or(ManifestError::Entry {
                index,
                reason: "missing 'relpath'",
            })?;
            let md5 = item
                .md5
                .as_deref()
                .and_then(Md5::from_hex)
                .ok_or(ManifestError::Entry {
                    index,
                    reason: "missing or invalid 'md5'",
                })?;
            check_relpath(&relpath).map_err(|reason| ManifestError::UnsafePath {
                relpath: relpath.to_string(),
                reason,
            })?;
            Ok(Entry {
                relpath: relpath.into_owned(),
                md5,
            })
        }
        let entries = serde_json::from_slice::<Entries>(bytes)?.0?;
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
    fn only_canonical_bytes_lend_their_hash_as_the_id() {
        let m = Manifest::from_entries(vec![Entry {
            relpath: "a".into(),
            md5: crate::hash::md5_bytes(b"a"),
        }]);
        let canonical = m.to_bytes();
        let oid = Oid::dir(crate::hash::md5_bytes(&canonical));
        let parsed = Manifest::parse(&canonical).unwrap();
        parsed.remember_oid(&canonical, oid);
        assert_eq!(parsed.oid(), oid);

        // Same entries, other spacing: the id is that of the entries, not
        // the hash of these bytes.
        let spaced = [&canonical[..], b" "].concat();
        let parsed = Manifest::parse(&spaced).unwrap();
        parsed.remember_oid(&spaced, Oid::dir(crate::hash::md5_bytes(&spaced)));
        assert_eq!(parsed.oid(), oid);
    }

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
    fn the_remembered_id_is_that_of_the_entries() {
        let p = Path::new(VECTORS).join("expected/dvc3/dir/bf8385e2b15aea0801b306267fe382bc.dir");
        let m = Manifest::parse(&std::fs::read(p).unwrap()).unwrap();
        let fresh = Manifest::from_entries(m.entries().to_vec());
        let known = m.oid();
        assert_eq!(known.to_string(), "bf8385e2b15aea0801b306267fe382bc.dir");
        assert_eq!(m.oid(), known, "asked again");
        assert_eq!(m.clone().oid(), known, "a clone keeps it");
        // Equality looks at the entries only, not at whether the id was asked.
        assert_eq!(fresh, m);
        assert_eq!(fresh.oid(), known);
        let fewer = Manifest::from_entries(m.entries()[1..].to_vec());
        assert_ne!(fewer, m);
        assert_ne!(fewer.oid(), known);
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
        // The unsafe entry is reported even when more entries follow it.
        let first = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "../x"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "b"}]"#;
        assert!(matches!(
            Manifest::parse(first.as_bytes()),
            Err(ManifestError::UnsafePath { .. })
        ));
        let dup = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}]"#;
        assert!(Manifest::parse(dup.as_bytes()).is_err());
        let clash = r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a/b"}]"#;
        assert!(Manifest::parse(clash.as_bytes()).is_err());
    }
}
