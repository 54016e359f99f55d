//! Progress reporting from library code to whatever renders it. Libraries
//! never print; the binary implements [`Progress`] with progress bars.

/// Receives progress of a long operation. Implementations must be cheap and
/// thread-safe: `inc` is called from worker threads.
pub trait Progress: Sync {
    /// A new phase starts, with a known total of units if any.
    fn start(&self, _label: &str, _total: Option<u64>) {}
    /// `n` more units are done.
    fn inc(&self, _n: u64) {}
    /// The phase is over.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
