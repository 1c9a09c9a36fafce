#!/usr/bin/env python3
"""Checks the Dockerfiles of this folder without a Docker engine.

For every image: the COPY sources exist in a staged build context, ports 4222/6222/8222 are
exposed, ENTRYPOINT is the copied binary and CMD is `--config <the copied config>`. Linux images
are laid out as a file tree in a temp dir and run from it: our binary with the image's CMD
plus -t (must accept the config, or in a build without config files refuse it with a clear
error), with a `docker run IMAGE -p PORT` style override (must serve a
client; inside a chroot of the tree when run as root, which for `scratch` proves the binary
needs nothing else), and the reference server must accept the same config with -t.

Usage: check_images.py CONTEXT_DIR [REFERENCE_BINARY]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

HERE = Path(__file__).resolve().parent
SMOKE = HERE.parent / "scripts" / "smoke_client.py"
IMAGES = ["alpine", "scratch", "nanoserver-1809", "windowsservercore-1809"]
PORTS = {"4222", "6222", "8222"}
BASE_PORT = 14830


class Failure(Exception):
    """A check failed."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def parse_dockerfile(path):
    """Returns the instructions as (KEYWORD, argument text), continuation lines joined."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def image_spec(name):
    """The parts of an image's Dockerfile the checks need."""
    instrs = parse_dockerfile(HERE / name / "Dockerfile")
    spec = {"from": None, "copies": [], "expose": set(), "entrypoint": None, "cmd": None}
    for kw, arg in instrs:
        if kw == "FROM":
            spec["from"] = arg.split()[0]
        elif kw == "COPY":
            parts = arg.split()
            check(not any(p.startswith("--from") for p in parts),
                  f"{name}: COPY --from is not expected: {arg}")
            *sources, dest = parts
            spec["copies"].extend((s, dest) for s in sources)
        elif kw == "EXPOSE":
            spec["expose"].update(p.split("/")[0] for p in arg.split())
        elif kw in ("ENTRYPOINT", "CMD"):
            try:
                value = json.loads(arg)
            except json.JSONDecodeError as e:
                raise Failure(f"{name}: {kw} must use the JSON form: {arg} ({e})")
            spec[kw.lower()] = value
    return spec


def is_windows(spec):
    return "windows" in (spec["from"] or "")


def image_path(spec, p):
    """An image path as a relative path under the root, resolving relative paths against
    the default working directory (the root)."""
    if is_windows(spec):
        wp = PureWindowsPath(p)
        check(not wp.drive or wp.drive.upper() == "C:", f"unexpected drive in {p}")
        return Path(*wp.parts[1:]) if wp.anchor else Path(*wp.parts)
    pp = PurePosixPath(p)
    return Path(*pp.parts[1:]) if pp.is_absolute() else Path(*pp.parts)


def check_static_shape(name, spec, context):
    """Checks that need no execution; returns {image path: context source}."""
    check(spec["from"], f"{name}: no FROM")
    check(spec["expose"] == PORTS, f"{name}: EXPOSE {sorted(spec['expose'])}, want {sorted(PORTS)}")
    check(spec["entrypoint"] and len(spec["entrypoint"]) == 1,
          f"{name}: ENTRYPOINT must be the binary alone: {spec['entrypoint']}")
    check(spec["cmd"] and len(spec["cmd"]) == 2 and spec["cmd"][0] == "--config",
          f"{name}: CMD must be --config <file>: {spec['cmd']}")
    tree = {}
    for src, dest in spec["copies"]:
        source = context / src
        check(source.is_file(), f"{name}: COPY source {src} missing from the context {context}")
        tree[image_path(spec, dest)] = source
    binary = image_path(spec, spec["entrypoint"][0])
    config = image_path(spec, spec["cmd"][1])
    check(binary in tree, f"{name}: ENTRYPOINT {spec['entrypoint'][0]} is not a copied file")
    check(config in tree, f"{name}: CMD config {spec['cmd'][1]} is not a copied file")
    check(tree[config].read_bytes() == (HERE / "nats-server.conf").read_bytes(),
          f"{name}: the config copied is not containers/nats-server.conf")
    kind = subprocess.run(["file", "-b", str(tree[binary])], capture_output=True,
                          text=True, check=True).stdout
    if is_windows(spec):
        check("PE32+" in kind and "x86-64" in kind, f"{name}: not a Windows x86-64 binary: {kind}")
    else:
        check("statically linked" in kind or "static-pie" in kind,
              f"{name}: binary is not static: {kind}")
    return tree, binary, config


