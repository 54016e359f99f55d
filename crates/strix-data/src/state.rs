//! strix's own state database: which content hash a file had when its
//! (device, inode, mtime, size) were last seen, so unchanged files are never
//! hashed twice. It is separate from DVC's site-cache state and only a hint:
//! a missing, stale or corrupt database costs a rehash, never a failure.
//!
//! On-disk format (`.dvc/tmp/strix/state-v3`, little endian):
//!
//! ```text
//! magic   "STRIXSTATE\x00\x03"          12 bytes
//! boot    [u8; 16]                      the kernel's boot id at the save
//! flags   u64                           bit 0: vouches for unflushed data
//! count   u64                           number of records
//! records count × 56 bytes, sorted by (dev, ino, kind):
//!         dev u64, ino u64, kind u64, a u64, b u64, md5 [u8; 16]
//!         kind 0 = md5, 1 = md5-dos2unix of a file: a = mtime_ns, b = size
//!         kind 2 = md5, 3 = md5-dos2unix of a directory (the `.dir` hash):
//!         a, b = low and high halves of the listing's fingerprint
//! check   u64                           XXH3-64 of every byte before it
//! ```
//!
//! The file is replaced atomically on save, without a flush: after a crash
//! it is the old file, the new one, or one that fails its checksum.
//!
//! A record is only written for a file whose mtime is older than
//! [`RACY_WINDOW_NS`], so a write that lands in the same timestamp tick as
//! our read cannot be mistaken for unchanged content ("racy" entries are
//! simply rehashed next time). A directory is recorded only when none of its
//! files is racy.
//!
//! Records for bytes strix wrote itself without flushing them (files placed
//! by `checkout`, objects downloaded by `fetch`: see
//! [`StateDb::insert_trusted`]) would vouch for garbage after a power loss,
//! when the file kept its stat but not its data. Flushing would make every
//! checkout wait for the disk; instead such a save sets flag bit 0 and
//! records the boot id. A database loaded in another boot with that bit set
//! is dropped (everything is rehashed once), so a record never outlives a
//! crash that its data may not have survived. A later flush of the whole
//! filesystem ([`StateDb::mark_durable`]) clears the bit.
//!
//! A directory's fingerprint ([`DirFingerprint`]) covers the relative path,
//! device, inode, mtime and size of every file listed in it, so any added,
//! removed, renamed, replaced or modified file changes it; with the record
//! keyed by the directory's own inode, an unchanged directory's `.dir` hash
//! is known without a per-file lookup or rebuilding its manifest.

use crate::hash::HashKind;
use crate::oid::Md5;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

const MAGIC: &[u8; 12] = b"STRIXSTATE\x00\x03";
const REC: usize = 56;
/// Magic, boot id, flags, count.
const HEADER: usize = 44;
/// Flag bit: some record vouches for data that was not flushed.
const UNSYNCED: u64 = 1;
/// Files modified this recently (ns) are not recorded.
pub const RACY_WINDOW_NS: i64 = 100_000_000;

/// The identity of a file's content as far as the filesystem tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub mtime_ns: i64,
    pub size: u64,
}

