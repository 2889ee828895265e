//! Strict base64, shared by envelopes, keys and the log's notes.
//!
//! Base64 is malleable: `eA==` and `eB==` both decode to `x` under a lenient
//! decoder, and padding may be dropped. Every decoder here refuses non-zero
//! trailing bits and requires canonical padding, so one byte string has one
//! spelling per alphabet.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// Why a text is not strict base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not canonical base64 (padding is required and trailing bits must be zero)")]
pub struct Base64Error;

/// Standard alphabet, padded.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard alphabet only, canonical padding, zero trailing bits.
pub fn decode_standard(text: &str) -> Result<Vec<u8>, Base64Error> {
    STANDARD.decode(text).map_err(|_| Base64Error)
}

/// Standard or URL-safe alphabet (DSSE requires accepting both), canonical
/// padding, zero trailing bits.
pub fn decode_either(text: &str) -> Result<Vec<u8>, Base64Error> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|_| Base64Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_zero_trailing_bits_and_missing_padding() {
        assert_eq!(decode_standard("eA==").unwrap(), b"x");
        assert!(decode_standard("eB==").is_err());
        assert!(decode_standard("eA").is_err());
        assert!(decode_either("eB==").is_err());
    }

    #[test]
    fn accepts_both_alphabets_where_asked() {
        let bytes = [0xfb, 0xff];
        assert_eq!(decode_either("+/8=").unwrap(), bytes);
        assert_eq!(decode_either("-_8=").unwrap(), bytes);
        assert!(decode_standard("-_8=").is_err());
    }
}
