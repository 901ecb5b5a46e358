//! Write keys and admin tokens: generation, hashing, and the prefix shown to people.
//! Only the SHA-256 hash is stored; a key is never kept or compared in the clear.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// Write keys are public (they ship in web pages) and can only write.
pub const WRITE_KEY_PREFIX: &str = "fk_";
/// Admin tokens read and manage; they must stay secret.
pub const ADMIN_TOKEN_PREFIX: &str = "sk_";
const RANDOM_LEN: usize = 32;
/// How much of a secret is kept for people to recognise it by.
const SHOWN_LEN: usize = 10;

/// A new secret: `prefix` and 32 random alphanumerics from the OS generator.
pub fn generate(prefix: &str) -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
    }
    out
}

/// The recognisable start of a secret, safe to show and store.
pub fn shown_prefix(secret: &str) -> String {
    secret.chars().take(SHOWN_LEN).collect()
}

/// Whether a string has the shape of a write key (used to tell a key from a numeric id).
pub fn looks_like_write_key(s: &str) -> bool {
    s.starts_with(WRITE_KEY_PREFIX) && s.len() == WRITE_KEY_PREFIX.len() + RANDOM_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_keys_have_the_documented_shape() {
        let key = generate(WRITE_KEY_PREFIX);
        assert!(looks_like_write_key(&key), "{key}");
        assert!(key[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(key, generate(WRITE_KEY_PREFIX));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(shown_prefix("fk_abcdefghijkl"), "fk_abcdefg");
    }
}
