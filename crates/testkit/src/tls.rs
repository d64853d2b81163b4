//! TLS records and handshake messages, byte for byte (RFC 8446 §5.1, §4).

pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

pub const TLS1_0: u16 = 0x0301;
pub const TLS1_2: u16 = 0x0303;

/// A record: content type, legacy version, body.
pub fn record(ty: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A handshake message (type, 24-bit length, body).
pub fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

/// A ClientHello body (random 7…7, no session id, TLS_AES_128_GCM_SHA256)
/// with the given extensions `(type, data)`.
pub fn client_hello(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0); // session id
    b.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
    b.extend_from_slice(&[1, 0]); // null compression
    let mut e = Vec::new();
    for (ty, data) in exts {
        e.extend_from_slice(&ty.to_be_bytes());
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

/// A server_name extension body with one host name.
pub fn sni_ext(name: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    v.push(0);
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v
}

/// A ClientHello record (legacy version TLS 1.0, as clients send it) with
/// one extension: server_name `sni`.
pub fn client_hello_record(sni: &[u8]) -> Vec<u8> {
    record(
        HANDSHAKE,
        TLS1_0,
        &handshake(1, &client_hello(&[(0, sni_ext(sni))])),
    )
}

/// A ServerHello record (TLS_AES_128_GCM_SHA256); `tls13` adds
/// supported_versions with TLS 1.3.
pub fn server_hello_record(tls13: bool) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9; 32]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0]);
    if tls13 {
        body.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
    } else {
        body.extend_from_slice(&[0, 0]);
    }
    record(HANDSHAKE, TLS1_0, &handshake(2, &body))
}

/// A ChangeCipherSpec record.
pub fn ccs() -> Vec<u8> {
    record(CHANGE_CIPHER_SPEC, TLS1_2, &[1])
}

/// An encrypted-looking record: content type `ct`, `len` opaque bytes.
pub fn opaque(ct: u8, len: usize) -> Vec<u8> {
    record(ct, TLS1_2, &vec![0xab; len])
}

/// A plaintext alert record.
pub fn plain_alert(level: u8, description: u8) -> Vec<u8> {
    record(ALERT, TLS1_2, &[level, description])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_consistent() {
        let r = client_hello_record(b"a.test");
        assert_eq!(usize::from(u16::from_be_bytes([r[3], r[4]])), r.len() - 5);
        let hs = &r[5..];
        let n = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
        assert_eq!(n, hs.len() - 4);
        assert!(r.windows(6).any(|w| w == b"a.test"));
        assert_eq!(plain_alert(2, 40), [21, 3, 3, 0, 2, 2, 40]);
    }
}
