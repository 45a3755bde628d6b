#!/usr/bin/env python3
"""HTTP API benchmark: verify a proof and read an asset under load, beside a constant (a benchmark, not a test).

The server is ``dataseal up`` itself — the embedded chain, the indexer and the API in one process, as ``make run``
starts it — on free ports with its data in a temporary folder, once on SQLite (its default) and once on a
PostgreSQL the benchmark starts (``--database-url``). The only thing added to it is the baseline: this script
starts ``dataseal up`` through its own ``--serve`` mode, which wraps :func:`dataseal.api.app.create_app` so that
the app it builds also answers ``GET /_bench/constant`` (a constant JSON object from an ``async`` route, outside the
OpenAPI schema) — the same process, app, middleware and uvicorn as the product's routes, and no product route.

Before the load, the CLI registers ``--assets`` files (random bytes, ``--file-kib`` KiB each, chunks of 4 KiB:
a 256-leaf tree for the default 1 MiB) against that ``dataseal up`` and writes ``dataseal prove --chunk 17
--offline`` of the first: a proof document (kind ``dataseal.proof``, 8 siblings). Under load:

- ``POST /verify/proof`` with that document: checked offline (leaf, siblings, root) and its root looked up on the
  chain (``asset_id_of`` and ``asset``: two ``eth_call`` to the embedded chain, made once per head and then answered
  from what the service holds, on its event loop) — every answer must be 200 with ``ok: true`` and the registration;
- ``GET /assets/{id}`` of the first asset (the chain's record and the stored manifest's title);
- ``GET /_bench/constant``: the baseline.

The load comes from this process (the server is another): an async HTTP client (``--client``: httpx's AsyncClient
or aiohttp) with ``--connections`` connections (default 64) and as many loops sending requests back to back, over
loopback only, for ``--seconds`` seconds an endpoint after ``--warmup`` seconds of the same load. The endpoints are
measured in turn in ``--rounds`` rounds (this machine's speed drifts and other processes share its cores); figures
are the medians of the rounds, ``*_ratio`` the median of each round's ratio to the baseline's requests/s. The CPU
seconds of the client and of the server in each measurement are printed beside it (the two share this machine's
cores: a client at 100% of a core is what limits the rate, not the server). ``--profile FILE`` writes the server's
cProfile statistics (every thread, CPU time) of the last database's run to FILE for ``python -m pstats``.

Targets (issue 12): verify ≥ 0.5× baseline requests/s, p99 ≤ 50 ms. With 64 connections each waiting for its answer
before it sends again, a request's latency is about 64 / (requests/s) (Little's law): a p99 of 50 ms needs some
1,300 requests/s or more, about what the constant itself is answered at on two shared cores.

Every process started here (``dataseal up``, PostgreSQL) is stopped by its PID, also on error. The last line printed
is one JSON object. Nothing here asserts on time.

    .venv/bin/python scripts/bench/api.py                                   # full run (~5 minutes)
    .venv/bin/python scripts/bench/api.py --seconds 2 --rounds 1 --no-postgres
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BASELINE_PATH: Final = "/_bench/constant"
ENDPOINTS: Final = ("baseline", "asset", "verify")
TARGET_VERIFY_RATIO: Final = 0.5
TARGET_P99_MS: Final = 50.0
CHUNK_SIZE: Final = "4KiB"
PROVED_CHUNK: Final = 17
#: How long the benchmark waits for `dataseal up` to print its ready line (it deploys the contracts first).
START_GUARD_SECONDS: Final = 300.0
STOP_GUARD_SECONDS: Final = 30.0
CLIENT_TIMEOUT_SECONDS: Final = 60.0
PROFILE_ENV: Final = "DATASEAL_BENCH_PROFILE"


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------- the server


def add_baseline(app: FastAPI) -> FastAPI:
    """``app`` answering ``GET`` :data:`BASELINE_PATH` with a constant (an ``async`` route: no worker thread, no
    registry), outside its OpenAPI schema; behind the same middleware as its own routes."""

    @app.get(BASELINE_PATH, include_in_schema=False)
    async def constant() -> dict[str, str]:
        return {"constant": "dataseal"}

    return app


def serve(argv: list[str]) -> int:
    """``dataseal up ARGV`` in this process, its app answering :data:`BASELINE_PATH` too (see the module)."""
    import dataseal.api.app as api_app
    from dataseal.cli.main import main as cli_main

    product_create_app = api_app.create_app

    def create_app_with_baseline(*args: Any, **kwargs: Any) -> FastAPI:
        return add_baseline(product_create_app(*args, **kwargs))

    api_app.create_app = create_app_with_baseline  # `up` imports it from the module when it starts the API
    profile_path = os.environ.get(PROFILE_ENV)
    if not profile_path:
        return cli_main(["up", *argv])
    with _profiled_threads(Path(profile_path)):
        return cli_main(["up", *argv])


@contextmanager
def _profiled_threads(out: Path) -> Iterator[None]:
    """cProfile in every thread started inside (the API's worker threads, uvicorn's, the indexer's, the chain's) and
    this one, timing each thread's CPU time (wall time would charge every function with the time its thread waited
    for the GIL); their statistics merged into ``out`` at the end."""
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_: object) -> None:  # the first event of a new thread: from then on cProfile's own hook
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    main = cProfile.Profile(time.thread_time)
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.setprofile(None)
        with lock:
            stats = pstats.Stats(main)
            for profile in profiles:
                try:
                    stats.add(profile)
                except (TypeError, ValueError):  # a thread that recorded nothing
                    pass
        stats.dump_stats(str(out))


@dataclass
class Server:
    """A `dataseal up` process (through :func:`serve`) and its ready line."""

    proc: subprocess.Popen[str]
    ready: dict[str, Any]
    folder: Path
    stderr_path: Path

    @property
    def api(self) -> str:
        return str(self.ready["api_url"])

    @property
    def data_dir(self) -> str:
        return str(self.ready["data_dir"])

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used (user + system, all threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _env() -> dict[str, str]:
    """The environment of the processes started here: this checkout first on their path (then the caller's)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


@contextmanager
def running_server(folder: Path, database_url: str | None, profile: Path | None) -> Iterator[Server]:
    """`dataseal up --json` on free ports with its data in ``folder``; stopped (SIGTERM, then SIGKILL) by its PID."""
    folder.mkdir(parents=True, exist_ok=True)
    stderr_path = folder / "up.err"
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--data-dir", str(folder / ".dataseal"),
               "--port", "0", "--api-port", "0", "--light-kdf", "--json"]
    if database_url is not None:
        command += ["--database-url", database_url]
    env = _env()
    if profile is not None:
        env[PROFILE_ENV] = str(profile)
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env)
    try:
        guard = threading.Timer(START_GUARD_SECONDS, _kill, (proc,))
        guard.start()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the ready line: the event, not a sleep
        finally:
            guard.cancel()
        if not line:
            proc.wait()
            raise SystemExit(f"dataseal up exited with {proc.returncode} before it was ready:\n"
                             f"{stderr_path.read_text(errors='replace')[-3000:]}")
        yield Server(proc, json.loads(line), folder, stderr_path)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GUARD_SECONDS)
            except subprocess.TimeoutExpired:
                _kill(proc)
                proc.wait()


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)


