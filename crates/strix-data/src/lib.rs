//! strix-data
