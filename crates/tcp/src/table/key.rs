//! A connection's key and a segment's direction in it.

use tlsclose_capture::Endpoint;

/// Direction relative to the [`FlowKey`]: `AtoB` is from `key.a` to `key.b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    AtoB,
    BtoA,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::AtoB => 0,
            Dir::BtoA => 1,
        }
    }
    pub fn other(self) -> Dir {
        match self {
            Dir::AtoB => Dir::BtoA,
            Dir::BtoA => Dir::AtoB,
        }
    }
    /// This direction's entry of a per-direction pair (`AtoB`'s first),
    /// the pair indexed without a bound to check.
    pub fn of<T>(self, pair: &[T; 2]) -> &T {
        let [a_to_b, b_to_a] = pair;
        match self {
            Dir::AtoB => a_to_b,
            Dir::BtoA => b_to_a,
        }
    }
    /// [`Dir::of`], mutably.
    pub fn of_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [a_to_b, b_to_a] = pair;
        match self {
            Dir::AtoB => a_to_b,
            Dir::BtoA => b_to_a,
        }
    }
}

/// A connection's 4-tuple, with its endpoints in a canonical order (`a < b`)
/// so that both directions find the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    pub a: Endpoint,
    pub b: Endpoint,
}

/// Hashes the addresses as two 128-bit words and the ports as one 32-bit
/// word: one lookup per segment, so this is on the hot path (consistent
/// with `Eq`: equal keys give equal words).
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        fn bits(ip: std::net::IpAddr) -> u128 {
            match ip {
                std::net::IpAddr::V4(a) => u128::from(u32::from(a)) | (1 << 127),
                std::net::IpAddr::V6(a) => u128::from(a),
            }
        }
        h.write_u128(bits(self.a.ip));
        h.write_u128(bits(self.b.ip));
        h.write_u32(u32::from(self.a.port) << 16 | u32::from(self.b.port));
    }
}

impl FlowKey {
    /// The key of a segment and the segment's direction.
    pub fn of(src: Endpoint, dst: Endpoint) -> (FlowKey, Dir) {
        if src <= dst {
            (FlowKey { a: src, b: dst }, Dir::AtoB)
        } else {
            (FlowKey { a: dst, b: src }, Dir::BtoA)
        }
    }
    /// The sender of a direction.
    pub fn src(&self, dir: Dir) -> Endpoint {
        match dir {
            Dir::AtoB => self.a,
            Dir::BtoA => self.b,
        }
    }
}
