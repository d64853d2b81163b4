/// xorshift64*: a small seeded generator for deterministic filler bytes and
/// choices in tests (the same seed gives the same sequence everywhere).
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// Any seed works (zero included).
    pub fn new(seed: u64) -> Self {
        Prng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// The seed in `$VAR` when set (so a failure can be replayed), else
    /// `default`; the seed used is printed.
    pub fn from_env(var: &str, default: u64) -> Self {
        let seed = std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default);
        println!("{var}={seed}");
        Prng::new(seed)
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Prng;

    #[test]
    fn same_seed_same_sequence_and_bytes_vary() {
        let (mut a, mut b) = (Prng::new(7), Prng::new(7));
        assert_eq!(a.bytes(64), b.bytes(64));
        let v = Prng::new(0).bytes(256);
        let distinct: std::collections::BTreeSet<u8> = v.iter().copied().collect();
        assert!(distinct.len() > 100, "{distinct:?}");
        assert_ne!(Prng::new(1).next(), Prng::new(2).next());
    }
}
