//! Command tags (conformance row C0001).
//!
//! Four characters from `a-z0-9`, counted in base 36 from a per-connection start the driver
//! picks at random. Counting instead of drawing guarantees no tag repeats on a connection,
//! and a fixed start makes transcripts reproducible in tests.

use std::fmt;

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const WIDTH: u32 = 4;
/// 36^4: how many distinct tags fit in four characters.
const SPACE: u32 = 36 * 36 * 36 * 36;

/// A tag this engine generated: always four characters of `[a-z0-9]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag([u8; WIDTH as usize]);

impl Tag {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn from_index(index: u32) -> Self {
        let mut digits = [b'0'; WIDTH as usize];
        let mut rest = index % SPACE;
        for digit in digits.iter_mut().rev() {
            *digit = ALPHABET[(rest % 36) as usize];
            rest /= 36;
        }
        Self(digits)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.as_str())
    }
}

/// Hands out the tags of one connection.
#[derive(Debug, Clone)]
pub struct TagGenerator {
    start: u32,
    issued: u32,
}

impl TagGenerator {
    /// `seed` is the driver's random number; only its value modulo 36^4 matters.
    pub fn new(seed: u32) -> Self {
        Self {
            start: seed % SPACE,
            issued: 0,
        }
    }

    /// The next tag, or `None` once all 36^4 tags of this connection are used.
    pub fn next_tag(&mut self) -> Option<Tag> {
        if self.issued == SPACE {
            return None;
        }
        let tag = Tag::from_index(self.start + self.issued);
        self.issued += 1;
        Some(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn c0001_tags_are_four_base36_chars_counted_from_the_seed() {
        let mut tags = TagGenerator::new(0);
        assert_eq!(tags.next_tag().unwrap().as_str(), "0000");
        assert_eq!(tags.next_tag().unwrap().as_str(), "0001");
        let mut tags = TagGenerator::new(35);
        assert_eq!(tags.next_tag().unwrap().as_str(), "000z");
        assert_eq!(tags.next_tag().unwrap().as_str(), "0010");
    }

    #[test]
    fn c0001_tags_wrap_at_the_top_and_never_repeat_on_a_connection() {
        let mut tags = TagGenerator::new(SPACE - 1);
        assert_eq!(tags.next_tag().unwrap().as_str(), "zzzz");
        assert_eq!(tags.next_tag().unwrap().as_str(), "0000");
        let mut seen = HashSet::new();
        let mut tags = TagGenerator::new(123_456_789);
        while let Some(tag) = tags.next_tag() {
            assert!(seen.insert(tag), "tag {tag} repeated");
            assert!(tag.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        }
        assert_eq!(seen.len(), SPACE as usize);
    }
}
