//! strix-config
