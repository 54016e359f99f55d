//! Directory outputs known to be complete in the cache.
//!
//! Checking that every file of a large directory is in the cache costs one
//! `stat` per file. strix records the `.dir` ids for which it wrote or
//! verified every object, so `status` can skip that work. The record is a
//! hint in strix's private state (`.dvc/tmp/strix/complete-v1`, one oid per
//! line): the `.dir` object itself is still checked each time, and checkout
//! always verifies what it links.

use crate::oid::Oid;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The set of complete directory ids.
#[derive(Debug)]
pub struct CompleteDirs {
    path: PathBuf,
    set: Mutex<HashSet<Oid>>,
    dirty: AtomicBool,
}

impl CompleteDirs {
    /// Loads the set; unreadable lines are ignored.
    pub fn open(path: &Path) -> Self {
        let set = std::fs::read_to_string(path)
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default();
        Self {
            path: path.to_path_buf(),
            set: Mutex::new(set),
            dirty: AtomicBool::new(false),
        }
    }

    pub fn contains(&self, oid: &Oid) -> bool {
        self.set.lock().expect("complete lock").contains(oid)
    }

    pub fn insert(&self, oid: Oid) {
        if self.set.lock().expect("complete lock").insert(oid) {
            self.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Forgets every record (after objects were deleted from the cache).
    pub fn clear(&self) {
        self.set.lock().expect("complete lock").clear();
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Writes the set if it changed.
    pub fn save(&self) -> std::io::Result<()> {
        if !self.dirty.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let mut text = String::new();
        for oid in self.set.lock().expect("complete lock").iter() {
            text.push_str(&oid.to_string());
            text.push('\n');
        }
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        strix_fs::atomic_write(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c");
        let c = CompleteDirs::open(&p);
        let oid: Oid = "bf8385e2b15aea0801b306267fe382bc.dir".parse().unwrap();
        assert!(!c.contains(&oid));
        c.insert(oid);
        c.save().unwrap();
        assert!(CompleteDirs::open(&p).contains(&oid));
        std::fs::write(&p, "garbage\n").unwrap();
        assert!(!CompleteDirs::open(&p).contains(&oid));
    }
}