def cli(server: Server, *args: str, offline: bool = False) -> str:
    """``dataseal ARGS --data-dir …`` (the server's data folder: the CLI finds its chain there; not ``offline``),
    in the server's folder; its stdout."""
    command = [sys.executable, "-m", "dataseal.cli.main", *args, *(() if offline else ("--data-dir", server.data_dir))]
    done = subprocess.run(command, cwd=server.folder, env=_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"dataseal {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


@dataclass(frozen=True)
class Workload:
    """What the benchmark sends: an asset to read and a proof to verify."""

    asset_id: int
    proof: dict[str, Any]
    leaf_count: int


def make_workload(server: Server, assets: int, file_kib: int) -> Workload:
    """Register ``assets`` files of ``file_kib`` KiB with the CLI; the proof of a chunk of the first."""
    first: dict[str, Any] | None = None
    for number in range(assets):
        path = server.folder / f"data-{number}.bin"
        path.write_bytes(os.urandom(file_kib * 1024))
        registered = json.loads(cli(server, "register", path.name, "--chunk-size", CHUNK_SIZE, "--json"))
        first = first or {"path": path.name, **registered}
    assert first is not None
    manifest = json.loads((server.folder / f"{first['path']}.dataseal" / "manifest.json").read_text())
    leaf_count = int(manifest["tree"]["leafCount"])
    chunk = min(PROVED_CHUNK, leaf_count - 1)
    out = server.folder / "chunk.proof.json"
    cli(server, "prove", first["path"], "--chunk", str(chunk), "--offline", "-o", out.name, offline=True)
    return Workload(int(first["asset_id"]), json.loads(out.read_text()), leaf_count)


# ---------------------------------------------------------------------------------------------- the load


@dataclass
class Run:
    """One endpoint's measurement: latencies of the requests answered within the window, and its CPU seconds."""

    endpoint: str
    seconds: float
    latencies_ms: list[float]
    errors: int
    client_cpu_s: float
    server_cpu_s: float
    first_error: str | None = None

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("inf")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    check: Callable[[int, bytes], str | None] = field(default=lambda status, body: None)


def requests_of(work: Workload) -> dict[str, Request]:
    body = json.dumps(work.proof).encode()

    def verified(status: int, answer: bytes) -> str | None:
        if status != 200:
            return f"HTTP {status}: {answer[:300]!r}"
        document = json.loads(answer)
        if document.get("ok") is not True or document.get("registration", {}).get("asset_id") != work.asset_id:
            return f"the proof was not verified on chain: {answer[:300]!r}"
        return None

    def ok(status: int, answer: bytes) -> str | None:
        return None if status == 200 else f"HTTP {status}: {answer[:300]!r}"

    return {
        "baseline": Request("GET", BASELINE_PATH, check=ok),
        "asset": Request("GET", f"/assets/{work.asset_id}", check=ok),
        "verify": Request("POST", "/verify/proof", body, check=verified),
    }


Send = Callable[[Request], Awaitable[tuple[int, bytes]]]


async def _load(send: Send, request: Request, connections: int, warmup: float, seconds: float,
                server: Server) -> Run:
    """``connections`` loops sending ``request`` back to back: ``warmup`` seconds, then ``seconds`` measured (the
    requests answered inside the window, whenever they were sent: a request slower than the window still counts)."""
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    start = time.perf_counter() + warmup
    end = start + seconds

    async def loop() -> None:
        nonlocal errors, first_error
        while (began := time.perf_counter()) < end:
            status, answer = await send(request)
            done = time.perf_counter()
            if not start <= done <= end:  # answered outside the window (latencies from before it count)
                continue
            problem = request.check(status, answer)
            if problem is None:
                latencies.append((done - began) * 1000)
            else:
                errors += 1
                first_error = first_error or problem

    async def window() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        cpu = (time.process_time(), server.cpu_seconds())
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        return time.process_time() - cpu[0], server.cpu_seconds() - cpu[1]

    cpu_task = asyncio.ensure_future(window())
    await asyncio.gather(*(loop() for _ in range(connections)))
    client_cpu, server_cpu = await cpu_task
    return Run(request.path, seconds, latencies, errors, client_cpu, server_cpu, first_error)


async def _with_httpx(server: Server, connections: int, body: Callable[[Send], Awaitable[Run]]) -> Run:
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=server.api, limits=limits, timeout=CLIENT_TIMEOUT_SECONDS) as client:
        async def send(request: Request) -> tuple[int, bytes]:
            headers = {"content-type": "application/json"} if request.body is not None else None
            answer = await client.request(request.method, request.path, content=request.body, headers=headers)
            return answer.status_code, answer.content

        return await body(send)