impl FileStat {
    pub fn from_metadata(m: &fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            size: m.size(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Rec {
    key: (u64, u64, u64),
    mtime_ns: i64,
    size: u64,
    md5: Md5,
}

fn kind_code(kind: HashKind) -> u64 {
    match kind {
        HashKind::Md5 => 0,
        HashKind::Md5Dos2Unix => 1,
    }
}

/// Record kind of a directory hashed with `kind`.
fn dir_kind_code(kind: HashKind) -> u64 {
    kind_code(kind) + 2
}

fn checksum(data: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(data)
}

/// An order-independent fingerprint of a directory listing: the wrapping
/// sum of an XXH3-128 per file over (relpath, dev, ino, mtime, size), plus
/// the file count. Adding, removing, renaming or touching any file changes
/// it (up to a 2^-128 chance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirFingerprint {
    sum: u128,
    count: u64,
    /// The newest mtime seen, to refuse recording a racy listing.
    newest_mtime_ns: i64,
}

impl DirFingerprint {
    /// Adds one listed file.
    pub fn add(&mut self, relpath: &str, st: &FileStat) {
        let mut tail = [0u8; 33];
        tail[1..9].copy_from_slice(&st.dev.to_le_bytes());
        tail[9..17].copy_from_slice(&st.ino.to_le_bytes());
        tail[17..25].copy_from_slice(&st.mtime_ns.to_le_bytes());
        tail[25..33].copy_from_slice(&st.size.to_le_bytes());
        let h = if relpath.len() <= 223 {
            let mut buf = [0u8; 256];
            buf[..relpath.len()].copy_from_slice(relpath.as_bytes());
            buf[relpath.len()..relpath.len() + 33].copy_from_slice(&tail);
            xxhash_rust::xxh3::xxh3_128(&buf[..relpath.len() + 33])
        } else {
            xxhash_rust::xxh3::xxh3_128(&[relpath.as_bytes(), &tail].concat())
        };
        self.sum = self.sum.wrapping_add(h);
        self.count += 1;
        self.newest_mtime_ns = self.newest_mtime_ns.max(st.mtime_ns);
    }

    /// Adds a file strix has just written itself (a checkout): it is not
    /// racy for the listing, as its own record is trusted (see
    /// [`StateDb::insert_trusted`]), so its mtime does not count towards
    /// the racy-window check.
    pub fn add_written(&mut self, relpath: &str, st: &FileStat) {
        let newest = self.newest_mtime_ns;
        self.add(relpath, st);
        self.newest_mtime_ns = newest;
    }

    /// Takes in another part of the same listing.
    pub fn merge(&mut self, other: &Self) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.count += other.count;
        self.newest_mtime_ns = self.newest_mtime_ns.max(other.newest_mtime_ns);
    }

    /// The two 64-bit halves stored in a record.
    fn halves(&self) -> (u64, u64) {
        let v = self.sum ^ (u128::from(self.count) << 64).rotate_left(17);
        (v as u64, (v >> 64) as u64)
    }
}

/// The loaded state database. The file's bytes are kept as they are read
/// and searched in place (records are fixed-size and sorted), so loading a
/// million records costs one read and no decoding.
#[derive(Debug)]
pub struct StateDb {
    path: PathBuf,
    /// The whole validated file, or empty.
    bytes: Vec<u8>,
    count: usize,
    added: Mutex<Vec<Rec>>,
    /// Records of [`StateDb::insert_verified`], which [`StateDb::get`]
    /// sees at once (other new records only after a save and reload).
    verified: RwLock<HashMap<(u64, u64, u64), Rec>>,
    any_verified: AtomicBool,
    now_ns: i64,
    /// This boot's id (zeros where the kernel does not tell).
    boot: [u8; 16],
    /// Some record (loaded or new) vouches for data not known to be on
    /// disk.
    unsynced: AtomicBool,
    /// The file must be rewritten even without new records (it was
    /// dropped, or its flag changed).
    rewrite: AtomicBool,
}

/// The kernel's id of the current boot (`/proc/sys/kernel/random/boot_id`),
/// or zeros.
fn current_boot_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    if let Ok(text) = fs::read_to_string("/proc/sys/kernel/random/boot_id") {
        let hex: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        if hex.len() == 32 {
            for (i, pair) in hex.chunks(2).enumerate() {
                let s = std::str::from_utf8(pair).unwrap_or("00");
                id[i] = u8::from_str_radix(s, 16).unwrap_or(0);
            }
        }
    }
    id
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

impl StateDb {
    /// Loads the database at `path`. A missing or corrupt file gives an empty
    /// database (and the corrupt file is replaced on the next save).
    pub fn open(path: &Path) -> Self {
        Self::open_in_boot(path, current_boot_id())
    }

    /// [`StateDb::open`] as if the current boot had the id `boot`.
    fn open_in_boot(path: &Path, boot: [u8; 16]) -> Self {
        let (mut bytes, mut count) = fs::read(path)
            .ok()
            .and_then(|b| Self::validate(&b).map(|n| (b, n)))
            .unwrap_or_default();
        let mut unsynced = false;
        let mut rewrite = false;
        if !bytes.is_empty() && u64_at(&bytes, 28) & UNSYNCED != 0 {
            if bytes[12..28] == boot {
                unsynced = true;
            } else {
                // Saved before a reboot while vouching for unflushed data.
                (bytes, count) = (Vec::new(), 0);
                rewrite = true;
            }
        }
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(i64::MAX);
        Self {
            path: path.to_path_buf(),
            bytes,
            count,
            added: Mutex::new(Vec::new()),
            verified: RwLock::new(HashMap::new()),
            any_verified: AtomicBool::new(false),
            now_ns,
            boot,
            unsynced: AtomicBool::new(unsynced),
            rewrite: AtomicBool::new(rewrite),
        }
    }

