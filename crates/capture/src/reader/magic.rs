//! The pcapng Section Header Block's magic and byte-order magic, which
//! the pcap reader (a pcapng section after a pcap file) and the raw record
//! walker recognise too.

/// A Section Header Block's type.
pub(crate) const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The byte-order magic, big-endian and little-endian.
pub(crate) const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
pub(crate) const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
