#!/usr/bin/env python3
"""Fuzzes a live `spoor serve` from its own OpenAPI document with schemathesis.

Starts the server on a free loopback port on a scratch store (a SQLite data
directory, or a scratch PostgreSQL database dropped afterwards), makes an owner,
a viewer, an admin token and a write key, and runs schemathesis over every
operation in /api/openapi.json once per credential, with a fixed seed and a
fixed number of examples. Fails on any 5xx, any status the document does not
list, any response that breaks its documented schema, a server that died, or
a server whose peak resident memory went over the bound.

Only the standard library: schemathesis runs as its own command.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

PASSWORD = "a long enough password for the fuzz run"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def log(msg):
    print(f"apifuzz: {msg}", flush=True)


def clean_env():
    """The caller's environment without Spoor's settings: only the flags given count."""
    return {k: v for k, v in os.environ.items() if not (k.startswith("SPOOR_") or k == "DATABASE_URL")}


class Store:
    def __init__(self, kind, pg_admin_url):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="spoor-apifuzz-")
        self.pg_admin_url = pg_admin_url
        self.db = None
        if kind == "postgres":
            self.db = f"spoor_apifuzz_{uuid.uuid4().hex[:12]}"
            psql(pg_admin_url, f"CREATE DATABASE {self.db}")

    def args(self):
        args = ["--data-dir", self.dir]
        if self.db:
            base = self.pg_admin_url.rsplit("/", 1)[0]
            args += ["--database-url", f"{base}/{self.db}"]
        return args

    def drop(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.db:
            psql(self.pg_admin_url, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def cli(binary, store, *args, stdin=None):
    out = subprocess.run(
        [binary, *store.args(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    if out.returncode != 0:
        sys.exit(f"apifuzz: spoor {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


def request(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sign_in(base, email):
    status, headers, body = request("POST", f"{base}/api/auth/login", {"email": email, "password": PASSWORD})
    if status != 200:
        sys.exit(f"apifuzz: {email} could not sign in: {status} {body[:200]!r}")
    cookie = headers.get("Set-Cookie") or headers.get("set-cookie")
    session = cookie.split(";", 1)[0]
    csrf = json.loads(body)["csrf_token"]
    return [f"Cookie: {session}", f"X-CSRF-Token: {csrf}"]


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


def schemathesis(base, label, headers, args, report_dir, exclude_logout):
    report = os.path.join(report_dir, f"{args.store}-{label}.ndjson")
    cmd = [
        "schemathesis",
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        report,
    ]
    only = os.environ.get("SPOOR_APIFUZZ_PATHS")
    if only:
        # A regex of paths, to fuzz a few operations while working on them.
        cmd += ["--include-path-regex", only]
    if exclude_logout:
        # Signing out would end the session every later request of this run
        # is made with; the other credentials' runs fuzz it.
        cmd += ["--exclude-path", "/api/auth/logout"]
    for h in headers:
        cmd += ["--header", h]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    took = time.monotonic() - started
    cases, operations, failures = summarise(report)
    log(f"{args.store} as {label}: {operations} operations, {cases} test cases, {failures} failures, {took:.0f} s")
    if out.returncode != 0:
        print(out.stdout[-20000:])
        print(out.stderr[-5000:], file=sys.stderr)
    return out.returncode == 0, cases, operations, failures


def summarise(path):
    """Operations, test cases and distinct failures, from schemathesis' event stream."""
    operations, cases, failures = set(), 0, set()
    try:
        with open(path) as f:
            for line in f:
                event = json.loads(line).get("ScenarioFinished")
                if not event:
                    continue
                recorder = event.get("recorder", {})
                operations.add(recorder.get("label"))
                cases += len(recorder.get("cases", {}))
                for checks in recorder.get("checks", {}).values():
                    for check in checks:
                        if check.get("status") == "failure":
                            failure = check.get("failure_info", {}).get("failure", {})
                            failures.add((failure.get("operation"), failure.get("code"), failure.get("message")))
    except FileNotFoundError:
        pass
    return cases, len(operations), len(failures)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--store", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--examples", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--max-rss-mb", type=int, default=300)
    p.add_argument("--report-dir", required=True)
    args = p.parse_args()
    os.makedirs(args.report_dir, exist_ok=True)

    store = Store(args.store, args.pg_admin_url)
    server = None
    try:
        binary = args.bin
        key = cli(binary, store, "keys", "create", "--name", "fuzz", "--rate-limit", "1000000")
        token = cli(binary, store, "tokens", "create", "--name", "fuzz")
        for email, role in [("owner@example.com", "owner"), ("viewer@example.com", "viewer")]:
            cli(binary, store, "users", "create", "--email", email, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")

        log_path = os.path.join(args.report_dir, f"{args.store}-server.log")
        server_log = open(log_path, "w")
        env = clean_env()
        env["SPOOR_LOG"] = "warn"
        server = subprocess.Popen(
            [binary, *store.args(), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=server_log,
            text=True,
            env=env,
        )
        first = server.stdout.readline().strip()
        prefix = "spoor listening on "
        if not first.startswith(prefix):
            sys.exit(f"apifuzz: unexpected first line from spoor serve: {first!r}")
        base = first[len(prefix) :]

        basic = base64.b64encode(f"{key}:".encode()).decode()
        # The write key first and the owner last: an owner's run may disable
        # or delete the key, rename the project, and so on.
        credentials = [
            ("write-key", [f"Authorization: Basic {basic}"], False),
            ("viewer", sign_in(base, "viewer@example.com"), True),
            ("admin-token", [f"Authorization: Bearer {token}"], False),
            ("owner", sign_in(base, "owner@example.com"), True),
        ]
        ok = True
        started = time.monotonic()
        cases = failures = operations = 0
        for label, headers, session in credentials:
            passed, c, o, f = schemathesis(base, label, headers, args, args.report_dir, session)
            ok &= passed
            cases, failures, operations = cases + c, failures + f, max(operations, o)

        if server.poll() is not None:
            log(f"{args.store}: the server exited ({server.returncode}) during the run; see {log_path}")
            ok = False
        else:
            status, _, body = request("GET", f"{base}/healthz")
            if status != 200:
                log(f"{args.store}: /healthz answers {status} after the run: {body[:200]!r}")
                ok = False
            peak = peak_rss_kb(server.pid) // 1024
            log(f"{args.store}: the server's peak resident memory was {peak} MB (bound {args.max_rss_mb} MB)")
            if peak > args.max_rss_mb:
                ok = False
        took = time.monotonic() - started
        log(
            f"{args.store}: {operations} operations, {cases} test cases, {failures} failures "
            f"(examples {args.examples}, seed {args.seed}) in {took:.0f} s"
        )
        return 0 if ok else 1
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        store.drop()


if __name__ == "__main__":
    sys.exit(main())