    /// Says that everything written so far is on disk (a `syncfs` of the
    /// filesystem holding the workspace and the cache just returned): the
    /// records need not be dropped after a reboot.
    pub fn mark_durable(&self) {
        if self.unsynced.swap(false, Ordering::AcqRel) {
            self.rewrite.store(true, Ordering::Release);
        }
    }

    /// A database that is never saved (for tests and read-only runs).
    pub fn in_memory() -> Self {
        Self::open(Path::new("/nonexistent/strix-state"))
    }

    /// Checks magic, length, checksum and order; returns the record count.
    fn validate(b: &[u8]) -> Option<usize> {
        if b.len() < HEADER + 8 || &b[..12] != MAGIC {
            return None;
        }
        let count = u64::from_le_bytes(b[36..HEADER].try_into().ok()?) as usize;
        let body_end = HEADER.checked_add(count.checked_mul(REC)?)?;
        if b.len() != body_end + 8 {
            return None;
        }
        let check = u64::from_le_bytes(b[body_end..].try_into().ok()?);
        if checksum(&b[..body_end]) != check {
            return None;
        }
        let key_at = |i: usize| {
            let o = HEADER + i * REC;
            (u64_at(b, o), u64_at(b, o + 8), u64_at(b, o + 16))
        };
        if (1..count).any(|i| key_at(i - 1) >= key_at(i)) {
            return None;
        }
        Some(count)
    }

    fn rec(&self, i: usize) -> Rec {
        let b = &self.bytes;
        let o = HEADER + i * REC;
        Rec {
            key: (u64_at(b, o), u64_at(b, o + 8), u64_at(b, o + 16)),
            mtime_ns: u64_at(b, o + 24) as i64,
            size: u64_at(b, o + 32),
            md5: Md5(b[o + 40..o + 56].try_into().expect("16 bytes")),
        }
    }

