//! `cache migrate`: the DVC 2.x objects of the cache (`xx/…` directly under
//! the cache directory, named by their `md5-dos2unix` hash) rehashed with
//! plain MD5 and stored in the DVC 3 layout (`files/md5/xx/…`), as
//! `dvc cache migrate` does: by a hard link to the same inode where the
//! filesystem allows, else by a verified copy. The 2.x objects stay.
//!
//! As in DVC, a `.dir` object is migrated as its bytes: its entries keep
//! their 2.x hashes, and it is stored under the MD5 of those bytes.

use crate::error::RepoError;
use crate::gc::{GcError, LocalObject, list_cache};
use crate::repo::Repo;
use rayon::prelude::*;
use std::path::PathBuf;
use strix_data::odb::OdbError;
use strix_data::{Layout, Oid, Progress};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    List(#[from] GcError),
    #[error("failed to hash the DVC 2.x object '{}'", .path.display())]
    Hash {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to store the DVC 2.x object '{}' in the DVC 3.0 cache", .path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: OdbError,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The DVC 2.x objects of the cache, which a migration rehashes.
pub fn legacy_objects(repo: &Repo) -> Result<Vec<LocalObject>, MigrateError> {
    Ok(list_cache(repo, Layout::Legacy)?)
}

/// Migrates every DVC 2.x object to the DVC 3 layout, hashing on all cores,
/// and makes the new names durable. Returns how many objects the DVC 3
/// layout did not have yet (DVC's "Migrated N files").
pub fn migrate(repo: &Repo, progress: &dyn Progress) -> Result<usize, MigrateError> {
    let objects = legacy_objects(repo)?;
    progress.start("Migrating to DVC 3.0 cache", Some(objects.len() as u64));
    let odb = repo.odb();
    let added: Result<Vec<bool>, MigrateError> = objects
        .par_iter()
        .map(|o| {
            let (md5, _) =
                strix_data::hash::md5_file(&o.path).map_err(|source| MigrateError::Hash {
                    path: o.path.clone(),
                    source,
                })?;
            let oid = Oid {
                md5,
                is_dir: o.oid.is_dir,
            };
            let new = odb
                .link_object(&o.path, &oid, Layout::V3)
                .map_err(|source| MigrateError::Store {
                    path: o.path.clone(),
                    source,
                })?;
            progress.inc(1);
            Ok(new)
        })
        .collect();
    progress.finish();
    let added = added?;
    repo.sync_cache()?;
    Ok(added.into_iter().filter(|&new| new).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use strix_data::NoProgress;

    fn put_legacy(repo: &Repo, name: &str, data: &[u8]) -> PathBuf {
        crate::testutil::put_raw(&repo.odb().root().join(&name[..2]).join(&name[2..]), data)
    }

    #[test]
    fn legacy_objects_are_rehashed_and_linked_into_the_v3_layout() {
        let (_dir, repo) = crate::testutil::scratch_repo();
        // A text file whose dos2unix hash differs from its MD5, a binary
        // file whose two hashes agree, and a `.dir` manifest.
        let text = b"a\r\nb\r\n";
        let legacy_text = strix_data::hash::md5_bytes(b"a\nb\n");
        let text_path = put_legacy(&repo, &legacy_text.to_hex(), text);
        let binary = b"\x00\x01\r\n";
        let binary_md5 = strix_data::hash::md5_bytes(binary);
        put_legacy(&repo, &binary_md5.to_hex(), binary);
        let manifest = br#"[{"md5": "00000000000000000000000000000000", "relpath": "x"}]"#;
        put_legacy(&repo, "0123456789abcdef0123456789abcdef.dir", manifest);
        // Not objects: left alone.
        put_legacy(&repo, "ab-not-an-object", b"junk");

        assert_eq!(legacy_objects(&repo).unwrap().len(), 3);
        assert_eq!(migrate(&repo, &NoProgress).unwrap(), 3);

        let v3 = |oid: Oid| repo.odb().path(&oid, Layout::V3);
        let text_obj = v3(Oid::file(strix_data::hash::md5_bytes(text)));
        assert_eq!(fs::read(&text_obj).unwrap(), text);
        assert_eq!(
            fs::metadata(&text_obj).unwrap().ino(),
            fs::metadata(&text_path).unwrap().ino(),
            "a hard link to the 2.x object"
        );
        assert_eq!(fs::metadata(&text_obj).unwrap().mode() & 0o777, 0o444);
        assert_eq!(
            fs::read(v3(Oid::file(binary_md5))).unwrap(),
            binary.as_slice()
        );
        let dir_obj = v3(Oid::dir(strix_data::hash::md5_bytes(manifest)));
        assert_eq!(fs::read(dir_obj).unwrap(), manifest.as_slice());
        assert!(text_path.exists(), "the 2.x object stays");

        // A second run finds everything migrated.
        assert_eq!(migrate(&repo, &NoProgress).unwrap(), 0);
    }
}
