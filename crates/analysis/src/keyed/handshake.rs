//! Handshake messages read from a flow's decrypted records: the hellos of
//! a TLS 1.2 renegotiation, and TLS 1.3's EncryptedExtensions (for ALPN).
use tlsclose_decrypt::SessionInfo;
use tlsclose_tls::{
    parse_client_hello, parse_encrypted_extensions_alpn, parse_server_hello, HandshakeAssembler,
    HandshakeType,
};

/// Longest handshake message joined from decrypted records (a
/// renegotiation's hellos); longer ones are skipped.
const MAX_DECRYPTED_HANDSHAKE: usize = 1 << 16;

/// A hello of a renegotiation, read from decrypted handshake records.
#[derive(Debug, Clone, Copy)]
pub(super) enum RenegotiationHello {
    /// The new ClientHello's random.
    Client([u8; 32]),
    /// What the new ServerHello negotiated (client random not filled in).
    Server(SessionInfo),
}

/// Decrypted handshake content of a TLS ≤ 1.2 side after its
/// ChangeCipherSpec: a renegotiation. Returns the hello it completes.
pub(super) fn decrypted_handshake(
    assembler: &mut Option<Box<HandshakeAssembler>>,
    data: &[u8],
) -> Option<RenegotiationHello> {
    let mut found = None;
    assembler
        .get_or_insert_with(|| Box::new(HandshakeAssembler::new(MAX_DECRYPTED_HANDSHAKE)))
        .push(data, &mut |t, m| match t {
            HandshakeType::CLIENT_HELLO => {
                if let Ok(ch) = parse_client_hello(m) {
                    found = Some(RenegotiationHello::Client(ch.random));
                }
            }
            HandshakeType::SERVER_HELLO => {
                if let Ok(sh) = parse_server_hello(m) {
                    found = Some(RenegotiationHello::Server(SessionInfo {
                        version: sh.negotiated_version(),
                        cipher_suite: sh.cipher_suite,
                        client_random: [0; 32],
                        server_random: sh.random,
                        encrypt_then_mac: sh.encrypt_then_mac,
                    }));
                }
            }
            _ => {}
        });
    found
}

/// TLS 1.3: the ALPN protocol of an EncryptedExtensions message in a
/// side's decrypted handshake. Sets `done` at the EncryptedExtensions (the
/// server's first encrypted message) or the side's Finished, and drops the
/// assembler then: certificates and tickets are not joined.
pub(super) fn encrypted_extensions(
    assembler: &mut Option<Box<HandshakeAssembler>>,
    data: &[u8],
    done: &mut bool,
) -> Option<String> {
    let mut alpn = None;
    assembler
        .get_or_insert_with(|| Box::new(HandshakeAssembler::new(MAX_DECRYPTED_HANDSHAKE)))
        .push(data, &mut |t, m| {
            if *done {
                return;
            }
            if t == HandshakeType::ENCRYPTED_EXTENSIONS {
                alpn = parse_encrypted_extensions_alpn(m);
                *done = true;
            } else if t == HandshakeType::FINISHED {
                *done = true;
            }
        });
    if *done {
        *assembler = None;
    }
    alpn
}
