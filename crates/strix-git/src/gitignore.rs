//! The `.gitignore` lines DVC writes for its outputs.
//!
//! Each cached output gets one line in the `.gitignore` of its parent
//! directory: `/` followed by the output's base name with the gitwildmatch
//! metacharacters `[ ] ! * # ?` escaped by a backslash. Spaces are not
//! escaped and non-ASCII is written as raw UTF-8; directory outputs get no
//! trailing slash. Example: `we ird#[1]!*?.txt` becomes
//! `/we ird\#\[1\]\!\*\?.txt`.
//!
//! Whether git already ignores a path through some other rule is the
//! caller's business ([`crate::GitRepo::is_ignored`]).

use std::io;
use std::path::{Path, PathBuf};

/// Errors from editing a `.gitignore`.
#[derive(Debug, thiserror::Error)]
pub enum GitignoreError {
    /// The name is not a single path component.
    #[error("'{0}' is not a file name: a .gitignore entry needs a base name without '/'")]
    InvalidName(String),
    /// The existing `.gitignore` could not be read.
    #[error("cannot read '{path}'")]
    Read {
        /// The `.gitignore` file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The new `.gitignore` could not be written.
    #[error("cannot write '{path}'")]
    Write {
        /// The `.gitignore` file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The emptied `.gitignore` could not be deleted.
    #[error("cannot delete the now empty '{path}'")]
    Delete {
        /// The `.gitignore` file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
}

/// Characters that gitwildmatch treats specially and DVC escapes.
const ESCAPED: &[char] = &['[', ']', '!', '*', '#', '?'];

/// The `.gitignore` line (without newline) that ignores the entry `name`
/// of the same directory: `/` + `name` with `[ ] ! * # ?` backslash-escaped.
pub fn entry_for(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    out.push('/');
    for c in name.chars() {
        if ESCAPED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Appends the entry for `name` to `<dir>/.gitignore`, creating the file if
/// needed. A newline is written first when the file does not end in one. An
/// identical existing line means nothing is written. Returns whether the
/// file changed. The write is atomic.
pub fn add_entry(dir: &Path, name: &str) -> Result<bool, GitignoreError> {
    add_entry_before(dir, name, &[])
}

/// [`add_entry`], but the line goes just before the first line that is the
/// entry of one of `before` (appended when there is none). Parallel runs
/// use it to write lines in the order a serial run would.
pub fn add_entry_before(dir: &Path, name: &str, before: &[String]) -> Result<bool, GitignoreError> {
    check_name(name)?;
    let path = dir.join(".gitignore");
    let entry = entry_for(name);
    let mut content = read_if_exists(&path)?.unwrap_or_default();
    let bare = |line: &[u8]| -> Vec<u8> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        line.strip_suffix(b"\r").unwrap_or(line).to_vec()
    };
    if content
        .split(|&b| b == b'\n')
        .any(|line| bare(line) == entry.as_bytes())
    {
        return Ok(false);
    }
    let later: Vec<String> = before.iter().map(|n| entry_for(n)).collect();
    let mut at = None;
    let mut offset = 0;
    for line in content.split_inclusive(|&b| b == b'\n') {
        if later.iter().any(|l| bare(line) == l.as_bytes()) {
            at = Some(offset);
            break;
        }
        offset += line.len();
    }
    match at {
        Some(i) => {
            let mut line = entry.into_bytes();
            line.push(b'\n');
            content.splice(i..i, line);
        }
        None => {
            if !content.is_empty() && !content.ends_with(b"\n") {
                content.push(b'\n');
            }
            content.extend_from_slice(entry.as_bytes());
            content.push(b'\n');
        }
    }
    strix_fs::atomic_write(&path, &content)
        .map_err(|source| GitignoreError::Write { path, source })?;
    Ok(true)
}

/// Removes every line of `<dir>/.gitignore` that ignores `name`: the escaped
/// entry DVC writes, and the unescaped `/` + `name` form (what DVC itself
/// compares against). Lines are compared with surrounding whitespace
/// trimmed, as DVC does. Deletes the file when no line is left. Returns
/// whether anything changed; a missing file is no change.
pub fn remove_entry(dir: &Path, name: &str) -> Result<bool, GitignoreError> {
    check_name(name)?;
    let path = dir.join(".gitignore");
    let Some(content) = read_if_exists(&path)? else {
        return Ok(false);
    };
    let escaped = entry_for(name);
    let plain = format!("/{name}");
    let mut kept = Vec::with_capacity(content.len());
    let mut removed = false;
    for line in content.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.trim_ascii();
        if trimmed == escaped.as_bytes() || trimmed == plain.as_bytes() {
            removed = true;
        } else {
            kept.extend_from_slice(line);
        }
    }
    if !removed {
        return Ok(false);
    }
    if kept.is_empty() {
        std::fs::remove_file(&path).map_err(|source| GitignoreError::Delete { path, source })?;
    } else {
        strix_fs::atomic_write(&path, &kept)
            .map_err(|source| GitignoreError::Write { path, source })?;
    }
    Ok(true)
}

fn check_name(name: &str) -> Result<(), GitignoreError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(GitignoreError::InvalidName(name.to_owned()));
    }
    Ok(())
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, GitignoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(GitignoreError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(".gitignore")).unwrap()
    }

