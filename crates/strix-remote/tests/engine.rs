//! The transfer engine against a local-folder remote.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Mutex;
use strix_data::hash::md5_bytes;
use strix_data::{Entry, Layout, Manifest, NoProgress, Odb, Oid};
use strix_remote::{
    Backend, BackendError, DirObject, LocalBackend, ObjectRef, SizedKeys, Transfer, TransferError,
    object_key,
};

struct Fixture {
    _tmp: tempfile::TempDir,
    odb: Odb,
    remote: LocalBackend,
    files: Vec<ObjectRef>,
    dir: DirObject,
}

fn put(odb: &Odb, data: &[u8]) -> ObjectRef {
    let oid = Oid::file(md5_bytes(data));
    odb.put_bytes(&oid, Layout::V3, data).unwrap();
    ObjectRef::v3(oid)
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let odb = Odb::new(tmp.path().join("cache"), false);
    let single = put(&odb, b"single file\n");
    let a = put(&odb, b"a\n");
    let b = put(&odb, b"b\n");
    let manifest = Manifest::from_entries(vec![
        Entry {
            relpath: "a".into(),
            md5: a.oid.md5,
        },
        Entry {
            relpath: "sub/b".into(),
            md5: b.oid.md5,
        },
    ]);
    let dir_oid = manifest.oid();
    odb.put_bytes(&dir_oid, Layout::V3, &manifest.to_bytes())
        .unwrap();
    let remote = LocalBackend::new(tmp.path().join("remote"));
    Fixture {
        odb,
        remote,
        files: vec![single],
        dir: DirObject {
            obj: ObjectRef::v3(dir_oid),
            members: vec![a, b],
        },
        _tmp: tmp,
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn no_temporaries(dir: &Path) {
    for key in walk(dir) {
        assert!(!key.ends_with(".tmp"), "temporary left behind: {key}");
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn push_then_fetch_roundtrip_in_dvc_layout() {
    let f = fixture();
    let t = Transfer::new(&f.remote, &f.odb, Some(4));
    let report = t
        .push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.uploaded, 4);
    // DVC's layout, read-only objects.
    let dir_path = f
        .remote
        .root()
        .join("files/md5")
        .join(&f.dir.obj.oid.to_string()[..2])
        .join(&f.dir.obj.oid.to_string()[2..]);
    assert!(dir_path.to_string_lossy().ends_with(".dir"));
    for o in f.files.iter().chain(&f.dir.members).chain([&f.dir.obj]) {
        let p = f.remote.path(&object_key(o));
        assert_eq!(
            fs::read(&p).unwrap(),
            fs::read(f.odb.path(&o.oid, Layout::V3)).unwrap()
        );
        assert_eq!(mode(&p), 0o444);
    }
    no_temporaries(f.remote.root());
    // A second push has nothing to do.
    let again = t
        .push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert_eq!(again.uploaded, 0);
    let mut listed = f.remote.list("files/md5").unwrap();
    listed.sort();
    assert_eq!(listed.len(), 4);

    // Fetch into an empty cache.
    let tmp2 = tempfile::tempdir().unwrap();
    let odb2 = Odb::new(tmp2.path().join("cache"), false);
    let t2 = Transfer::new(&f.remote, &odb2, Some(2));
    let mut all = f.files.clone();
    all.push(f.dir.obj);
    all.extend(&f.dir.members);
    let fr = t2.fetch(&all, &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 4);
    assert!(fr.missing.is_empty() && fr.failed.is_empty());
    for o in &all {
        let p = odb2.path(&o.oid, Layout::V3);
        assert_eq!(mode(&p), 0o444);
        odb2.verify(&o.oid, Layout::V3).unwrap();
    }
    no_temporaries(odb2.root());
    // Objects the remote lacks are reported missing.
    let ghost = ObjectRef::v3(Oid::file(md5_bytes(b"nowhere")));
    let fr = t2.fetch(&[ghost], &NoProgress).unwrap();
    assert_eq!(fr.missing, vec![ghost]);
    assert!(!odb2.exists(&ghost.oid, Layout::V3));
}

#[test]
fn failed_upload_leaves_no_object_under_its_final_name() {
    let f = fixture();
    // A directory as the source: open succeeds, reading fails mid-upload.
    let src = f.odb.root().join("not-a-file");
    fs::create_dir_all(&src).unwrap();
    let err = f.remote.upload(&src, "files/md5/ab/cdef").unwrap_err();
    assert!(matches!(err, BackendError::Io { .. }), "{err:?}");
    assert!(!f.remote.exists("files/md5/ab/cdef").unwrap());
    no_temporaries(f.remote.root());
    // A temporary left by a killed upload is never taken for an object.
    let key = object_key(&f.files[0]);
    let final_path = f.remote.path(&key);
    fs::create_dir_all(final_path.parent().unwrap()).unwrap();
    let tmp = strix_fs::temp_path_in(final_path.parent().unwrap());
    fs::File::create(&tmp)
        .unwrap()
        .write_all(b"single f")
        .unwrap();
    assert!(!f.remote.exists(&key).unwrap());
    assert!(f.remote.list("").unwrap().is_empty());
    let t = Transfer::new(&f.remote, &f.odb, None);
    let has = t.remote_has(&f.files, &NoProgress).unwrap();
    assert!(has.is_empty());
}

#[test]
fn corrupted_remote_object_is_refused() {
    let f = fixture();
    let t = Transfer::new(&f.remote, &f.odb, Some(2));
    t.push(&f.files, &[], &NoProgress).unwrap();
    let obj = f.files[0];
    let p = f.remote.path(&object_key(&obj));
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&p, b"tampered\n").unwrap();

    let tmp2 = tempfile::tempdir().unwrap();
    let odb2 = Odb::new(tmp2.path().join("cache"), false);
    let t2 = Transfer::new(&f.remote, &odb2, Some(2));
    let fr = t2.fetch(&[obj], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 0);
    assert_eq!(fr.failed.len(), 1);
    match &fr.failed[0] {
        (o, TransferError::Corrupted { oid, actual }) => {
            assert_eq!(*o, obj);
            assert_eq!(*oid, obj.oid);
            assert_eq!(*actual, md5_bytes(b"tampered\n"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!odb2.exists(&obj.oid, Layout::V3));
    no_temporaries(odb2.root());
    assert!(matches!(
        t2.read_remote(&obj),
        Err(TransferError::Corrupted { .. })
    ));
}

#[test]
fn large_objects_from_a_local_remote_are_verified() {
    let f = fixture();
    let data: Vec<u8> = (0..(5 << 20) + 3).map(|i| (i * 31 % 251) as u8).collect();
    let big = put(&f.odb, &data);
    let t = Transfer::new(&f.remote, &f.odb, Some(2));
    t.push(&[big], &[], &NoProgress).unwrap();

    let tmp2 = tempfile::tempdir().unwrap();
    let odb2 = Odb::new(tmp2.path().join("cache"), false);
    let t2 = Transfer::new(&f.remote, &odb2, Some(2));
    let fr = t2.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 1);
    let p = odb2.path(&big.oid, Layout::V3);
    assert_eq!(fs::read(&p).unwrap(), data);
    assert_eq!(mode(&p), 0o444);
    // The stat reported for the state database is the object's.
    assert_eq!(fr.verified.len(), 1);
    assert_eq!(fr.verified[0].0, big);
    assert_eq!(
        fr.verified[0].1,
        strix_data::FileStat::from_metadata(&fs::metadata(&p).unwrap())
    );

    // One byte changed on the remote: refused, nothing left in the cache.
    let tmp3 = tempfile::tempdir().unwrap();
    let odb3 = Odb::new(tmp3.path().join("cache"), false);
    let rp = f.remote.path(&object_key(&big));
    fs::set_permissions(&rp, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bad = data.clone();
    bad[4 << 20] ^= 1;
    fs::write(&rp, &bad).unwrap();
    let t3 = Transfer::new(&f.remote, &odb3, Some(2));
    let fr = t3.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 0);
    assert!(
        matches!(&fr.failed[..], [(o, TransferError::Corrupted { actual, .. })] if *o == big && *actual == md5_bytes(&bad)),
        "{:?}",
        fr.failed
    );
    assert!(fr.verified.is_empty());
    assert!(!odb3.exists(&big.oid, Layout::V3));
    no_temporaries(odb3.root());
}

#[test]
fn a_dir_on_the_remote_vouches_for_its_files() {
    let f = fixture();
    let rec = Recording {
        inner: f.remote.clone(),
        log: Mutex::new(Vec::new()),
    };
    let t = Transfer::new(&rec, &f.odb, Some(2));
    t.push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    rec.log.lock().unwrap().clear();
    // Only the `.dir` and the single file are asked about.
    let has = t
        .remote_has_tree(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert_eq!(has.len(), 4);
    let mut asked = rec.log.lock().unwrap().clone();
    asked.sort();
    let mut want = vec![
        format!("exists {}", object_key(&f.files[0])),
        format!("exists {}", object_key(&f.dir.obj)),
    ];
    want.sort();
    assert_eq!(asked, want);
    // As in DVC, a file removed from the remote behind strix's back is not
    // noticed while its `.dir` is there...
    let b = f.dir.members[1];
    fs::remove_file(f.remote.path(&object_key(&b))).unwrap();
    let again = t
        .push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert_eq!(again.uploaded, 0);
    // ...and once the `.dir` is gone too, the push sends both again.
    fs::remove_file(f.remote.path(&object_key(&f.dir.obj))).unwrap();
    let has = t
        .remote_has_tree(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert!(!has.contains(&b) && !has.contains(&f.dir.obj));
    assert!(has.contains(&f.dir.members[0]));
    let again = t
        .push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert_eq!(again.uploaded, 2);
    assert!(f.remote.exists(&object_key(&b)).unwrap());
}

/// Records uploads, existence checks and listings, in order.
struct Recording {
    inner: LocalBackend,
    log: Mutex<Vec<String>>,
}

impl Backend for Recording {
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn exists(&self, key: &str) -> Result<bool, BackendError> {
        self.log.lock().unwrap().push(format!("exists {key}"));
        self.inner.exists(key)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        self.log.lock().unwrap().push(format!("list {prefix}"));
        self.inner.list(prefix)
    }
    fn list_all(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.log.lock().unwrap().push(format!("list all {prefix}"));
        self.inner.list_all(prefix)
    }
    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        self.inner.upload(src, key)?;
        self.log.lock().unwrap().push(key.to_string());
        Ok(())
    }
    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError> {
        self.inner.download(key, out)
    }
    fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key)
    }
}

#[test]
fn dir_object_is_uploaded_last_and_only_when_complete() {
    let f = fixture();
    let rec = Recording {
        inner: f.remote.clone(),
        log: Mutex::new(Vec::new()),
    };
    let t = Transfer::new(&rec, &f.odb, Some(8));
    let r = t
        .push(&f.files, std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert!(r.failed.is_empty());
    let log: Vec<String> = rec
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| !l.starts_with("exists ") && !l.starts_with("list "))
        .cloned()
        .collect();
    assert_eq!(log.len(), 4);
    assert!(log.last().unwrap().ends_with(".dir"), "{log:?}");

    // A member missing from the cache: the .dir stays off the remote.
    let f = fixture();
    let b = f.dir.members[1];
    let bp = f.odb.path(&b.oid, Layout::V3);
    fs::remove_file(&bp).unwrap();
    let t = Transfer::new(&f.remote, &f.odb, Some(8));
    let r = t
        .push(&[], std::slice::from_ref(&f.dir), &NoProgress)
        .unwrap();
    assert_eq!(r.uploaded, 1);
    assert_eq!(r.failed.len(), 2);
    assert!(
        r.failed
            .iter()
            .any(|(o, e)| *o == b && matches!(e, TransferError::NotInCache { .. }))
    );
    assert!(r.failed.iter().any(
        |(o, e)| *o == f.dir.obj && matches!(e, TransferError::DirIncomplete { failed: 1, .. })
    ));
    assert!(!f.remote.exists(&object_key(&f.dir.obj)).unwrap());
}

#[test]
fn open_picks_local_and_refuses_other_schemes() {
    assert!(strix_remote::open("r", "/tmp/x").is_ok());
    assert!(strix_remote::open("r", "file:///tmp/x").is_ok());
    // s3 opens without contacting anything; hdfs has no backend yet.
    assert!(strix_remote::open("r", "s3://bucket/p").is_ok());
    assert!(matches!(
        strix_remote::open("r", "hdfs://host/p"),
        Err(strix_remote::OpenError::UnsupportedScheme { .. })
    ));
    assert!(strix_remote::open("r", "rel/path").is_err());
}

/// A remote that serves byte ranges and breaks the connection once after
/// `fail_after` bytes; it records the offset of every download.
struct Flaky {
    inner: LocalBackend,
    fail_after: Mutex<Option<usize>>,
    offsets: Mutex<Vec<u64>>,
}

impl Flaky {
    fn new(inner: LocalBackend, fail_after: Option<usize>) -> Self {
        Self {
            inner,
            fail_after: Mutex::new(fail_after),
            offsets: Mutex::new(Vec::new()),
        }
    }
}

impl Backend for Flaky {
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn exists(&self, key: &str) -> Result<bool, BackendError> {
        self.inner.exists(key)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        self.inner.list(prefix)
    }
    fn list_all(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.inner.list_all(prefix)
    }
    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        self.inner.upload(src, key)
    }
    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError> {
        self.download_from(key, 0, out)
    }
    fn resumes(&self) -> bool {
        true
    }
    fn download_from(
        &self,
        key: &str,
        offset: u64,
        out: &mut dyn Write,
    ) -> Result<u64, BackendError> {
        self.offsets.lock().unwrap().push(offset);
        let data =
            fs::read(self.inner.path(key)).map_err(|e| BackendError::io("download", key, e))?;
        let io_err = |kind, text: &str| BackendError::Io {
            op: "download",
            key: key.to_string(),
            source: std::io::Error::new(kind, text.to_string()),
        };
        if offset as usize > data.len() {
            return Err(io_err(std::io::ErrorKind::Other, "range not satisfiable"));
        }
        let rest = &data[offset as usize..];
        // Arrives in pieces, as from a network.
        let mut sent = 0;
        for piece in rest.chunks(64 << 10) {
            let limit = *self.fail_after.lock().unwrap();
            if let Some(limit) = limit
                && sent + piece.len() > limit
            {
                out.write_all(&piece[..limit - sent]).unwrap();
                *self.fail_after.lock().unwrap() = None;
                return Err(io_err(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                ));
            }
            out.write_all(piece)
                .map_err(|e| BackendError::io("download", key, e))?;
            sent += piece.len();
        }
        Ok(rest.len() as u64)
    }
    fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key)
    }
}

