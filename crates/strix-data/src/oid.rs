//! Object ids as DVC stores them: 32 lowercase hex digits of an MD5, with a
//! `.dir` suffix for directory manifests.

use std::fmt;
use std::str::FromStr;

/// An MD5 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Md5(pub [u8; 16]);

impl Md5 {
    /// The digest of the empty input.
    pub const EMPTY: Md5 = Md5([
        0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42,
        0x7e,
    ]);

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.hex_str(&mut [0; 32]).to_owned()
    }

    /// Lowercase hex, written into `buf` (no allocation: manifests of a
    /// million entries write a million of these).
    pub fn hex_str<'a>(&self, buf: &'a mut [u8; 32]) -> &'a str {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (pair, b) in buf.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        std::str::from_utf8(buf).expect("hex digits are ASCII")
    }

    /// Decodes exactly 32 lowercase hex digits (the form DVC writes), or
    /// `None`.
    pub fn from_lower_hex(hex: &[u8]) -> Option<Self> {
        // Digit value per byte; 0xff for anything but 0-9 and a-f.
        const VALUE: [u8; 256] = {
            let mut t = [0xffu8; 256];
            let mut i = 0;
            while i < 10 {
                t[b'0' as usize + i] = i as u8;
                i += 1;
            }
            let mut i = 0;
            while i < 6 {
                t[b'a' as usize + i] = 10 + i as u8;
                i += 1;
            }
            t
        };
        let hex: &[u8; 32] = hex.try_into().ok()?;
        let mut out = [0u8; 16];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let (hi, lo) = (VALUE[pair[0] as usize], VALUE[pair[1] as usize]);
            bad |= hi | lo;
            *o = hi << 4 | lo;
        }
        // Valid digits are below 16.
        (bad < 16).then_some(Md5(out))
    }

    /// Parses 32 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Md5(out))
    }
}

impl fmt::Display for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex_str(&mut [0; 32]))
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Md5({})", self.to_hex())
    }
}

/// The id of a cache object: a file's MD5, or a `.dir` manifest's MD5 with
/// the `.dir` suffix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid {
    pub md5: Md5,
    pub is_dir: bool,
}

impl Oid {
    pub fn file(md5: Md5) -> Self {
        Self { md5, is_dir: false }
    }
    pub fn dir(md5: Md5) -> Self {
        Self { md5, is_dir: true }
    }
}

/// A string that is not a valid object id.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{0}' is not a valid md5 object id (expected 32 hex digits, optionally followed by '.dir')"
)]
pub struct BadOid(pub String);

impl FromStr for Oid {
    type Err = BadOid;
    fn from_str(s: &str) -> Result<Self, BadOid> {
        let (hex, is_dir) = match s.strip_suffix(".dir") {
            Some(h) => (h, true),
            None => (s, false),
        };
        let md5 = Md5::from_hex(hex).ok_or_else(|| BadOid(s.to_string()))?;
        Ok(Oid { md5, is_dir })
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.md5.hex_str(&mut [0; 32]))?;
        if self.is_dir {
            f.write_str(".dir")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let o: Oid = "BF8385E2B15AEA0801B306267FE382BC.dir".parse().unwrap();
        assert!(o.is_dir);
        assert_eq!(o.to_string(), "bf8385e2b15aea0801b306267fe382bc.dir");
        assert!("xyz".parse::<Oid>().is_err());
        assert!("bf8385e2b15aea0801b306267fe382b".parse::<Oid>().is_err());
        assert_eq!(Md5::EMPTY.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        let hex = "0123456789abcdef0123456789abcdef";
        assert_eq!(Md5::from_lower_hex(hex.as_bytes()), Md5::from_hex(hex));
        for bad in [
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcde",
            " 123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(Md5::from_lower_hex(bad.as_bytes()), None, "{bad}");
        }
    }
}
