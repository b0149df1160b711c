#!/usr/bin/env python3
"""A TCP listener on 127.0.0.1 that is not a usable lttng-relayd.

    fake_relay.py PORT silent          accept, read, never answer
    fake_relay.py PORT version MAJ MIN answer the version command with MAJ.MIN
    fake_relay.py PORT http            answer like a web server

It serves one connection, then exits; it exits by itself after 30 s.
Prints "ready" once it listens.
"""
import socket
import struct
import sys

port, mode = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(30)
print("ready", flush=True)
try:
    conn, _ = srv.accept()
except socket.timeout:
    sys.exit(0)
conn.settimeout(30)
try:
    # the command header: u64 circuit, u64 size, u32 cmd, u32 version (big-endian)
    hdr = b""
    while len(hdr) < 24:
        chunk = conn.recv(24 - len(hdr))
        if not chunk:
            sys.exit(0)
        hdr += chunk
    _, size, cmd, _ = struct.unpack(">QQII", hdr)
    payload = conn.recv(size) if size else b""
    if mode == "http":
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    elif mode == "version" and cmd == 5:
        conn.sendall(struct.pack(">II", int(sys.argv[3]), int(sys.argv[4])))
        conn.recv(1)  # wait for the peer to hang up
    else:
        while conn.recv(4096):
            pass
except (socket.timeout, ConnectionError):
    pass
conn.close()
