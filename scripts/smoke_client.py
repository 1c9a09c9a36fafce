#!/usr/bin/env python3
"""Raw-socket smoke test of a NATS server: INFO, CONNECT, SUB, PUB, MSG, PING/PONG.

Usage: smoke_client.py HOST PORT [WAIT_SECONDS]
Retries connecting for WAIT_SECONDS (default 30) so a server that is still starting (for
example under wine) is given time. Exits 0 on success, 1 with a message otherwise.
"""
import socket
import sys
import time


def read_until(sock, buf, needle, deadline):
    """Reads from sock into buf until needle is in it or the deadline passes."""
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"did not receive {needle!r}; got {bytes(buf)!r}")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before {needle!r}; got {bytes(buf)!r}")
        buf.extend(chunk)
    return buf


def connect(host, port, wait):
    """Connects, retrying until wait seconds passed."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return socket.create_connection((host, port), timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2])
    wait = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    sub = connect(host, port, wait)
    deadline = time.monotonic() + 10
    buf = read_until(sub, bytearray(), b"\r\n", deadline)
    if not buf.startswith(b"INFO {"):
        raise AssertionError(f"no INFO: {bytes(buf)!r}")
    sub.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB smoke.* 1\r\nPING\r\n')
    read_until(sub, bytearray(), b"PONG\r\n", deadline)
    pub = connect(host, port, wait)
    read_until(pub, bytearray(), b"\r\n", deadline)
    pub.sendall(b'CONNECT {"verbose":false}\r\nPUB smoke.test 5\r\nhello\r\nPING\r\n')
    read_until(pub, bytearray(), b"PONG\r\n", deadline)
    got = read_until(sub, bytearray(), b"hello\r\n", deadline)
    if b"MSG smoke.test 1 5\r\nhello\r\n" not in got:
        raise AssertionError(f"unexpected delivery: {bytes(got)!r}")
    pub.close()
    sub.close()
    print(f"smoke ok: {host}:{port} INFO, SUB, PUB, MSG, PING/PONG")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, AssertionError, TimeoutError) as e:
        print(f"smoke FAILED: {e}", file=sys.stderr)
        sys.exit(1)