async def _with_aiohttp(server: Server, connections: int, body: Callable[[Send], Awaitable[Run]]) -> Run:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(server.api, connector=connector, timeout=timeout) as session:
        async def send(request: Request) -> tuple[int, bytes]:
            headers = {"content-type": "application/json"} if request.body is not None else None
            async with session.request(request.method, request.path, data=request.body, headers=headers) as answer:
                return answer.status, await answer.read()

        return await body(send)


CLIENTS: Final = {"httpx": _with_httpx, "aiohttp": _with_aiohttp}


def measure(server: Server, request: Request, client: str, connections: int, warmup: float, seconds: float) -> Run:
    """One endpoint under load from this process (a fresh event loop and client each time)."""
    def body(send: Send) -> Awaitable[Run]:
        return _load(send, request, connections, warmup, seconds, server)

    return asyncio.run(CLIENTS[client](server, connections, body))


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class Figures:
    """The rounds of one database: each endpoint's runs, in round order."""

    runs: dict[str, list[Run]] = field(default_factory=dict)

    def median(self, endpoint: str, read: Callable[[Run], float]) -> float:
        return statistics.median(read(run) for run in self.runs[endpoint])

    def ratio(self, endpoint: str) -> float:
        return statistics.median(run.rps / base.rps if base.rps else float("nan")
                                 for run, base in zip(self.runs[endpoint], self.runs["baseline"], strict=True))