def lay_out(tree, root):
    for dest, source in tree.items():
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def in_tree(root, binary):
    """argv prefix running the laid-out binary as the image would: inside a chroot of the
    tree when run as root (so absolute paths resolve in the tree), else from the host."""
    if os.geteuid() == 0 and shutil.which("chroot"):
        return ["chroot", str(root), "/" + binary.as_posix()], True
    return [str(root / binary)], False


def run_cmd(name, root, binary, cmd):
    """Runs the laid-out binary with the image's CMD plus -t (check the config and exit),
    from the image's working directory. Config files are a separate feature: a build that
    does not have it yet must refuse them with a clear error."""
    argv, chrooted = in_tree(root, binary)
    args = list(cmd)
    if not chrooted and args[1].startswith("/"):
        args[1] = str(root / args[1].lstrip("/"))
    r = subprocess.run([*argv, *args, "-t"], cwd=root, capture_output=True, text=True,
                       timeout=10)
    out = (r.stdout + r.stderr).strip()
    if r.returncode == 0:
        check("valid" in out, f"{name}: -t exited 0 without confirming the config: {out}")
        return "accepts the image's config with -t"
    check("not supported yet" in out and ("-c" in out or "config" in out),
          f"{name}: `{' '.join(cmd)} -t` failed without a clear reason: {out}")
    return "refuses --config with a clear error (config files not implemented yet)"


def serve_override(name, root, binary, port):
    """`docker run IMAGE -a 127.0.0.1 -p PORT`: the args replace CMD; must serve a client."""
    argv, chroot = in_tree(root, binary)
    proc = subprocess.Popen([*argv, "-a", "127.0.0.1", "-p", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        r = subprocess.run([sys.executable, str(SMOKE), "127.0.0.1", str(port), "10"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"{name}: override did not serve: {r.stderr.strip()}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return "serves a client with `-p PORT` replacing CMD" + (" (chroot of the tree)" if chroot else "")


def reference_accepts(name, reference, config):
    r = subprocess.run([reference, "-c", str(config), "-t"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0, f"{name}: reference rejects the config: {r.stderr.strip()}")
    return "reference accepts the config with -t"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    context = Path(sys.argv[1]).resolve()
    reference = sys.argv[2] if len(sys.argv) > 2 else None
    failures = 0
    for i, name in enumerate(IMAGES):
        try:
            spec = image_spec(name)
            tree, binary, config = check_static_shape(name, spec, context)
            notes = [f"COPY sources present, EXPOSE 4222 6222 8222, ENTRYPOINT {spec['entrypoint'][0]},"
                     f" CMD {' '.join(spec['cmd'])}"]
            if not is_windows(spec):
                with tempfile.TemporaryDirectory() as tmp:
                    root = Path(tmp)
                    lay_out(tree, root)
                    listing = sorted("/" + p.relative_to(root).as_posix()
                                     for p in root.rglob("*") if p.is_file())
                    notes.append("tree " + " ".join(listing))
                    notes.append(run_cmd(name, root, binary, spec["cmd"]))
                    notes.append(serve_override(name, root, binary, BASE_PORT + i))
                    if reference:
                        notes.append(reference_accepts(name, reference, root / config))
            print(f"ok   {name}: " + "; ".join(notes))
        except (Failure, subprocess.SubprocessError, OSError) as e:
            failures += 1
            print(f"FAIL {name}: {e}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
