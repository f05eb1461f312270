#!/usr/bin/env python3
"""Records a COMPRESS=DEFLATE session with the rig's Dovecot, for client-wasm/tests/compress.rs.

Usage: tests/rig/capture-compress.py HOST PORT OUTPUT
Logs in as the rig's alice (its test password), sends the commands the engine sends, with
the engine's tags, and writes the server's bytes exactly as they arrived: cleartext up to
COMPRESS's OK, zlib's raw DEFLATE after it. One segment per response (greeting, then each
command's), each as a 4-byte big-endian length and the bytes, so a replay can answer each
command only once it was sent. Python's zlib compresses our side, so the replay
checks our inflater against an independent deflater.
"""
import base64
import socket
import sys
import zlib

COMMANDS = [
    b"0002 SELECT INBOX\r\n",
    b"0003 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n",
    b"0004 LOGOUT\r\n",
]


def main():
    host, port, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sock = socket.create_connection((host, port))
    wire = bytearray()
    plain = bytearray()
    segments = []

    def read_response(tag, inflater=None):
        """Reads until the line tagged `tag` is complete."""
        while True:
            at = plain.find(b"\r\n" + tag + b" ") if tag != b"*" else 0
            if at >= 0 and plain.find(b"\r\n", at + 2) >= 0:
                segments.append(bytes(wire))
                wire.clear()
                return
            data = sock.recv(65536)
            if not data:
                raise SystemExit(f"connection closed before {tag!r}'s response")
            wire.extend(data)
            plain.extend(inflater.decompress(data) if inflater else data)

    plain.extend(b"\r\n")  # so that every line, the first one too, follows a CRLF
    read_response(b"*")
    auth = base64.b64encode(b"\0alice\0alice-pass-1")
    sock.sendall(b"0000 AUTHENTICATE PLAIN " + auth + b"\r\n")
    read_response(b"0000")
    sock.sendall(b"0001 COMPRESS DEFLATE\r\n")
    read_response(b"0001")
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    inflater = zlib.decompressobj(-15)
    for command in COMMANDS:
        sock.sendall(deflater.compress(command) + deflater.flush(zlib.Z_SYNC_FLUSH))
        read_response(command[:4], inflater)
    with open(output, "wb") as out:
        for segment in segments:
            out.write(len(segment).to_bytes(4, "big") + segment)
    print(f"{len(segments)} segments, {len(plain)} bytes inflated", file=sys.stderr)


main()
