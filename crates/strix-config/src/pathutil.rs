//! Lexical path helpers matching Python's `os.path` on POSIX, used to store
//! and resolve the path options of config files.

use std::path::{Component, Path, PathBuf};

/// Keys whose relative values are relative to the config file's directory,
/// as DVC's `Config._map_dirs` lists them, by section kind.
pub(crate) fn is_path_key(section: &[&str], key: &str) -> bool {
    match section {
        ["cache"] => key == "dir",
        ["remote", _] => matches!(
            key,
            "url"
                | "gdrive_user_credentials_file"
                | "gdrive_service_account_json_file_path"
                | "credentialpath"
                | "configpath"
                | "keyfile"
                | "cert_path"
                | "key_path"
        ),
        ["machine", _] => matches!(key, "startup_script" | "setup_script"),
        _ => false,
    }
}

/// Whether `s` starts with `\w+://`, i.e. is a URL rather than a path.
pub(crate) fn has_scheme(s: &str) -> bool {
    let word = s
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map(|(i, c)| i + c.len_utf8());
    matches!(word, Some(n) if s[n..].starts_with("://"))
}

/// `os.path.normpath` for paths (no filesystem access).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// `os.path.relpath(path, start)` for two absolute, normalized paths.
pub(crate) fn relpath(path: &Path, start: &Path) -> PathBuf {
    let p: Vec<_> = path.components().collect();
    let s: Vec<_> = start.components().collect();
    let common = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..s.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// `os.path.expanduser` for `~` and `~/...` (not `~user`).
pub(crate) fn expand_user(s: &str, home: Option<&Path>) -> Option<PathBuf> {
    let home = home?;
    if s == "~" {
        return Some(home.to_path_buf());
    }
    s.strip_prefix("~/").map(|rest| home.join(rest))
}

/// How a stored path option reads back: URLs and absolute paths as they
/// are, `~` expanded, anything else joined to the config file's directory.
pub(crate) fn resolve(conf_dir: &Path, value: &str, home: Option<&Path>) -> String {
    if has_scheme(value) || Path::new(value).is_absolute() {
        return value.to_string();
    }
    if let Some(expanded) = expand_user(value, home) {
        return expanded.to_string_lossy().into_owned();
    }
    normalize(&conf_dir.join(value))
        .to_string_lossy()
        .into_owned()
}

/// How a path option is stored when written: relative paths are re-based on
/// `conf_dir`, given relative to `base` (the cwd for values from the command
/// line, the config file's own directory for values read from it).
pub(crate) fn to_stored(conf_dir: &Path, base: &Path, value: &str) -> String {
    if has_scheme(value) || Path::new(value).is_absolute() || value.starts_with('~') {
        return value.to_string();
    }
    let abs = normalize(&base.join(value));
    relpath(&abs, &normalize(conf_dir))
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_detection() {
        assert!(has_scheme("s3://bucket/x"));
        assert!(has_scheme("remote://other/x"));
        assert!(!has_scheme("/abs/path"));
        assert!(!has_scheme("host:path"));
        assert!(!has_scheme("://x"));
    }

    #[test]
    fn stored_relative_to_config_dir() {
        let conf = Path::new("/repo/.dvc");
        assert_eq!(to_stored(conf, Path::new("/repo"), "../rel"), "../../rel");
        assert_eq!(
            to_stored(conf, Path::new("/repo/.dvc"), "x/./y/../z/"),
            "x/z"
        );
        assert_eq!(to_stored(conf, Path::new("/repo"), ".dvc"), ".");
        assert_eq!(to_stored(conf, Path::new("/repo"), "/abs/p"), "/abs/p");
        assert_eq!(to_stored(conf, Path::new("/repo"), "~/p"), "~/p");
        assert_eq!(
            to_stored(conf, Path::new("/repo"), "ssh://h/p"),
            "ssh://h/p"
        );
    }

    #[test]
    fn resolved_against_config_dir() {
        let conf = Path::new("/repo/.dvc");
        assert_eq!(resolve(conf, "../../x", None), "/x");
        assert_eq!(resolve(conf, "cache", None), "/repo/.dvc/cache");
        assert_eq!(
            resolve(conf, "~/c", Some(Path::new("/home/u"))),
            "/home/u/c"
        );
        assert_eq!(resolve(conf, "gs://b", None), "gs://b");
    }
}
