//! Streaming MD5 of files in fixed-size buffers, and DVC 2.x's legacy
//! `md5-dos2unix` variant.

use crate::digest::Md5Hasher as Hasher;
use crate::oid::Md5;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// Size of DVC's dos2unix chunks (and of the buffer of plain copies).
pub const CHUNK: usize = 1 << 20;

/// The read buffer of streamed hashing: small enough to stay in the CPU's
/// cache between the copy out of the page cache and the hash reading it
/// (2 GiB from the page cache: 4.1 s with 64 KiB, 4.8 s with 128 KiB, 4.7-6.1 s
/// with 1 MiB, where the copy alone took 0.8 s of system time instead of
/// 0.2 s).
const STREAM_BUF: usize = 64 << 10;

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; STREAM_BUF]);
}

/// Which hash an entry uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// DVC 3: plain MD5 of the bytes (`hash: md5`).
    Md5,
    /// DVC 2.x: MD5 after CRLF→LF in text chunks (entries without `hash:`).
    Md5Dos2Unix,
}

/// Reads `reader` to the end, returning its MD5 and length, and copying the
/// bytes into `sink` if given.
pub fn md5_stream(
    reader: &mut dyn Read,
    mut sink: Option<&mut dyn Write>,
) -> io::Result<(Md5, u64)> {
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        let mut h = Hasher::new();
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf[..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&buf[..n]);
            if let Some(s) = sink.as_deref_mut() {
                s.write_all(&buf[..n])?;
            }
            total += n as u64;
        }
        Ok((h.finish(), total))
    })
}

/// MD5 and size of a file's bytes.
pub fn md5_file(path: &Path) -> io::Result<(Md5, u64)> {
    let mut f = strix_fs::open_noatime(path)?;
    md5_stream(&mut f, None)
}

/// MD5 of a byte slice.
pub fn md5_bytes(data: &[u8]) -> Md5 {
    let mut h = Hasher::new();
    h.update(data);
    h.finish()
}

/// DVC's text test on the first ≤512 bytes of a chunk.
fn is_text(block: &[u8]) -> bool {
    if block.is_empty() {
        return true;
    }
    if block.contains(&0) {
        return false;
    }
    let nontext = block
        .iter()
        .filter(|&&b| {
            !((0x20..=0x7e).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x08))
        })
        .count();
    nontext * 100 <= block.len() * 30
}

/// Legacy `md5-dos2unix` as DVC 3 checks it: per 1 MiB chunk, a text chunk
/// has its CRLFs (inside the chunk only) turned into LF before hashing.
pub fn md5_dos2unix_file(path: &Path) -> io::Result<(Md5, u64)> {
    let mut f = strix_fs::open_noatime(path)?;
    let mut h = Hasher::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        // Fill a whole chunk, like Python's read(n) on a file.
        let mut n = 0;
        while n < CHUNK {
            match f.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if n == 0 {
            break;
        }
        total += n as u64;
        let chunk = &buf[..n];
        if is_text(&chunk[..n.min(512)]) {
            let mut out = Vec::with_capacity(n);
            let mut i = 0;
            while i < n {
                if chunk[i] == b'\r' && i + 1 < n && chunk[i + 1] == b'\n' {
                    out.push(b'\n');
                    i += 2;
                } else {
                    out.push(chunk[i]);
                    i += 1;
                }
            }
            h.update(&out);
        } else {
            h.update(chunk);
        }
        if n < CHUNK {
            break;
        }
    }
    Ok((h.finish(), total))
}

/// Hash of a file in the given kind.
pub fn hash_file(path: &Path, kind: HashKind) -> io::Result<(Md5, u64)> {
    match kind {
        HashKind::Md5 => md5_file(path),
        HashKind::Md5Dos2Unix => md5_dos2unix_file(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_dos2unix_match_dvc_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let crlf = dir.path().join("crlf.txt");
        std::fs::write(&crlf, b"line1\r\nline2\r\n").unwrap();
        assert_eq!(
            md5_file(&crlf).unwrap().0.to_hex(),
            "c6242222cf6ccdb15a43e0e5b1a08810"
        );
        assert_eq!(
            md5_dos2unix_file(&crlf).unwrap().0.to_hex(),
            "4fcc82a88ee38e0aa16c17f512c685c9"
        );
        let bin = dir.path().join("binary.bin");
        std::fs::write(&bin, [0u8, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0]).unwrap();
        assert_eq!(
            md5_file(&bin).unwrap().0.to_hex(),
            "e2b05fb80de2f45131a43281cbb2b306"
        );
        assert_eq!(
            md5_dos2unix_file(&bin).unwrap().0.to_hex(),
            "e2b05fb80de2f45131a43281cbb2b306"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(md5_file(&empty).unwrap(), (Md5::EMPTY, 0));
        assert_eq!(md5_dos2unix_file(&empty).unwrap(), (Md5::EMPTY, 0));
    }

    #[test]
    fn streaming_matches_one_shot_across_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let (m, n) = md5_stream(&mut &data[..], None).unwrap();
        assert_eq!(n as usize, data.len());
        assert_eq!(m, md5_bytes(&data));
    }
}

/// Copies the file `input` to `out` inside the kernel (`copy_file_range`
/// where the filesystem has it), while a second thread reads back and
/// hashes what has landed in `out`: the hash is that of the bytes `out`
/// holds, whatever happens to `input` meanwhile. Costs about one hash of
/// the file on two cores, and no copy through user memory on the writing
/// side. Each copied step's writeback starts at once. `out` must be open for reading and writing, and empty.
pub fn md5_copy_file(input: &File, out: &File) -> io::Result<(Md5, u64)> {
    use std::os::unix::fs::FileExt;
    use std::sync::mpsc;
    const STEP: u64 = 16 << 20;
    let (done_tx, done_rx) = mpsc::sync_channel::<u64>(4);
    std::thread::scope(|s| {
        let copier = s.spawn(move || -> io::Result<u64> {
            let (mut r, mut w) = (input, out);
            let mut total = 0u64;
            loop {
                let n = io::copy(&mut Read::by_ref(&mut r).take(STEP), &mut w)?;
                if n == 0 {
                    return Ok(total);
                }
                // The disk writes overlap the hashing: the flush that makes
                // the copy durable later finds little left to write.
                strix_fs::start_writeback(out, total, n);
                total += n;
                if done_tx.send(total).is_err() {
                    // The hasher failed; its error is reported below.
                    return Ok(total);
                }
            }
        });
        let hashed = BUF.with(|buf| -> io::Result<(Md5, u64)> {
            let mut buf = buf.borrow_mut();
            let mut h = Hasher::new();
            let mut pos = 0u64;
            for end in done_rx {
                while pos < end {
                    let want = buf.len().min((end - pos) as usize);
                    let n = out.read_at(&mut buf[..want], pos)?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the copy is shorter than what was written",
                        ));
                    }
                    h.update(&buf[..n]);
                    pos += n as u64;
                }
            }
            Ok((h.finish(), pos))
        });
        let copied = copier
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("copy thread panicked")))?;
        let (md5, n) = hashed?;
        if n != copied {
            return Err(io::Error::other(
                "the copy and its hash disagree on the size",
            ));
        }
        Ok((md5, n))
    })
}

