// The xorshift32 sequence behind the tests' deterministic payloads. Also
// `include!`d by the unit tests in `src/relay.rs`: no dependencies, no inner
// attributes.

/// Successive xorshift32 states after `seed` (13, 17, 5).
pub fn xorshift32(seed: u32) -> impl Iterator<Item = u32> {
    let mut x = seed;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    })
}

/// `len` bytes: the low byte of each state after `seed`.
pub fn pattern_from(seed: u32, len: usize) -> Vec<u8> {
    xorshift32(seed).take(len).map(|x| x as u8).collect()
}
