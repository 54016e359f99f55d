//! strix-repo
