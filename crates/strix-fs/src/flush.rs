//! Early writeback for a batch that one `syncfs` makes durable at the end.
//!
//! Writing many small files and then calling `syncfs` leaves the disk idle
//! while the files are written and the CPU idle while they are flushed.
//! [`EarlyFlush`] overlaps the two: once a batch has grown past a few
//! hundred writes, a background thread calls `syncfs` every
//! [`EarlyFlush::PERIOD`] while more data arrives, so the caller's final
//! `syncfs` finds little left to write.
//!
//! The background flushes are only a head start. They never stand in for
//! the caller's own `syncfs` after the last write, which alone makes the
//! batch durable (their errors are ignored: that final call reports).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Starts background flushes of one filesystem while a batch is written.
#[derive(Debug)]
pub struct EarlyFlush {
    dir: PathBuf,
    /// Writes noted since the last [`EarlyFlush::stop`].
    writes: AtomicUsize,
    running: Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    stop: Arc<AtomicBool>,
    dirty: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl EarlyFlush {
    /// How often the background thread flushes.
    pub const PERIOD: Duration = Duration::from_millis(50);
    /// Writes before the background thread starts (small batches never
    /// start it).
    pub const START_AFTER: usize = 256;

    /// Flushes the filesystem holding `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            writes: AtomicUsize::new(0),
            running: Mutex::new(None),
        }
    }

    /// Notes one more write of the batch.
    pub fn wrote(&self) {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if n < Self::START_AFTER {
            return;
        }
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        match running.as_ref() {
            Some(r) => r.dirty.store(true, Ordering::Release),
            None => *running = self.spawn(),
        }
    }

    fn spawn(&self) -> Option<Running> {
        let stop = Arc::new(AtomicBool::new(false));
        let dirty = Arc::new(AtomicBool::new(true));
        let (s, d, dir) = (stop.clone(), dirty.clone(), self.dir.clone());
        let thread = std::thread::Builder::new()
            .name("early-flush".into())
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    std::thread::park_timeout(Self::PERIOD);
                    if !s.load(Ordering::Acquire) && d.swap(false, Ordering::AcqRel) {
                        let _ = crate::syncfs(&dir);
                    }
                }
            })
            .ok()?;
        Some(Running {
            stop,
            dirty,
            thread,
        })
    }

    /// Ends the background flushes (before the caller's own `syncfs`); a
    /// later batch starts them again.
    pub fn stop(&self) {
        self.writes.store(0, Ordering::Relaxed);
        let running = match self.running.lock() {
            Ok(mut r) => r.take(),
            Err(_) => None,
        };
        if let Some(r) = running {
            r.stop.store(true, Ordering::Release);
            r.thread.thread().unpark();
            let _ = r.thread.join();
        }
    }
}

impl Drop for EarlyFlush {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_only_for_large_batches_and_stops() {
        let d = tempfile::tempdir().unwrap();
        let f = EarlyFlush::new(d.path());
        for _ in 0..EarlyFlush::START_AFTER - 1 {
            f.wrote();
        }
        assert!(
            f.running.lock().unwrap().is_none(),
            "a small batch starts nothing"
        );
        f.wrote();
        assert!(f.running.lock().unwrap().is_some());
        f.stop();
        assert!(f.running.lock().unwrap().is_none());
        // A new batch counts from zero again.
        f.wrote();
        assert!(f.running.lock().unwrap().is_none());
        for _ in 0..EarlyFlush::START_AFTER {
            f.wrote();
        }
        assert!(f.running.lock().unwrap().is_some());
        drop(f);
    }
}
