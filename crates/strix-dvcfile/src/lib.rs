//! strix-dvcfile