def bench_database(name: str, server: Server, work: Workload, args: argparse.Namespace) -> Figures:
    requests = requests_of(work)
    for endpoint, request in requests.items():  # each answers as expected before it is loaded
        sent = measure(server, request, args.client, 1, 0.0, 0.2)
        if sent.errors:
            raise SystemExit(f"{name}: {endpoint} ({request.method} {request.path}) failed: {sent.first_error}")
    figures = Figures()
    for round_no in range(args.rounds):
        line = [f"  {name} round {round_no + 1}:"]
        for endpoint in ENDPOINTS:
            run = measure(server, requests[endpoint], args.client, args.connections, args.warmup, args.seconds)
            figures.runs.setdefault(endpoint, []).append(run)
            errors = f" ({run.errors} errors)" if run.errors else ""
            line.append(f"{endpoint} {run.rps:7,.0f}/s p50 {run.percentile(0.5):6.1f} p99 {run.percentile(0.99):7.1f} "
                        f"ms{errors} cpu client/server {run.client_cpu_s / run.seconds:.2f}/"
                        f"{run.server_cpu_s / run.seconds:.2f}")
            if run.errors:
                say(f"  {name} {endpoint}: {run.errors} failed requests, the first: {run.first_error}")
        say(" | ".join(line) + f"   load {os.getloadavg()[0]:.1f}")
    return figures


def summarize(figures: Figures, suffix: str, out: dict[str, Any]) -> None:
    for endpoint in ENDPOINTS:
        out[f"{endpoint}_rps{suffix}"] = round(figures.median(endpoint, lambda run: run.rps), 1)
        for q in (50, 99):  # null: no request was answered within a window
            p = figures.median(endpoint, functools.partial(Run.percentile, q=q / 100))
            out[f"{endpoint}_p{q}_ms{suffix}"] = round(p, 2) if math.isfinite(p) else None
        out[f"{endpoint}_errors{suffix}"] = sum(run.errors for run in figures.runs[endpoint])
        out[f"{endpoint}_client_cpu{suffix}"] = round(
            figures.median(endpoint, lambda run: run.client_cpu_s / run.seconds), 2)
        out[f"{endpoint}_server_cpu{suffix}"] = round(
            figures.median(endpoint, lambda run: run.server_cpu_s / run.seconds), 2)
    out[f"verify_ratio{suffix}"] = round(figures.ratio("verify"), 3)
    out[f"asset_ratio{suffix}"] = round(figures.ratio("asset"), 3)


