//! strix-fs
