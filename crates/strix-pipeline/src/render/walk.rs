//! The order DVC finds its metafiles in, which is the order of its graph's
//! nodes (and so of `dag`'s output): DVC walks the repository top-down with
//! `os.walk`, files of a directory before its subdirectories, entries in
//! the order the directory lists them (not sorted). Reading the same
//! directories gives the same order here.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// One step of a path in walk order: files come before subdirectories,
/// then by position in the directory listing, then (for entries the listing
/// lacks) by name.
type Step = (bool, usize, OsString);

/// Indices of `files` (paths relative to `root`) in DVC's walk order.
pub fn walk_order(root: &Path, files: &[&Path]) -> Vec<usize> {
    let mut listings: HashMap<PathBuf, HashMap<OsString, usize>> = HashMap::new();
    let mut position = |dir: &Path, name: &OsString| -> usize {
        let listing = listings.entry(dir.to_path_buf()).or_insert_with(|| {
            std::fs::read_dir(root.join(dir))
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .enumerate()
                        .map(|(i, e)| (e.file_name(), i))
                        .collect()
                })
                .unwrap_or_default()
        });
        listing.get(name).copied().unwrap_or(usize::MAX)
    };
    let keys: Vec<Vec<Step>> = files
        .iter()
        .map(|file| {
            let names: Vec<OsString> = file
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                })
                .collect();
            let mut dir = PathBuf::new();
            let mut key = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let is_dir = i + 1 < names.len();
                key.push((is_dir, position(&dir, name), name.clone()));
                dir.push(name);
            }
            key
        })
        .collect();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_before_subdirectories_in_listing_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "b.dvc",
            "dvc.yaml",
            "a.dvc",
            "sub/z.dvc",
            "sub/deeper/y.dvc",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let listed: Vec<OsString> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "sub")
            .collect();
        let files = [
            "sub/deeper/y.dvc",
            "a.dvc",
            "sub/z.dvc",
            "dvc.yaml",
            "b.dvc",
        ];
        let paths: Vec<&Path> = files.iter().map(Path::new).collect();
        let got: Vec<&str> = walk_order(root, &paths)
            .into_iter()
            .map(|i| files[i])
            .collect();
        // The root's files in the order the directory lists them, then sub/.
        let top: Vec<&str> = got[..3].to_vec();
        let want: Vec<&str> = listed.iter().map(|n| n.to_str().unwrap()).collect();
        assert_eq!(top, want);
        assert_eq!(got[3..], ["sub/z.dvc", "sub/deeper/y.dvc"]);
    }

    #[test]
    fn unreadable_directories_fall_back_to_names() {
        let files = [Path::new("raw.txt.dvc"), Path::new("dvc.yaml")];
        assert_eq!(walk_order(Path::new("/nonexistent/strix"), &files), [1, 0]);
    }
}
