#!/usr/bin/env python3
"""Writes starting inputs for every fuzz target into fuzz/corpus/<target>/ (git-ignored).

Sources, each turned into the input layout its target expects:

* parser:        the bytes each connection of a conformance transcript sends
                 (conformance/transcripts/*.txt, `send` lines), plus fuzz/seeds/client-*
* server_parser: what the reference answered (`expect` lines of the transcripts), plus
                 fuzz/seeds/server-*
* route_parser:  the captured route connections of nats-server 2.15.1
                 (proto/src/route/fixtures/*.bin), plus fuzz/seeds/route/*
* config:        the configuration files of the conformance suites (conformance/**/*.conf)
* engine:        each transcript replayed as engine steps (input chunks on up to 4
                 connections, writer drains where the transcript waits for a reply, time
                 advances for its sleeps; see engine/tests/sim/engine_fuzz.rs)

The parser and route inputs start with the two header bytes (options 0, no cuts) and the
engine inputs with the options byte 0. Files are named by the SHA-1 of their content, as
libFuzzer names its own, so running this again adds nothing new. Prints one line per target.
"""

import glob
import hashlib
import os
import re
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)


def unescape(text):
    """The escapes of the transcript format: \\r \\n \\t \\\\ \\s \\xHH."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4] or ""):
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
            mapped = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "s": b" "}.get(n)
            if mapped is not None:
                out += mapped
                i += 2
                continue
        out += c.encode()
        i += 1
    return bytes(out)


def transcripts():
    """(name, [(directive, conn, arg)]) for every transcript."""
    for path in sorted(glob.glob(os.path.join(ROOT, "conformance", "transcripts", "*.txt"))):
        steps = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.split(" ", 2)
                steps.append((parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""))
        yield os.path.basename(path)[:-4], steps


def engine_input(steps):
    """A transcript as engine fuzz steps (op byte low 3 bits: what, bits 3-4: slot)."""
    slots = {}
    out = bytearray([0])  # options: no max_subscriptions, headers on, no trace

    def slot(conn):
        return slots.setdefault(conn, len(slots) % 4)

    for directive, conn, arg in steps:
        if directive == "connect":
            slot(conn)
        elif directive == "send":
            data = unescape(arg)
            for at in range(0, len(data), 255):
                chunk = data[at : at + 255]
                out += bytes([0 | slot(conn) << 3, len(chunk)]) + chunk
        elif directive in ("sync", "closed", "quiet"):
            if directive == "sync":
                ping = b"PING\r\n"
                out += bytes([0 | slot(conn) << 3, len(ping)]) + ping
            out += bytes([4 | slot(conn) << 3])  # the writer drains
        elif directive == "sleep":
            ms = int(conn) if conn.isdigit() else 0
            out += bytes([2, min(255, max(1, ms // 20))])
    for s in sorted(set(slots.values())):
        out += bytes([4 | s << 3])
    return bytes(out)


def expected_bytes(arg):
    """The frames of an `expect` record, without the harness markers."""
    text = arg
    for marker in (" <closed>", " <timeout>"):
        if text.endswith(marker):
            text = text[: -len(marker)]
    if text in ("<nothing>", "<closed>", "<timeout>"):
        return b""
    return unescape(text)


def collect():
    corpora = {t: [] for t in ("parser", "server_parser", "route_parser", "config", "engine")}
    for _name, steps in transcripts():
        sent = {}
        received = {}
        for directive, conn, arg in steps:
            if directive == "send":
                sent.setdefault(conn, bytearray()).extend(unescape(arg))
            elif directive == "expect":
                received.setdefault(conn, bytearray()).extend(expected_bytes(arg))
        for data in sent.values():
            corpora["parser"].append(b"\x00\x00" + bytes(data))
        for data in received.values():
            if data:
                corpora["server_parser"].append(b"\x00\x00" + bytes(data))
        corpora["engine"].append(engine_input(steps))
    for path in sorted(glob.glob(os.path.join(FUZZ, "seeds", "client-*"))):
        corpora["parser"].append(open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(FUZZ, "seeds", "server-*"))):
        corpora["server_parser"].append(open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(ROOT, "proto", "src", "route", "fixtures", "*.bin"))):
        data = open(path, "rb").read()
        # Pinned-account connections (no account in the lines) parse with option bit 0.
        flags = 1 if "t2-c3" in os.path.basename(path) else 0
        corpora["route_parser"].append(bytes([flags, 0]) + data)
    for path in sorted(glob.glob(os.path.join(FUZZ, "seeds", "route", "*"))):
        corpora["route_parser"].append(open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(ROOT, "conformance", "**", "*.conf"), recursive=True)):
        corpora["config"].append(open(path, "rb").read())
    return corpora


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FUZZ, "corpus")
    for target, inputs in collect().items():
        if not inputs:
            sys.exit(f"no seeds for {target}")
        folder = os.path.join(out_root, target)
        os.makedirs(folder, exist_ok=True)
        new = 0
        for data in inputs:
            path = os.path.join(folder, hashlib.sha1(data).hexdigest())
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(data)
                new += 1
        print(f"seeds {target}: {len(inputs)} inputs, {new} new, corpus {len(os.listdir(folder))} files")


if __name__ == "__main__":
    main()