/// A fixture with one 3 MiB object on the remote, and an empty second cache.
fn big_on_remote() -> (Fixture, Vec<u8>, ObjectRef, tempfile::TempDir, Odb) {
    let f = fixture();
    let data: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i * 17 % 253) as u8).collect();
    let big = put(&f.odb, &data);
    Transfer::new(&f.remote, &f.odb, Some(1))
        .push(&[big], &[], &NoProgress)
        .unwrap();
    let tmp2 = tempfile::tempdir().unwrap();
    let odb2 = Odb::new(tmp2.path().join("cache"), false);
    (f, data, big, tmp2, odb2)
}

#[test]
fn an_interrupted_download_is_resumed_where_it_stopped() {
    let (f, data, big, _tmp2, odb2) = big_on_remote();
    let remote = Flaky::new(f.remote.clone(), Some(2 << 20));
    let t = Transfer::new(&remote, &odb2, Some(1));
    let fr = t.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 0);
    assert_eq!(fr.failed.len(), 1, "{:?}", fr.failed);
    // Nothing under the object's name; the part received is kept aside.
    let dest = odb2.path(&big.oid, Layout::V3);
    assert!(!dest.exists());
    let partial = strix_remote::landing::partial_path(&dest);
    assert!(partial.to_string_lossy().ends_with(".tmp"));
    assert_eq!(fs::read(&partial).unwrap(), &data[..2 << 20]);

    let fr = t.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 1, "{:?}", fr.failed);
    assert_eq!(*remote.offsets.lock().unwrap(), vec![0, 2 << 20]);
    assert_eq!(fs::read(&dest).unwrap(), data);
    assert_eq!(mode(&dest), 0o444);
    assert!(!partial.exists());
    no_temporaries(odb2.root());
}