    fn find(&self, key: (u64, u64, u64)) -> Option<Rec> {
        let (mut lo, mut hi) = (0usize, self.count);
        let b = &self.bytes;
        while lo < hi {
            let mid = (lo + hi) / 2;
            let o = HEADER + mid * REC;
            let k = (u64_at(b, o), u64_at(b, o + 8), u64_at(b, o + 16));
            match k.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.rec(mid)),
            }
        }
        None
    }

    /// Number of records loaded from disk.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The recorded hash of a file, if its stat still matches.
    pub fn get(&self, st: &FileStat, kind: HashKind) -> Option<Md5> {
        let key = (st.dev, st.ino, kind_code(kind));
        let matches = |r: &Rec| r.mtime_ns == st.mtime_ns && r.size == st.size;
        if let Some(r) = self.find(key)
            && matches(&r)
        {
            return Some(r.md5);
        }
        if !self.any_verified.load(Ordering::Acquire) {
            return None;
        }
        let verified = self.verified.read().expect("state lock");
        verified.get(&key).filter(|r| matches(r)).map(|r| r.md5)
    }

    /// The recorded `.dir` hash of the directory `dir` if its listing still
    /// has this fingerprint.
    pub fn get_dir(&self, dir: &FileStat, kind: HashKind, fp: &DirFingerprint) -> Option<Md5> {
        let r = self.find((dir.dev, dir.ino, dir_kind_code(kind)))?;
        let (a, b) = fp.halves();
        (r.mtime_ns as u64 == a && r.size == b).then_some(r.md5)
    }

    /// Records the `.dir` hash of a directory listing (ignored when any of
    /// its files was modified too recently).
    pub fn insert_dir(&self, dir: &FileStat, kind: HashKind, fp: &DirFingerprint, md5: Md5) {
        if fp.newest_mtime_ns > self.now_ns - RACY_WINDOW_NS
            || self.get_dir(dir, kind, fp) == Some(md5)
        {
            return;
        }
        let (a, b) = fp.halves();
        self.added.lock().expect("state lock").push(Rec {
            key: (dir.dev, dir.ino, dir_kind_code(kind)),
            mtime_ns: a as i64,
            size: b,
            md5,
        });
    }

    /// Records a file's hash (ignored for files modified too recently).
    pub fn insert(&self, st: &FileStat, kind: HashKind, md5: Md5) {
        if st.mtime_ns > self.now_ns - RACY_WINDOW_NS {
            return;
        }
        if self.get(st, kind) == Some(md5) {
            return;
        }
        let rec = Rec {
            key: (st.dev, st.ino, kind_code(kind)),
            mtime_ns: st.mtime_ns,
            size: st.size,
            md5,
        };
        self.added.lock().expect("state lock").push(rec);
    }

    /// Records a hash without the racy-window check, for files that strix
    /// itself wrote or verified (cache objects are immutable, mode 0444).
    /// Their bytes may not be on disk yet: the saved database is marked so
    /// (see the module documentation).
    pub fn insert_trusted(&self, st: &FileStat, kind: HashKind, md5: Md5) {
        if !self.unsynced.swap(true, Ordering::AcqRel) {
            self.rewrite.store(true, Ordering::Release);
        }
        if self.get(st, kind) == Some(md5) {
            return;
        }
        self.added.lock().expect("state lock").push(Rec {
            key: (st.dev, st.ino, kind_code(kind)),
            mtime_ns: st.mtime_ns,
            size: st.size,
            md5,
        });
    }

    /// [`StateDb::insert_trusted`] for a cache object this process has
    /// just written and verified (a download): [`StateDb::get`] knows it
    /// at once, so a checkout in the same run does not hash it again.
    pub fn insert_verified(&self, st: &FileStat, kind: HashKind, md5: Md5) {
        self.insert_trusted(st, kind, md5);
        let rec = Rec {
            key: (st.dev, st.ino, kind_code(kind)),
            mtime_ns: st.mtime_ns,
            size: st.size,
            md5,
        };
        self.verified
            .write()
            .expect("state lock")
            .insert(rec.key, rec);
        self.any_verified.store(true, Ordering::Release);
    }

    /// Whether anything was recorded since loading.
    pub fn is_dirty(&self) -> bool {
        self.rewrite.load(Ordering::Acquire) || !self.added.lock().expect("state lock").is_empty()
    }

    /// Merges new records and replaces the file atomically.
    pub fn save(&mut self) -> io::Result<()> {
        let mut added = std::mem::take(&mut *self.added.lock().expect("state lock"));
        if added.is_empty() && !self.rewrite.load(Ordering::Acquire) {
            return Ok(());
        }
        added.sort_by_key(|r| r.key);
        added.dedup_by(|later, earlier| {
            // keep the last inserted for a key
            if later.key == earlier.key {
                *earlier = *later;
                true
            } else {
                false
            }
        });
        // Merge the old records (read in place) with the new ones straight
        // into the output buffer.
        let mut out = Vec::with_capacity(HEADER + 8 + (self.count + added.len()) * REC);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.boot);
        let flags = if self.unsynced.load(Ordering::Acquire) {
            UNSYNCED
        } else {
            0
        };
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        let push = |out: &mut Vec<u8>, r: &Rec| {
            out.extend_from_slice(&r.key.0.to_le_bytes());
            out.extend_from_slice(&r.key.1.to_le_bytes());
            out.extend_from_slice(&r.key.2.to_le_bytes());
            out.extend_from_slice(&(r.mtime_ns as u64).to_le_bytes());
            out.extend_from_slice(&r.size.to_le_bytes());
            out.extend_from_slice(&r.md5.0);
        };
        let (mut i, mut j, mut n) = (0, 0, 0u64);
        while i < self.count || j < added.len() {
            let old = (i < self.count).then(|| self.rec(i));
            match (old, added.get(j)) {
                (Some(o), Some(a)) if o.key < a.key => {
                    push(&mut out, &o);
                    i += 1;
                }
                (Some(o), Some(a)) => {
                    if o.key == a.key {
                        i += 1;
                    }
                    push(&mut out, a);
                    j += 1;
                }
                (Some(o), None) => {
                    push(&mut out, &o);
                    i += 1;
                }
                (None, Some(a)) => {
                    push(&mut out, a);
                    j += 1;
                }
                (None, None) => break,
            }
            n += 1;
        }
        drop(added);
        out[36..HEADER].copy_from_slice(&n.to_le_bytes());
        let check = checksum(&out);
        out.extend_from_slice(&check.to_le_bytes());
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)?;
        }
        // Not flushed: a database cut short by a crash fails its checksum
        // and is rebuilt, and one that vouches for unflushed workspace data
        // is dropped in the next boot (see the module documentation), so
        // no command waits for tens of megabytes to reach the disk.
        let mut f = strix_fs::AtomicFile::create(&self.path, 0o644, false)?;
        f.write_all(&out)?;
        f.commit()?;
        self.count = n as usize;
        self.bytes = out;
        self.rewrite.store(false, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(ino: u64, mtime_ns: i64) -> FileStat {
        FileStat {
            dev: 1,
            ino,
            mtime_ns,
            size: 10,
        }
    }

    #[test]
    fn roundtrip_and_stat_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        let mut db = StateDb::open(&p);
        db.insert(&st(5, 1000), HashKind::Md5, Md5([1; 16]));
        db.insert(&st(3, 1000), HashKind::Md5, Md5([2; 16]));
        db.insert(&st(3, 1000), HashKind::Md5Dos2Unix, Md5([3; 16]));
        db.save().unwrap();
        let mut db = StateDb::open(&p);
        assert_eq!(db.len(), 3);
        assert_eq!(db.get(&st(5, 1000), HashKind::Md5), Some(Md5([1; 16])));
        assert_eq!(
            db.get(&st(3, 1000), HashKind::Md5Dos2Unix),
            Some(Md5([3; 16]))
        );
        assert_eq!(db.get(&st(5, 1001), HashKind::Md5), None);
        db.insert(&st(5, 2000), HashKind::Md5, Md5([9; 16]));
        db.save().unwrap();
        let db = StateDb::open(&p);
        assert_eq!(db.len(), 3);
        assert_eq!(db.get(&st(5, 2000), HashKind::Md5), Some(Md5([9; 16])));
    }

    #[test]
    fn corrupt_file_is_ignored_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        let mut db = StateDb::open(&p);
        db.insert(&st(5, 1000), HashKind::Md5, Md5([1; 16]));
        db.save().unwrap();
        let mut bytes = fs::read(&p).unwrap();
        bytes[HEADER + 2] ^= 0xff;
        fs::write(&p, &bytes).unwrap();
        let mut db = StateDb::open(&p);
        assert!(db.is_empty());
        db.insert(&st(6, 1000), HashKind::Md5, Md5([1; 16]));
        db.save().unwrap();
        assert_eq!(StateDb::open(&p).len(), 1);
        fs::write(&p, b"garbage").unwrap();
        assert!(StateDb::open(&p).is_empty());
    }

    #[test]
    fn verified_records_are_seen_before_a_save() {
        let db = StateDb::in_memory();
        db.insert_trusted(&st(1, 1000), HashKind::Md5, Md5([1; 16]));
        assert_eq!(db.get(&st(1, 1000), HashKind::Md5), None);
        db.insert_verified(&st(2, 1000), HashKind::Md5, Md5([2; 16]));
        assert_eq!(db.get(&st(2, 1000), HashKind::Md5), Some(Md5([2; 16])));
        // Only for the same stat and kind.
        assert_eq!(db.get(&st(2, 1001), HashKind::Md5), None);
        assert_eq!(db.get(&st(2, 1000), HashKind::Md5Dos2Unix), None);
        assert!(db.is_dirty());
    }

    #[test]
    fn unflushed_records_do_not_survive_a_reboot() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        let (boot, other) = ([1u8; 16], [2u8; 16]);
        // Hashes of files read: kept across boots.
        let mut db = StateDb::open_in_boot(&p, boot);
        db.insert(&st(1, 1000), HashKind::Md5, Md5([1; 16]));
        db.save().unwrap();
        let db = StateDb::open_in_boot(&p, other);
        assert_eq!(db.get(&st(1, 1000), HashKind::Md5), Some(Md5([1; 16])));
        assert!(!db.is_dirty());

        // A file strix wrote without flushing: kept in the same boot only.
        let mut db = StateDb::open_in_boot(&p, boot);
        db.insert_trusted(&st(2, 1000), HashKind::Md5, Md5([2; 16]));
        db.save().unwrap();
        let mut same = StateDb::open_in_boot(&p, boot);
        assert_eq!(same.len(), 2);
        assert!(!same.is_dirty());
        let mut after = StateDb::open_in_boot(&p, other);
        assert!(after.is_empty(), "every record dropped after a reboot");
        assert!(after.is_dirty(), "the dropped file is rewritten");
        after.save().unwrap();
        let again = StateDb::open_in_boot(&p, boot);
        assert!(again.is_empty() && !again.is_dirty());

        // A flush of everything clears the mark.
        same.mark_durable();
        assert!(same.is_dirty());
        same.save().unwrap();
        let kept = StateDb::open_in_boot(&p, other);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept.get(&st(2, 1000), HashKind::Md5), Some(Md5([2; 16])));
    }

    #[test]
    fn racy_entries_are_not_recorded() {
        let db = StateDb::in_memory();
        let now = db.now_ns;
        db.insert(&st(1, now), HashKind::Md5, Md5([1; 16]));
        assert!(!db.is_dirty());
    }
}
