//! Streaming MD5 of files in fixed-size buffers, and DVC 2.x's legacy
//! `md5-dos2unix` variant.

use crate::oid::Md5;
use md5::{Digest, Md5 as Hasher};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// Size of the read buffer, and of DVC's dos2unix chunks.
pub const CHUNK: usize = 1 << 20;

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; CHUNK]);
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
        Ok((Md5(h.finalize().into()), total))
    })
}

/// MD5 and size of a file's bytes.
pub fn md5_file(path: &Path) -> io::Result<(Md5, u64)> {
    let mut f = File::open(path)?;
    md5_stream(&mut f, None)
}

/// MD5 of a byte slice.
pub fn md5_bytes(data: &[u8]) -> Md5 {
    Md5(Hasher::digest(data).into())
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
    let mut f = File::open(path)?;
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
    Ok((Md5(h.finalize().into()), total))
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

/// Copies `input` to `out` while hashing it, with the hashing and the
/// writing on two threads (so a large file costs about as much as hashing
/// it). With `writeback`, asks the kernel to start writing back every
/// 64 MiB so that a later `syncfs` has little left to flush. Buffers are
/// recycled: memory stays at a few MiB whatever the file size.
pub fn md5_copy<R: Read>(
    input: &mut R,
    out: &std::fs::File,
    writeback: bool,
) -> io::Result<(Md5, u64)> {
    use std::sync::mpsc;
    const BUF: usize = 4 << 20;
    const FLUSH_EVERY: u64 = 64 << 20;
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(3);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> io::Result<()> {
            let mut w = out;
            let mut written = 0u64;
            let mut flushed = 0u64;
            for buf in full_rx {
                w.write_all(&buf)?;
                written += buf.len() as u64;
                if writeback && written - flushed >= FLUSH_EVERY {
                    strix_fs::start_writeback(out, flushed, written - flushed);
                    flushed = written;
                }
                // The reader may be gone after an error; the buffer is then dropped.
                let _ = free_tx.send(buf);
            }
            Ok(())
        });
        let mut h = Hasher::new();
        let mut total = 0u64;
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let read_result: io::Result<()> = (|| {
            loop {
                let mut buf = free_rx
                    .try_recv()
                    .ok()
                    .or_else(|| spare.pop())
                    .unwrap_or_else(|| vec![0u8; BUF]);
                buf.resize(BUF, 0);
                let mut n = 0;
                while n < BUF {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                h.update(&buf);
                total += n as u64;
                if full_tx.send(buf).is_err() {
                    // The writer failed; its error is reported below.
                    return Ok(());
                }
                if n < BUF {
                    return Ok(());
                }
            }
        })();
        drop(full_tx);
        let write_result = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")));
        read_result?;
        write_result?;
        Ok((Md5(h.finalize().into()), total))
    })
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
            Ok((Md5(h.finalize().into()), pos))
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

#[cfg(test)]
mod copy_tests {
    use super::*;

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

    #[test]
    fn pipelined_copy_matches_serial_hash() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        let data: Vec<u8> = (0..(9 << 20) + 123).map(|i| (i * 7 % 253) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let dst = d.path().join("dst");
        let out = std::fs::File::create(&dst).unwrap();
        let (m, n) = md5_copy(&mut File::open(&src).unwrap(), &out, true).unwrap();
        drop(out);
        assert_eq!(n as usize, data.len());
        assert_eq!(m, md5_bytes(&data));
        assert_eq!(std::fs::read(&dst).unwrap(), data);
    }
}