#[test]
fn a_partial_download_that_is_not_a_prefix_is_thrown_away() {
    let (f, data, big, _tmp2, odb2) = big_on_remote();
    let dest = odb2.path(&big.oid, Layout::V3);
    let partial = strix_remote::landing::partial_path(&dest);
    fs::create_dir_all(partial.parent().unwrap()).unwrap();
    let remote = Flaky::new(f.remote.clone(), None);
    let t = Transfer::new(&remote, &odb2, Some(1));

    // Wrong bytes: the resumed object does not hash right, so it is fetched again whole.
    let mut wrong = data[..1 << 20].to_vec();
    wrong[100] ^= 0xff;
    fs::write(&partial, &wrong).unwrap();
    let fr = t.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 1, "{:?}", fr.failed);
    assert_eq!(*remote.offsets.lock().unwrap(), vec![1 << 20, 0]);
    assert_eq!(fs::read(&dest).unwrap(), data);
    assert!(!partial.exists());

    // Longer than the object: the ranged read fails, and the object is fetched again whole.
    make_writable(&dest);
    fs::remove_file(&dest).unwrap();
    remote.offsets.lock().unwrap().clear();
    let mut longer = data.clone();
    longer.extend_from_slice(b"more");
    fs::write(&partial, &longer).unwrap();
    let fr = t.fetch(&[big], &NoProgress).unwrap();
    assert_eq!(fr.downloaded, 1, "{:?}", fr.failed);
    assert_eq!(
        *remote.offsets.lock().unwrap(),
        vec![data.len() as u64 + 4, 0]
    );
    assert_eq!(fs::read(&dest).unwrap(), data);
    assert!(!partial.exists());
    no_temporaries(odb2.root());
}