def _ms(value: float | None) -> str:
    return f"{'-' if value is None else f'{value:.1f}':>8}"


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        return serve(sys.argv[2:])
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds an endpoint and round "
                        "(default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of the same load before each measurement "
                        "(default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three endpoints in turn (default 3; "
                        "the medians are kept)")
    parser.add_argument("--connections", type=int, default=64, help="connections, each a loop of requests "
                        "(default 64)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="aiohttp", help="the async HTTP client "
                        "(default aiohttp: httpx's connection pool held the baseline to ~130 requests/s with the "
                        "client at 0.64 of a core and the server idle, where aiohttp drove it to ~1,700 at 0.21)")
    parser.add_argument("--assets", type=int, default=3, help="files registered before the load (default 3)")
    parser.add_argument("--file-kib", type=int, default=1024, help="KiB a file (default 1024: 256 chunks of 4 KiB)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--profile", type=Path, help="write the server's cProfile statistics (of the last "
                        "database's run) to this file")
    args = parser.parse_args()
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1 or args.connections < 1 or args.assets < 1 \
            or args.file_kib < 1:
        parser.error("--seconds must be above 0, --warmup at least 0, --rounds, --connections, --assets and "
                     "--file-kib at least 1")

    out: dict[str, Any] = {"client": args.client, "connections": args.connections, "seconds": args.seconds,
                           "rounds": args.rounds, "proof_checked_on_chain": True}
    databases = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="dataseal-bench-api-") as work_dir, ExitStack() as stack:
        folder = Path(work_dir)
        if "postgres" in databases:
            from tests.support.postgres import postgres_server

            # in the system's temporary folder: as root, the user postgres must reach it (the benchmark's is private)
            postgres = stack.enter_context(postgres_server())
        for name in databases:
            url = postgres.create_database("benchapi") if name == "postgres" else None
            profile = args.profile.resolve() if args.profile is not None and name == databases[-1] else None
            with running_server(folder / name, url, profile) as server:
                say(f"{name}: dataseal up at {server.api} (database {server.ready['database'].split('@')[-1]}); "
                    f"registering {args.assets} files ...")
                work = make_workload(server, args.assets, args.file_kib)
                say(f"  asset {work.asset_id}, a proof of chunk {work.proof.get('value', ['?'])[0]} of "
                    f"{work.leaf_count} ({len(work.proof['proof'])} siblings); {args.connections} connections, "
                    f"{args.client}, {args.warmup:g} s warm-up + {args.seconds:g} s an endpoint")
                results[name] = bench_database(name, server, work, args)
    summarize(results["sqlite"], "", out)
    if "postgres" in results:
        summarize(results["postgres"], "_postgres", out)

    say("")
    say(f"{'figure':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}  target")
    for name in results:
        suffix = "" if name == "sqlite" else "_postgres"
        for endpoint in ENDPOINTS:
            ratio = out.get(f"{endpoint}_ratio{suffix}")
            target = {"verify": f">= {TARGET_VERIFY_RATIO} x baseline, p99 <= {TARGET_P99_MS:g} ms",
                      "asset": f"p99 <= {TARGET_P99_MS:g} ms"}.get(endpoint, "")
            say(f"{endpoint + ' (' + name + ')':<34} {out[f'{endpoint}_rps{suffix}']:>9,.0f} "
                f"{_ms(out[f'{endpoint}_p50_ms{suffix}'])} {_ms(out[f'{endpoint}_p99_ms{suffix}'])} "
                f"{'' if ratio is None else f'{ratio:.2f}':>7}  {target}")
    say(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
