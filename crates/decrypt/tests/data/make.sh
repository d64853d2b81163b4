#!/bin/bash
# Regenerates the extra decryption fixtures of this folder: real OpenSSL
# s_client/s_server connections on loopback, each in its own network
# namespace (unshare -n, as root), captured with dumpcap, with the client's
# key log. They cover what the shared corpus has no capture of: TLS 1.2
# CBC with MAC-then-encrypt (-no_etm), TLS 1.1 (explicit IV, MD5/SHA-1
# PRF) and TLS 1.0 (IV chained from the record before), with and without
# encrypt-then-MAC. Throwaway keys; CC0 like the corpus.
#
# Needs: openssl, dumpcap (wireshark), iproute2, unshare. Usage: ./make.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem"
openssl req -x509 -new -key "$WORK/key.pem" -out "$WORK/cert.pem" -days 3650 \
    -subj /CN=server.test -addext subjectAltName=DNS:server.test 2>/dev/null

# case  s_client options (version, cipher, etm)
make_case() {
    local name=$1; shift
    local opts="$*"
    local d="$HERE/$name"
    rm -rf "$d"; mkdir -p "$d"
    W="$WORK/$name"; mkdir -p "$W"
    W=$W CERT="$WORK/cert.pem" KEY="$WORK/key.pem" OPTS="$opts" unshare -n bash -c '
        set +e
        ip link set lo up
        dumpcap -i lo -f "tcp port 4433" -P -w "$W/capture.pcap" 2>"$W/dumpcap.err" & DC=$!
        for i in $(seq 50); do grep -q "Capturing on" "$W/dumpcap.err" 2>/dev/null && break; sleep 0.1; done
        sleep 0.3
        (sleep 0.6; echo "from the server"; sleep 1.5) | openssl s_server -accept 4433 -naccept 1 \
            -cert "$CERT" -key "$KEY" $OPTS >"$W/server.out" 2>&1 &
        sleep 0.3
        (echo "one"; sleep 0.3; echo "two two"; sleep 0.3; echo "three three three"; sleep 0.6) | \
            openssl s_client -connect 127.0.0.1:4433 -servername server.test \
            -keylogfile "$W/sslkeys.log" $OPTS >"$W/client.out" 2>&1
        sleep 1.5
        kill -INT $DC; wait $DC
        for j in $(jobs -p); do kill $j 2>/dev/null; done
    '
    cp "$W/capture.pcap" "$W/sslkeys.log" "$d/"
    chmod 644 "$d/capture.pcap"
    echo "$name: openssl s_client/s_server $opts" >"$d/README.md"
}

make_case tls12-mte-aes128-cbc-sha -tls1_2 -no_etm -cipher ECDHE-ECDSA-AES128-SHA
make_case tls12-mte-aes256-cbc-sha384 -tls1_2 -no_etm -cipher ECDHE-ECDSA-AES256-SHA384
make_case tls11-etm-aes128-cbc-sha -tls1_1 -cipher ECDHE-ECDSA-AES128-SHA@SECLEVEL=0
make_case tls10-mte-aes256-cbc-sha -tls1 -no_etm -cipher ECDHE-ECDSA-AES256-SHA@SECLEVEL=0
make_case tls10-etm-aes128-cbc-sha -tls1 -cipher ECDHE-ECDSA-AES128-SHA@SECLEVEL=0