#[test]
fn a_corrupted_object_leaves_no_partial_download() {
    let (f, data, big, _tmp2, odb2) = big_on_remote();
    let rp = f.remote.path(&object_key(&big));
    fs::set_permissions(&rp, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bad = data.clone();
    bad[3 << 20] ^= 1;
    fs::write(&rp, &bad).unwrap();
    let remote = Flaky::new(f.remote.clone(), None);
    let t = Transfer::new(&remote, &odb2, Some(1));
    let fr = t.fetch(&[big], &NoProgress).unwrap();
    assert!(matches!(
        &fr.failed[..],
        [(_, TransferError::Corrupted { .. })]
    ));
    let dest = odb2.path(&big.oid, Layout::V3);
    assert!(!dest.exists());
    assert!(!strix_remote::landing::partial_path(&dest).exists());
    no_temporaries(odb2.root());
}

fn make_writable(p: &Path) {
    fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
}

/// An object cut short on the remote (a server kept the part it received
/// of a killed upload) is not counted as on the remote, by a check object
/// by object and by a listing alike, and the next push replaces it whole.
#[test]
fn truncated_remote_object_counts_as_absent_and_is_pushed_again() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    // Enough objects for the listing path too.
    let many: Vec<ObjectRef> = (0..1100)
        .map(|i| put(&f.odb, format!("object {i}\n").as_bytes()))
        .collect();
    let t = Transfer::new(&f.remote, &f.odb, Some(2));
    t.push(&many, &[], &NoProgress).unwrap();
    let cut = many[7];
    let path = f.remote.path(&object_key(&cut));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&path, b"obj").unwrap();
    assert_eq!(f.remote.stat(&object_key(&cut)).unwrap(), Some(Some(3)));
    assert!(!t.remote_has(&[cut], &NoProgress).unwrap().contains(&cut));
    let listed = t.remote_has(&many, &NoProgress).unwrap();
    assert_eq!(listed.len(), many.len() - 1);
    assert!(!listed.contains(&cut));
    // An object that is not in the cache cannot be compared: taken as whole.
    let other = Odb::new(tmp.path().join("other-cache"), false);
    let t2 = Transfer::new(&f.remote, &other, Some(2));
    assert!(t2.remote_has(&[cut], &NoProgress).unwrap().contains(&cut));
    let report = t.push(&many, &[], &NoProgress).unwrap();
    assert_eq!(report.uploaded, 1);
    assert_eq!(fs::read(&path).unwrap(), b"object 7\n");
    assert_eq!(t.remote_has(&many, &NoProgress).unwrap().len(), many.len());
}
