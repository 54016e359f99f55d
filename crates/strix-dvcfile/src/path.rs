//! Lexical safety checks for paths read from untrusted metafiles.

/// Why a path from a metafile was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// The path is the empty string.
    #[error("the path is empty")]
    Empty,
    /// The path contains a NUL byte.
    #[error("the path contains a NUL byte")]
    ContainsNul,
    /// The path is absolute (`/x`, `\x`, `C:x`) or a URL.
    #[error("the path must be relative")]
    NotRelative,
    /// `..` components lead outside the directory the path is relative to.
    #[error("the path leads outside its base directory via `..`")]
    EscapesBase,
}

/// Checks that `path` is a non-empty relative path that stays inside its base
/// directory. Both `/` and `\` count as separators (a `\` is a separator on
/// Windows, so it is treated as one everywhere). `a/../b` is accepted; `../b` and
/// `a/../../b` are not.
pub fn check_relative_path(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.contains('\0') {
        return Err(PathProblem::ContainsNul);
    }
    if path.starts_with(['/', '\\']) || path.contains("://") {
        return Err(PathProblem::NotRelative);
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(PathProblem::NotRelative);
    }
    let mut depth: usize = 0;
    for comp in path.split(['/', '\\']) {
        match comp {
            "" | "." => {}
            ".." => depth = depth.checked_sub(1).ok_or(PathProblem::EscapesBase)?,
            _ => depth += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        for p in [
            "a",
            "a/b",
            "./a",
            "a/../b",
            "data/",
            "ünï.txt",
            "a b",
            "...",
            "..a",
        ] {
            assert_eq!(check_relative_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_unsafe_paths() {
        use PathProblem::*;
        let cases = [
            ("", Empty),
            ("a\0b", ContainsNul),
            ("/etc/passwd", NotRelative),
            ("\\\\server\\share", NotRelative),
            ("C:/x", NotRelative),
            ("c:x", NotRelative),
            ("s3://bucket/x", NotRelative),
            ("..", EscapesBase),
            ("../x", EscapesBase),
            ("a/../../x", EscapesBase),
            ("a\\..\\..\\x", EscapesBase),
            ("./..", EscapesBase),
        ];
        for (p, want) in cases {
            assert_eq!(check_relative_path(p), Err(want), "{p:?}");
        }
    }
}
