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
        use rayon::slice::ParallelSliceMut;
        // A walk lists a million files in a second; sorting them on one
        // core would take a third of that again.
        entries.par_sort_unstable_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
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

    /// The exact bytes DVC writes and their object id, from one
    /// serialisation (the id is remembered).
    pub fn to_bytes_with_oid(&self) -> (Vec<u8>, Oid) {
        let bytes = self.to_bytes();
        let oid = *self
            .oid
            .get_or_init(|| Oid::dir(crate::hash::md5_bytes(&bytes)));
        (bytes, oid)
    }

    /// The `.dir` object id of this manifest (hashed as it is serialised,
    /// without holding the whole JSON in memory).
    pub fn oid(&self) -> Oid {
        *self.oid.get_or_init(|| {
            let mut h = crate::digest::Md5Hasher::new();
            self.serialize(|chunk| h.update(chunk));
            Oid::dir(h.finish())
        })
    }

    /// Parses manifest bytes whose MD5 the caller has verified to be `oid`
    /// (a cache or remote object), as [`Manifest::parse`] does. When the
    /// bytes are exactly what [`Manifest::to_bytes`] writes (as DVC and
    /// strix write them), `oid` becomes the manifest's id with no second
    /// hash; otherwise the id is that of the entries, as always.
    pub fn parse_verified(bytes: &[u8], oid: Oid) -> Result<Self, ManifestError> {
        let (m, canonical) = Self::parse_inner(bytes)?;
        if canonical || m.serializes_to(bytes) {
            let _ = m.oid.set(oid);
        }
        Ok(m)
    }

    /// Whether [`Manifest::to_bytes`] would write exactly `bytes`.
    fn serializes_to(&self, bytes: &[u8]) -> bool {
        let mut pos = 0;
        let mut same = true;
        self.serialize(|chunk| {
            same = same && bytes.get(pos..pos + chunk.len()) == Some(chunk);
            pos += chunk.len();
        });
        same && pos == bytes.len()
    }

    /// Parses manifest bytes from a cache or remote, treating them as
    /// untrusted: every relpath is checked, duplicates are refused. Legacy
    /// manifests may carry extra keys; they are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        Self::parse_inner(bytes).map(|(m, _)| m)
    }

    /// The manifest, and whether `bytes` were in canonical form.
    fn parse_inner(bytes: &[u8]) -> Result<(Self, bool), ManifestError> {
        // Nearly every manifest is in the canonical form: read it
        // directly, ten times faster than a general JSON parse. Anything
        // else takes the general path, which also gives the errors.
        if let Some(entries) = parse_canonical(bytes) {
            check_tree(&entries)?;
            let m = Self {
                entries,
                oid: std::sync::OnceLock::new(),
            };
            return Ok((m, true));
        }
        Self::parse_json(bytes).map(|m| (m, false))
    }

    /// The general path of [`Manifest::parse`]: any JSON layout.
    fn parse_json(bytes: &[u8]) -> Result<Self, ManifestError> {
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
        check_tree(&m.entries)?;
        Ok(m)
    }
}

/// Reads bytes in exactly the form [`Manifest::to_bytes`] writes, with
/// relpaths of printable ASCII needing no escape: `None` at the first
/// deviation (the caller then parses them as general JSON). Entries must be
/// strictly increasing, so they come out sorted and without duplicates;
/// relpaths are checked with [`check_relpath`].
fn parse_canonical(bytes: &[u8]) -> Option<Vec<Entry>> {
    const HEAD: &[u8] = b"{\"md5\": \"";
    const MID: &[u8] = b"\", \"relpath\": \"";
    let mut p = bytes.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let mut entries: Vec<Entry> = Vec::with_capacity(p.len() / 72 + 1);
    while !p.is_empty() {
        if !entries.is_empty() {
            p = p.strip_prefix(b", ")?;
        }
        let (hex, rest) = p.strip_prefix(HEAD)?.split_at_checked(32)?;
        let md5 = Md5::from_lower_hex(hex)?;
        p = rest.strip_prefix(MID)?;
        let end = plain_relpath_len(p)?;
        // Printable ASCII (checked by `plain_relpath_len`): always UTF-8.
        let rel = std::str::from_utf8(&p[..end]).ok()?;
        if entries
            .last()
            .is_some_and(|last| last.relpath.as_bytes() >= rel.as_bytes())
        {
            return None;
        }
        entries.push(Entry {
            relpath: rel.to_owned(),
            md5,
        });
        p = p[end + 1..].strip_prefix(b"}")?;
    }
    Some(entries)
}