/// Hashes the file `input` while a second thread copies it to `out` inside
/// the kernel: the two run independently (a copy slowed down by the
/// kernel's dirty-page throttling does not hold up the hashing). The copy
/// holds the hashed bytes only if nobody writes `input` meanwhile: for
/// files under a read lease (adoption), whose copy is not the object.
/// Neither file's offset is used. Returns the md5 and size of `input`.
pub fn md5_beside_copy(input: &File, out: &File) -> io::Result<(Md5, u64)> {
    use std::os::unix::fs::FileExt;
    std::thread::scope(|s| {
        let copier = s.spawn(|| copy_range(input, out));
        let hashed = BUF.with(|buf| -> io::Result<(Md5, u64)> {
            let mut buf = buf.borrow_mut();
            let mut h = Hasher::new();
            let mut pos = 0u64;
            loop {
                let n = match input.read_at(&mut buf[..], pos) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                h.update(&buf[..n]);
                pos += n as u64;
            }
            Ok((h.finish(), pos))
        });
        let copied = copier
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("copy thread panicked")))?;
        let (md5, n) = hashed?;
        if n != copied {
            return Err(io::Error::other(
                "the file changed while it was copied and hashed",
            ));
        }
        Ok((md5, n))
    })
}

/// Copies all of `input` to `out` from offset 0 with explicit offsets
/// (`copy_file_range`, or `pread`/`pwrite` where the kernel cannot).
fn copy_range(input: &File, out: &File) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    const STEP: usize = 64 << 20;
    let (mut off_in, mut off_out): (libc::loff_t, libc::loff_t) = (0, 0);
    loop {
        // SAFETY: valid fds and offset pointers for the duration of the call.
        let n = unsafe {
            libc::copy_file_range(
                input.as_raw_fd(),
                &mut off_in,
                out.as_raw_fd(),
                &mut off_out,
                STEP,
                0,
            )
        };
        if n == 0 {
            return Ok(off_out as u64);
        }
        if n > 0 {
            continue;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOSYS | libc::EXDEV | libc::EINVAL | libc::EOPNOTSUPP) => break,
            _ => return Err(e),
        }
    }
    let mut buf = vec![0u8; CHUNK];
    let mut pos = off_in as u64;
    loop {
        let n = match input.read_at(&mut buf, pos) {
            Ok(0) => return Ok(pos),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all_at(&buf[..n], pos)?;
        pos += n as u64;
    }
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    #[test]
    fn hash_beside_copy_matches_and_copies_everything() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        let data: Vec<u8> = (0..(70 << 20) + 13).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let input = File::open(&src).unwrap();
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(d.path().join("dst"))
            .unwrap();
        let (md5, n) = md5_beside_copy(&input, &out).unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(md5, md5_bytes(&data));
        drop(out);
        assert_eq!(std::fs::read(d.path().join("dst")).unwrap(), data);
    }

    #[test]
    fn kernel_copy_hashes_what_it_wrote() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        let data: Vec<u8> = (0..(33 << 20) + 7).map(|i| (i * 11 % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let dst = d.path().join("dst");
        let out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&dst)
            .unwrap();
        let (m, n) = md5_copy_file(&File::open(&src).unwrap(), &out).unwrap();
        drop(out);
        assert_eq!(n as usize, data.len());
        assert_eq!(m, md5_bytes(&data));
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        // An empty file.
        let empty = d.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(d.path().join("dst2"))
            .unwrap();
        let (m, n) = md5_copy_file(&File::open(&empty).unwrap(), &out).unwrap();
        assert_eq!((m, n), (md5_bytes(b""), 0));
    }
}
