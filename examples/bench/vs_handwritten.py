#!/usr/bin/env python3
"""HTTP benchmark: nets against the hand-written axum + sqlx server.

Builds and starts both servers (nets: `examples/bench-http`, with the nets features that
app uses, or every feature with `--full`; hand-written:
`../shared/bench-limit/handwritten`, built into its own target directory outside the
project), checks that both answer each endpoint alike, then alternates `wrk` runs
between them (nets, hand-written, hand-written, nets, ...) and prints, per endpoint,
the per-round ratios, the medians of req/s, p50 and p99, and each server's peak RSS.

    python3 examples/bench/vs_handwritten.py                       # 5 rounds of 10 s, release profile
    python3 examples/bench/vs_handwritten.py --profile bench-lto   # both with thin LTO, 1 codegen unit
    python3 examples/bench/vs_handwritten.py --rounds 3 --duration 5 --only profile
    python3 examples/bench/vs_handwritten.py --full          # nets with all its features
    python3 examples/bench/vs_handwritten.py --plain-relocs  # both linked without DT_RELR
    python3 examples/bench/vs_handwritten.py --callgrind 2000  # instructions per request instead

`--callgrind N` runs each server under valgrind's callgrind and counts the user-space
instructions of N keep-alive requests per endpoint (after 200 uncounted ones): exact and
repeatable where req/s vary by ±20 % per round on a shared machine, but blind to the
kernel, to waiting and to cache misses. Needs valgrind.

Both binaries are linked with packed relative relocations (`-z pack-relative-relocs`,
DT_RELR: glibc 2.36+, binutils 2.38+ or lld), as a release build for Linux should be:
the loader reads a few kilobytes of relocation bitmap instead of a 24-byte entry per
pointer in read-only data (1.8 MiB of them for nets, 0.13 MiB for the hand-written
server), and that table otherwise stays in the process's RSS. Only the final link
changes (`cargo rustc -- -C link-arg=...`), so dependencies are not rebuilt.

It is a benchmark, not a test: CI does not run it. Only same-run ratios mean anything;
absolute numbers depend on the machine. Needs `wrk` (apt-get install wrk).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDWRITTEN = ROOT.parent / "shared" / "bench-limit" / "handwritten"
HW_TARGET = Path(os.environ.get("NETS_BENCH_HW_TARGET", Path.home() / ".cache" / "nets-bench-limit"))


PACKED_RELOCS = ["--", "-C", "link-arg=-Wl,-z,pack-relative-relocs"]


def build(profile, full, packed):
    """Both servers, with `profile` for nets (the hand-written one always builds its
    release profile: thin LTO, one codegen unit), both linked alike (`packed`: DT_RELR).
    Built on its own, the nets app has only the features it uses (`accounts`, `cli`);
    `full` adds the others."""
    features = ["--features", "full"] if full else []
    link = PACKED_RELOCS if packed else []
    subprocess.run(["cargo", "rustc", "--profile", profile, "-p", "nets-bench-http", "--bin", "bench_http",
                    *features, *link], cwd=ROOT, check=True)
    env = dict(os.environ, CARGO_TARGET_DIR=str(HW_TARGET))
    subprocess.run(["cargo", "rustc", "--release", "--manifest-path", str(HANDWRITTEN / "Cargo.toml"),
                    "--bin", "handwritten", *link], env=env, check=True)
    profile_dir = "debug" if profile == "dev" else profile
    return ROOT / "target" / profile_dir / "bench_http", HW_TARGET / "release" / "handwritten"


class Server:
    def __init__(self, name, command, env, base, client_json, start_within=60):
        self.name, self.base, self.client_json = name, base, client_json
        self.log = open(client_json.with_suffix(".log"), "w")
        self.process = subprocess.Popen(command, env=dict(os.environ, **env), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + start_within
        while True:
            if self.process.poll() is not None:
                sys.exit(f"{name} exited at start-up: see {self.log.name}")
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit(f"{name} did not answer within {start_within} s")
                time.sleep(0.2)
        self.client = json.loads(client_json.read_text())

    def peak_rss_mib(self):
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def endpoints(server):
    token = server.client["tokens"]["alice"]
    invoice = server.client["ids"]["invoice"]["alice1"]
    auth = {"Authorization": f"Bearer {token}"}
    return {
        "openapi": ("/openapi.json", {}),
        "openapi-gzip": ("/openapi.json", {"Accept-Encoding": "gzip"}),
        "profile": ("/getProfile/", auth),
        "invoice": (f"/demo/invoice/?id={invoice}&fields=id,number,total&nested=false", auth),
    }


def fetch(server, path, headers):
    request = urllib.request.Request(server.base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.status, answer.read(), dict(answer.headers)


def check_alike(nets, hand):
    """Both answer 200; the JSON answers carry the same data (ids differ between runs)."""
    for name in ("profile", "invoice"):
        (path_n, h_n), (path_h, h_h) = endpoints(nets)[name], endpoints(hand)[name]
        status_n, body_n, _ = fetch(nets, path_n, h_n)
        status_h, body_h, _ = fetch(hand, path_h, h_h)
        data_n, data_h = json.loads(body_n)["data"], json.loads(body_h)["data"]
        if status_n != 200 or status_h != 200 or set(data_n) != set(data_h):
            sys.exit(f"{name}: nets {status_n} {body_n[:300]!r}\n  hand-written {status_h} {body_h[:300]!r}")
        print(f"  {name}: both 200, same keys {sorted(data_n)}")
    for name in ("openapi", "openapi-gzip"):
        for server in (nets, hand):
            path, headers = endpoints(server)[name]
            _, body, answer_headers = fetch(server, path, headers)
            encoding = {k.lower(): v for k, v in answer_headers.items()}.get("content-encoding", "identity")
            print(f"  {name} {server.name}: {len(body)} bytes, {encoding}")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(server, path, headers, args):
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(command + [server.base + path], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        sys.exit(f"{server.name} {path}: {errors.group(1)} non-2xx answers\n{output}")
    return rps, latency["50"], latency["99"]


def keep_alive(server, path, headers, count):
    """`count` GETs of `path` on one connection, each answer read to its end (answers
    carry Content-Length)."""
    host, port = server.base.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection((host, int(port))) as connection:
        pending = b""
        for _ in range(count):
            connection.sendall(request)
            while True:
                end = pending.find(b"\r\n\r\n")
                if end >= 0:
                    head = pending[:end].decode("latin-1").lower()
                    length = re.search(r"content-length: *(\d+)", head)
                    size = end + 4 + (int(length.group(1)) if length else 0)
                    if len(pending) >= size:
                        if not head.startswith("http/1.1 2"):
                            sys.exit(f"{server.name} {path}: {head.splitlines()[0]}")
                        pending = pending[size:]
                        break
                chunk = connection.recv(65536)
                if not chunk:
                    sys.exit(f"{server.name} closed the connection")
                pending += chunk


def callgrind(server, work, names, count):
    """Instructions per request of each endpoint, counted by callgrind."""
    pid = str(server.process.pid)
    subprocess.run(["callgrind_control", "--instr=on", pid], check=True, capture_output=True)
    per_request = {}
    for name in names:
        path, headers = endpoints(server)[name]
        keep_alive(server, path, headers, 200)
        subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
        keep_alive(server, path, headers, count)
        subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
        dumps = sorted(work.glob(f"cg.{server.name}.*"), key=lambda f: f.stat().st_mtime)
        totals = re.search(r"^totals: (\d+)", dumps[-1].read_text(errors="replace"), re.M)
        per_request[name] = int(totals.group(1)) / count
    return per_request


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", default="release", help="nets' cargo profile (release, bench-lto)")
    parser.add_argument("--only", action="append", help="endpoints to run (default: all)")
    parser.add_argument("--full", action="store_true", help="nets with every feature (push, social, /docs, ...)")
    parser.add_argument("--plain-relocs", action="store_true",
                        help="link both without packed relative relocations (DT_RELR)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--callgrind", type=int, metavar="N",
                        help="count instructions of N requests per endpoint under callgrind instead of running wrk")
    args = parser.parse_args()
    if args.callgrind and not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    if not args.callgrind and not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    nets_bin, hand_bin = (
        (ROOT / "target" / args.profile / "bench_http", HW_TARGET / "release" / "handwritten")
        if args.no_build else build(args.profile, args.full, not args.plain_relocs)
    )
    work = Path(tempfile.mkdtemp(prefix="nets-bench-http-"))
    under = lambda name: ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                          f"--callgrind-out-file={work}/cg.{name}.out"] if args.callgrind else []
    start_within = 600 if args.callgrind else 60
    nets = Server("nets", [*under("nets"), str(nets_bin)], {
        "NETS_BENCH_ADDR": "127.0.0.1:8701",
        "NETS_BENCH_CLIENT_JSON": str(work / "nets.json"),
        "DATABASE_URL": f"sqlite://{work}/nets.sqlite3?mode=rwc",
    }, "http://127.0.0.1:8701", work / "nets.json", start_within)
    hand = Server("hand-written", [*under("hand-written"), str(hand_bin)], {
        "HANDWRITTEN_ADDR": "127.0.0.1:8703",
        "HANDWRITTEN_DB": str(work / "hw.sqlite3"),
        "HANDWRITTEN_CLIENT_JSON": str(work / "hw.json"),
    }, "http://127.0.0.1:8703", work / "hw.json", start_within)
    try:
        features = "every feature" if args.full else "the features it uses"
        relocs = "plain relocations" if args.plain_relocs else "packed relocations (DT_RELR)"
        print(f"nets profile {args.profile}, {features}, both with {relocs}; wrk -t{args.threads} "
              f"-c{args.connections} -d{args.duration}s, {args.rounds} rounds, alternating")
        check_alike(nets, hand)
        names = args.only or list(endpoints(nets))
        if args.callgrind:
            counted = {server.name: callgrind(server, work, names, args.callgrind) for server in (nets, hand)}
            print(f"\ninstructions per request (callgrind, {args.callgrind} requests each, user space only)")
            print("endpoint            nets   hand-written   nets / hand")
            for name in names:
                n, h = counted["nets"][name], counted["hand-written"][name]
                print(f"{name:<14} {n:>9.0f} {h:>14.0f} {n / h:>13.2f}")
            return
        results = {}
        for name in names:
            rounds = []
            for i in range(args.rounds):
                # Alternate who goes first, so drift in the machine's load hits both alike.
                order = [nets, hand] if i % 2 == 0 else [hand, nets]
                measured = {s.name: wrk(s, *endpoints(s)[name], args) for s in order}
                n, h = measured["nets"], measured["hand-written"]
                rounds.append((n, h))
                print(f"  {name} round {i + 1}: nets {n[0]:>9.0f} req/s, hand-written {h[0]:>9.0f} req/s, "
                      f"ratio {n[0] / h[0]:.2f}")
            results[name] = rounds
        print("\nendpoint        nets req/s  hand req/s  ratio   p50 nets  p50 hand   p99 nets  p99 hand")
        for name, rounds in results.items():
            med = lambda values: statistics.median(values)
            ratio = med([n[0] / h[0] for n, h in rounds])
            print(f"{name:<14} {med([n[0] for n, _ in rounds]):>11.0f} {med([h[0] for _, h in rounds]):>11.0f} "
                  f"{ratio:>6.2f} {med([n[1] for n, _ in rounds]):>8.2f}ms {med([h[1] for _, h in rounds]):>7.2f}ms "
                  f"{med([n[2] for n, _ in rounds]):>8.2f}ms {med([h[2] for _, h in rounds]):>7.2f}ms")
        print(f"\npeak RSS: nets {nets.peak_rss_mib():.1f} MiB, hand-written {hand.peak_rss_mib():.1f} MiB")
    finally:
        nets.stop()
        hand.stop()


if __name__ == "__main__":
    main()
