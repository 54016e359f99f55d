//! strix-git