    #[test]
    fn escapes_gitwildmatch_metacharacters_but_not_spaces() {
        assert_eq!(entry_for("we ird#[1]!*?.txt"), r"/we ird\#\[1\]\!\*\?.txt");
        assert_eq!(entry_for("data"), "/data");
        assert_eq!(entry_for("dätä"), "/dätä");
    }

    #[test]
    fn add_creates_appends_and_does_not_duplicate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert!(add_entry(dir, "a.txt").unwrap());
        assert_eq!(read(dir), "/a.txt\n");
        assert!(!add_entry(dir, "a.txt").unwrap());
        assert!(add_entry(dir, "b[1]").unwrap());
        assert_eq!(read(dir), "/a.txt\n/b\\[1\\]\n");
        assert!(!add_entry(dir, "b[1]").unwrap());
    }

    #[test]
    fn add_before_inserts_ahead_of_later_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(".gitignore"), "*.log\n/c.txt\n/d*\n").unwrap();
        let later = ["x".to_string(), "d*".to_string(), "c.txt".to_string()];
        assert!(add_entry_before(dir, "a", &later).unwrap());
        assert_eq!(read(dir), "*.log\n/a\n/c.txt\n/d*\n");
        // No later entry in the file: appended (a missing newline first).
        std::fs::write(dir.join(".gitignore"), "/c.txt").unwrap();
        assert!(add_entry_before(dir, "b", &["x".to_string()]).unwrap());
        assert_eq!(read(dir), "/c.txt\n/b\n");
        // An existing entry is left where it is.
        assert!(!add_entry_before(dir, "b", &["c.txt".to_string()]).unwrap());
        assert_eq!(read(dir), "/c.txt\n/b\n");
        // The escaped form is what is compared.
        std::fs::write(dir.join(".gitignore"), "/d\\*\n").unwrap();
        assert!(add_entry_before(dir, "e", &["d*".to_string()]).unwrap());
        assert_eq!(read(dir), "/e\n/d\\*\n");
    }

    #[test]
    fn add_writes_missing_newline_first() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(".gitignore"), "*.log").unwrap();
        assert!(add_entry(dir, "model.pkl").unwrap());
        assert_eq!(read(dir), "*.log\n/model.pkl\n");
    }

    #[test]
    fn add_recognises_existing_line_without_trailing_newline() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(".gitignore"), "x\r\n/data").unwrap();
        assert!(!add_entry(dir, "data").unwrap());
        assert_eq!(read(dir), "x\r\n/data");
    }

    #[test]
    fn remove_drops_escaped_and_plain_lines_and_keeps_others() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let name = "we ird#[1]!*?.txt";
        std::fs::write(
            dir.join(".gitignore"),
            format!("# keep\n{}\n/other\n/{name}  \n", entry_for(name)),
        )
        .unwrap();
        assert!(remove_entry(dir, name).unwrap());
        assert_eq!(read(dir), "# keep\n/other\n");
        assert!(!remove_entry(dir, name).unwrap());
    }

    #[test]
    fn remove_deletes_file_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        add_entry(dir, "a").unwrap();
        add_entry(dir, "b*").unwrap();
        assert!(remove_entry(dir, "a").unwrap());
        assert_eq!(read(dir), "/b\\*\n");
        assert!(remove_entry(dir, "b*").unwrap());
        assert!(!dir.join(".gitignore").exists());
        assert!(!remove_entry(dir, "b*").unwrap());
    }

    #[test]
    fn rejects_names_that_are_not_base_names() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["", ".", "..", "a/b"] {
            assert!(matches!(
                add_entry(tmp.path(), bad),
                Err(GitignoreError::InvalidName(_))
            ));
            assert!(matches!(
                remove_entry(tmp.path(), bad),
                Err(GitignoreError::InvalidName(_))
            ));
        }
        assert!(!tmp.path().join(".gitignore").exists());
    }
}
