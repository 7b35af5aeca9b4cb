//! Recovery codes: 10 single-use codes shown once at activation, stored only as SHA-256 hashes.
//! Each has 59 random bits (12 characters from a 31-letter alphabet without look-alikes), enough
//! that the hashes cannot be reversed by guessing.

use rand::Rng;

use crate::secret::sha256_hex;

pub const COUNT: usize = 10;
const LEN: usize = 12;
/// No 0/O, 1/I/L: codes are read off paper.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// New codes, in three groups of four for reading off paper, e.g. `H7KQ-2MWP-9RTX`.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

/// What a typed code is compared as: case, dashes and spaces do not matter.
pub fn normalise(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_uppercase();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Whether the input has the shape of a recovery code rather than a 6-digit passcode.
pub fn looks_like_recovery_code(input: &str) -> bool {
    normalise(input).is_some()
}

pub fn hash(code: &str) -> Option<String> {
    normalise(code).map(|c| sha256_hex(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_well_formed_codes() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14);
            assert!(looks_like_recovery_code(code));
        }
    }

    #[test]
    fn typing_variations_hash_the_same() {
        let code = &generate()[0];
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(hash(code), hash(&sloppy));
        assert!(hash("123456").is_none());
        assert!(!looks_like_recovery_code("123456"));
        assert!(hash("OOOO-OOOO-OOOO").is_none());
    }
}