/// The length of the relpath at the start of `p`, up to its closing quote,
/// if it is printable ASCII needing no JSON escape and passes
/// [`check_relpath`]; one pass over the bytes.
fn plain_relpath_len(p: &[u8]) -> Option<usize> {
    // Bytes since the last '/', and whether they are all dots.
    let mut comp_len = 0usize;
    let mut all_dots = true;
    for (i, &b) in p.iter().enumerate() {
        match b {
            b'"' | b'/' => {
                // An empty, "." or ".." component (also: a leading '/').
                if comp_len == 0 || (all_dots && comp_len <= 2) {
                    return None;
                }
                if b == b'"' {
                    return Some(i);
                }
                comp_len = 0;
                all_dots = true;
            }
            b if pyjson::is_plain(b) => {
                comp_len += 1;
                all_dots &= b == b'.';
            }
            _ => return None,
        }
    }
    None
}

/// Checks sorted entries for a path listed twice, and for a file that is
/// also used as a directory (`a` and `a/b`; in between may sort `a-b`, so
/// each new parent directory is looked up among the entries).
fn check_tree(entries: &[Entry]) -> Result<(), ManifestError> {
    for w in entries.windows(2) {
        if w[0].relpath == w[1].relpath {
            return Err(ManifestError::Duplicate(w[0].relpath.clone()));
        }
    }
    let listed = |p: &str| {
        entries
            .binary_search_by(|e| e.relpath.as_bytes().cmp(p.as_bytes()))
            .is_ok()
    };
    let mut last_parent = "";
    for e in entries {
        let parent = e.relpath.rsplit_once('/').map_or("", |(p, _)| p);
        if parent == last_parent {
            continue;
        }
        last_parent = parent;
        // The parent and each of its ancestors.
        let mut dir = parent;
        while !dir.is_empty() {
            if listed(dir) {
                return Err(ManifestError::UnsafePath {
                    relpath: e.relpath.clone(),
                    reason: "a listed file is also used as a directory",
                });
            }
            dir = dir.rsplit_once('/').map_or("", |(p, _)| p);
        }
    }
    Ok(())
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
        // The hash is taken as the id: a wrong one shows.
        let other = Oid::dir(crate::hash::md5_bytes(b"other"));
        assert_eq!(
            Manifest::parse_verified(&canonical, other).unwrap().oid(),
            other
        );
        assert_eq!(
            Manifest::parse_verified(&canonical, oid).unwrap().oid(),
            oid
        );

        // Same entries, other spacing: the id is that of the entries, not
        // the hash of these bytes.
        let spaced = [&canonical[..], b" "].concat();
        let hashed = Oid::dir(crate::hash::md5_bytes(&spaced));
        assert_eq!(
            Manifest::parse_verified(&spaced, hashed).unwrap().oid(),
            oid
        );

        // Canonical but escaped (non-ASCII names take the general path):
        // still the hash of the bytes.
        let m = Manifest::from_entries(vec![Entry {
            relpath: "dé\"j\tà".into(),
            md5: crate::hash::md5_bytes(b"a"),
        }]);
        let bytes = m.to_bytes();
        assert_eq!(
            Manifest::parse_verified(&bytes, other).unwrap().oid(),
            other
        );
    }

    #[test]
    fn the_canonical_reader_and_the_json_parser_agree() {
        let md5 = |s: &str| crate::hash::md5_bytes(s.as_bytes());
        let names = [
            "a",
            "a b",
            "a-b",
            "a.txt",
            "a~",
            "b/c",
            "b/c d/e",
            "\"q\"",
            "x\ty",
            "ü/ß",
            "z!#$%&'()*+,",
        ];
        let m = Manifest::from_entries(
            names
                .iter()
                .map(|n| Entry {
                    relpath: (*n).into(),
                    md5: md5(n),
                })
                .collect(),
        );
        let ascii = Manifest::from_entries(
            m.entries()
                .iter()
                .filter(|e| e.relpath.is_ascii())
                .cloned()
                .collect(),
        );
        for m in [m, ascii, Manifest::default()] {
            let bytes = m.to_bytes();
            let general = Manifest::parse_json(&bytes).unwrap();
            assert_eq!(general, m);
            assert_eq!(Manifest::parse(&bytes).unwrap(), m);
            let fast = parse_canonical(&bytes);
            // Names that need an escape take the general path.
            let plain = m
                .entries()
                .iter()
                .all(|e| e.relpath.bytes().all(pyjson::is_plain));
            assert_eq!(fast.is_some(), plain, "{}", String::from_utf8_lossy(&bytes));
            if let Some(entries) = fast {
                assert_eq!(entries, m.entries());
            }
        }

        // Not canonical: the general path reads the same entries.
        let h = "d41d8cd98f00b204e9800998ecf8427e";
        let want = Manifest::from_entries(vec![
            Entry {
                relpath: "a".into(),
                md5: Md5::EMPTY,
            },
            Entry {
                relpath: "b".into(),
                md5: Md5::EMPTY,
            },
        ]);
        for text in [
            format!(r#"[{{"md5": "{h}", "relpath": "b"}}, {{"md5": "{h}", "relpath": "a"}}]"#),
            format!(
                r#"[{{"md5": "{}", "relpath": "a"}}, {{"md5": "{h}", "relpath": "b"}}]"#,
                h.to_uppercase()
            ),
            format!(r#"[{{"md5":"{h}","relpath":"a"}},{{"md5":"{h}","relpath":"b"}}]"#),
            format!(
                r#"[{{"relpath": "a", "md5": "{h}"}}, {{"md5": "{h}", "relpath": "b", "x": 1}}]"#
            ),
            format!(
                r#"[{{"md5": "{h}", "relpath": "\u0061"}}, {{"md5": "{h}", "relpath": "b"}}] "#
            ),
        ] {
            assert!(parse_canonical(text.as_bytes()).is_none(), "{text}");
            assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn the_one_pass_relpath_check_agrees_with_check_relpath() {
        for rel in [
            "a", "a/b", "...", "a/.../b", ".a", "a.", "a/..b", "~x y", "", "/a", "a/", "a//b", ".",
            "..", "a/./b", "a/../b", "a/..", "./a", "tab\t", "b\\s", "é", "\u{7f}",
        ] {
            let plain = rel.bytes().all(pyjson::is_plain);
            let want = (plain && check_relpath(rel).is_ok()).then_some(rel.len());
            let quoted = format!("{rel}\"}}");
            assert_eq!(plain_relpath_len(quoted.as_bytes()), want, "{rel:?}");
        }
        assert_eq!(plain_relpath_len(b"no-closing-quote"), None);
    }

    #[test]
    fn bytes_and_id_come_from_one_serialisation() {
        let p = Path::new(VECTORS).join("expected/dvc3/dir/bf8385e2b15aea0801b306267fe382bc.dir");
        let m = Manifest::parse(&std::fs::read(&p).unwrap()).unwrap();
        let fresh = Manifest::from_entries(m.entries().iter().rev().cloned().collect());
        let (bytes, oid) = fresh.to_bytes_with_oid();
        assert_eq!(bytes, std::fs::read(&p).unwrap());
        assert_eq!(oid.to_string(), "bf8385e2b15aea0801b306267fe382bc.dir");
        assert_eq!(fresh.oid(), oid);
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
        // The file and the directory need not be neighbours.
        let h = "d41d8cd98f00b204e9800998ecf8427e";
        let apart = format!(
            r#"[{{"md5": "{h}", "relpath": "a"}}, {{"md5": "{h}", "relpath": "a-b"}}, {{"md5": "{h}", "relpath": "a/b/c"}}]"#
        );
        assert!(matches!(
            Manifest::parse(apart.as_bytes()),
            Err(ManifestError::UnsafePath { .. })
        ));
    }
}
