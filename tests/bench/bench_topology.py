"""Production-topology benchmark (issue 4): the Core figures through intake on Kafka, and
scale from zero.

Run from the repository root: ``.venv/bin/python -m tests.bench.bench_topology [--quick]``.
It starts an embedded PostgreSQL and a local Kafka (``shared/infra/kafka.sh``), then the
functions as separate processes, as ``lg-deploy up`` does (``tests/topology.py``), and prints
two tables. Nothing is asserted: timings depend on the machine and on what else runs on it.

1. Production topology: 1 intake, 2 executors, webhooks and cron (idle). The measures of
   :mod:`tests.bench.bench_core` run against the intake's URL; peak RSS is given per process
   (each function, the Kafka broker's JVM) beside PostgreSQL's. Then the A/B rows: a
   ``lg-deploy dev`` is started beside the topology and both get the same c=1 requests in
   alternation (create latency, ``runs/wait`` latency, create -> claim), so that the cost of
   the topology (Kafka, separate processes) shows despite a machine whose load drifts.
2. Scale from zero: the same functions without executors, under a fresh topic prefix. Each
   trial creates runs with the official SDK (they stay ``pending``; their ``run-requests``
   records wait in Kafka as consumer lag), then spawns one executor and times, from the spawn
   and from the moment its ``/ok`` answers: each run's claim (``runs.started_at``, written by
   the claim) and each run's first event after ``metadata`` as the client sees it
   (``runs.join_stream``); and when the executors' consumer group has caught up with Kafka.
   The executor is stopped after each trial, so every trial starts from zero.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run
from prometheus_client.parser import text_string_to_metric_families

from shared.cloud_events.types import RUN_REQUESTS_TOPIC
from shared.embedded import ensure_max_connections, stop_embedded_postgres
from shared.infra.kafka import LocalKafka
from shared.kafka.topics import PARTITIONS
from tests.bench.bench_core import (
    Counts,
    Profiler,
    Report,
    Resources,
    Tree,
    bench,
    p50_p99,
    pg_uri,
    timed,
    wait_echo,
    warm_up,
)
from tests.kafka_support import kafka_broker
from tests.support import ROOT, Server, dev_server, postgres_dir
from tests.topology import Topology, kafka_topology

N_JOBS = 32
"""Slots per executor: lg-deploy's default, as ``lg-deploy up`` runs them."""
IDLE = ("webhooks", "cron")
SCALE_RUNS = 5
"""Runs waiting for the first executor in each scale-from-zero trial."""
POLL = 0.02
LAG_TIMEOUT = 30.0
TARGET_SECONDS = 2.0
MAX_CONNECTIONS = 300
"""PostgreSQL's default (100) is too few for five processes whose pools may each open 20
asyncpg + 20 psycopg connections: under the c=32 load the executors' pools fail with
"too many clients already"."""
FUNCTION_ENV = {"LG_DEPLOY_LOG_LEVEL": "WARNING"}
IMPORTS = "import functions.cli, functions.executor.function, shared.execution.attempt"
"""What a fresh executor process imports before any work (the graphs load later)."""


@dataclass
class Infra:
    """The bench's PostgreSQL and Kafka, and the folder for the functions' logs."""

    database_url: str
    pgdata: Path
    kafka: LocalKafka
    logs: Path


@contextmanager
def infrastructure() -> Iterator[Infra]:
    """An embedded PostgreSQL (restarted once with :data:`MAX_CONNECTIONS`) and a local Kafka
    in temp folders, stopped and removed on exit."""
    with postgres_dir("bench-topology") as base, kafka_broker("bench") as kafka:
        data = base / "data"
        uri = ensure_max_connections(data, MAX_CONNECTIONS)
        try:
            yield Infra(uri, data / "pgdata", kafka, base)
        finally:
            stop_embedded_postgres(data)


@contextmanager
def topology(infra: Infra, executors: int) -> Iterator[Topology]:
    """Intake, ``executors`` executors and the idle functions; their logs are printed on
    stderr if the block fails."""
    with kafka_topology(
        infra.database_url,
        infra.kafka.bootstrap,
        infra.logs,
        executors=executors,
        n_jobs=N_JOBS,
        others=IDLE,
        env=FUNCTION_ENV,
    ) as running:
        try:
            yield running
        except BaseException:
            print(running.logs_text()[-20_000:], file=sys.stderr)
            raise


def production(infra: Infra, counts: Counts) -> Report:
    """The Core figures through the intake of 1 intake + 2 executors (+ idle webhooks, cron),
    then the A/B rows against ``lg-deploy dev``."""
    with topology(infra, executors=2) as running:
        trees = [Tree(name, name, server.proc.pid) for name, server in running.servers.items()]
        kafka_pid = infra.kafka.pid()
        assert kafka_pid is not None
        trees.append(Tree("kafka", "Kafka broker (JVM)", kafka_pid))
        resources = Resources(trees, infra.pgdata)
        url, profiler = running.intake.url, Profiler(None, 0)
        report = uvloop.run(bench(url, infra.database_url, resources, counts, profiler))
        compare_with_dev(Side("topology", url, infra.database_url), counts.e2e, report)
    report.notes.append(
        f"functions: intake, 2 executors (--n-jobs {N_JOBS} each), webhooks and cron idle;"
        " CPU of the Kafka broker is the kafka column"
    )
    return report


def compare_with_dev(topology_side: Side, rounds: int, report: Report) -> None:
    """Start ``lg-deploy dev`` beside the topology and add the A/B rows of ``rounds`` rounds."""
    with dev_server("bench-dev", env=FUNCTION_ENV) as dev:
        sides = [topology_side, Side("lg-deploy dev", dev.url, pg_uri(dev))]
        uvloop.run(side_by_side(sides, rounds))
    for metric, label in (
        ("create", "run create latency"),
        ("e2e", "runs/wait e2e latency"),
        ("claim", "run create -> claim"),
    ):
        for side in sides:
            samples = getattr(side, metric)
            report.add(f"A/B {label} p50 / p99, {side.name}", p50_p99(samples))
    report.notes.append(
        f"A/B rows: {rounds} rounds at c=1 alternating between the topology and a lg-deploy dev"
        " started beside it (both warmed up), so both see the same machine load; per round and"
        " side: runs.create on a new thread (then joined), runs.wait on a fresh thread;"
        " create -> claim = runs.started_at - runs.created_at (PostgreSQL's clock): an executor"
        " hears of a run through Kafka in the topology, through the in-process bus in dev"
    )


@dataclass
class Side:
    """One API of the interleaved comparison, and its samples in seconds."""

    name: str
    url: str
    database_url: str
    create: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    claim: list[float] = field(default_factory=list)


async def side_by_side(sides: list[Side], rounds: int) -> None:
    """Warm each side up, then ``rounds`` rounds in which each side in turn gets one
    ``runs.create`` on a new thread (joined before going on) and one ``runs.wait`` on a fresh
    thread; afterwards each created run's create -> claim delay is read from its database."""
    clients = [get_client(url=side.url) for side in sides]
    created: list[list[str]] = [[] for _ in sides]
    try:
        for client in clients:
            await warm_up(client)
        for _ in range(rounds):
            for side, client, run_ids in zip(sides, clients, created, strict=True):
                thread_id = (await client.threads.create())["thread_id"]
                create = partial(client.runs.create, thread_id, "echo", input={"items": []})
                seconds, run = await timed(create)
                side.create.append(seconds)
                await client.runs.join(thread_id, run["run_id"])
                run_ids.append(run["run_id"])
                side.e2e.append((await timed(partial(wait_echo, client)))[0])
    finally:
        for client in clients:
            await client.aclose()
    for side, run_ids in zip(sides, created, strict=True):
        side.claim = await claim_delays(side.database_url, run_ids)


async def claim_delays(database_url: str, run_ids: list[str]) -> list[float]:
    """``started_at - created_at`` in seconds of each run in ``run_ids``."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM started_at - created_at)::float8 AS delay FROM runs"
            " WHERE run_id = ANY($1::uuid[])",
            run_ids,
        )
    finally:
        await conn.close()
    return [row["delay"] for row in rows]


class LagProbe:
    """Records of ``<prefix>run-requests`` not committed by group ``<prefix>executors``: the
    lag KEDA's kafka trigger reads."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.group = prefix + "executors"
        topic = prefix + RUN_REQUESTS_TOPIC
        self.partitions = [TopicPartition(topic, p) for p in range(PARTITIONS[RUN_REQUESTS_TOPIC])]
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._ends = AIOKafkaConsumer(bootstrap_servers=bootstrap)

    async def start(self) -> None:
        """Connect both clients."""
        await self._admin.start()
        await self._ends.start()

    async def close(self) -> None:
        """Disconnect both clients."""
        await self._ends.stop()
        await self._admin.close()

    async def lag(self) -> int:
        """End offsets minus the group's committed offsets (0 where it committed none)."""
        ends = await self._ends.end_offsets(self.partitions)
        committed = await self._admin.list_consumer_group_offsets(self.group)
        return sum(
            end - (max(0, committed[tp].offset) if tp in committed else 0)
            for tp, end in ends.items()
        )

    async def until(self, done: Callable[[int], bool]) -> tuple[int, float]:
        """Poll every 50 ms until ``done(lag)``; ``(lag, perf_counter time)`` then.

        Raises TimeoutError after :data:`LAG_TIMEOUT` seconds."""
        async with asyncio.timeout(LAG_TIMEOUT):
            while True:
                lag = await self.lag()
                if done(lag):
                    return lag, time.perf_counter()
                await asyncio.sleep(0.05)


@dataclass
class Trial:
    """One scale-from-zero trial; times are seconds from the executor's spawn."""

    lag: int
    """run-requests records waiting in Kafka before the spawn."""
    pending: str
    """intake's /metrics view of the waiting runs before the spawn."""
    ok: float
    """the executor's /ok answers."""
    claimed: list[float]
    """each run's ``started_at`` (sorted)."""
    first_event: list[float]
    """each run's first event after ``metadata`` at the client (sorted)."""
    drained: float
    """the executors' group has committed every run-requests record."""


async def pending_metrics(intake: Server) -> str:
    """``lgd_runs{status="pending"}`` and the oldest pending run's age from intake's /metrics."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(intake.url + "/metrics")).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "lgd_runs" and sample.labels.get("status") == "pending":
                found["pending"] = f"{sample.value:.0f}"
            elif sample.name == "lgd_oldest_pending_run_age_seconds":
                found["oldest age"] = f"{sample.value:.2f} s"
    return ", ".join(f"{k} {v}" for k, v in found.items())


async def first_run_event(client: LangGraphClient, run: Run, joined: Callable[[], None]) -> float:
    """``perf_counter`` time of ``run``'s first event after ``metadata``; ``joined`` is called
    once the stream replays the stored ``metadata`` event (the stream is open)."""
    stream = client.runs.join_stream(run["thread_id"], run["run_id"], last_event_id="-1")
    async for part in stream:
        if part.event == "metadata":
            joined()
            continue
        return time.perf_counter()
    raise RuntimeError(f"run {run['run_id']} ended without an event")


async def wait_ok(topology: Topology, name: str, t0: float) -> float:
    """Seconds from ``t0`` until the function ``name`` (registered by ``Topology.start`` right
    after it spawned the process) answers ``/ok``, polled every :data:`POLL`."""
    async with httpx.AsyncClient() as http:
        while True:
            server = topology.servers.get(name)
            try:
                if server and (await http.get(server.url + "/ok", timeout=1.0)).is_success:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            await asyncio.sleep(POLL)


async def trial(
    running: Topology, client: LangGraphClient, probe: LagProbe, database_url: str
) -> Trial:
    """Create :data:`SCALE_RUNS` runs with no executor, spawn one, time their start; stop it."""
    threads = [(await client.threads.create())["thread_id"] for _ in range(SCALE_RUNS)]
    runs = [await client.runs.create(t, "echo", input={"items": []}) for t in threads]
    lag, _ = await probe.until(lambda n: n >= SCALE_RUNS)
    pending = await pending_metrics(running.intake)
    joined = asyncio.Semaphore(0)
    watchers = [asyncio.create_task(first_run_event(client, run, joined.release)) for run in runs]
    for _ in runs:
        await joined.acquire()
    name = f"executor{len(running.executors) + 1}"
    t0, wall = time.perf_counter(), time.time()
    starting = asyncio.create_task(
        asyncio.to_thread(running.start, "executor", ["--n-jobs", str(N_JOBS)])
    )
    ok = await wait_ok(running, name, t0)
    seen = await asyncio.gather(*watchers)
    _, drained_at = await probe.until(lambda n: n == 0)
    await starting
    await asyncio.to_thread(running.servers[name].stop)
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT started_at FROM runs WHERE run_id = ANY($1::uuid[])",
            [run["run_id"] for run in runs],
        )
    finally:
        await conn.close()
    return Trial(
        lag=lag,
        pending=pending,
        ok=ok,
        claimed=sorted(row["started_at"].timestamp() - wall for row in rows),
        first_event=sorted(t - t0 for t in seen),
        drained=drained_at - t0,
    )


def import_seconds(times: int = 3) -> float:
    """Median seconds a fresh Python takes to import the executor's modules (no work)."""
    samples = []
    for _ in range(times):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def seconds(values: list[float]) -> str:
    """``"median / worst"`` of per-trial seconds."""
    return f"{statistics.median(values):.2f} s / {max(values):.2f} s"


def scale_report(trials: list[Trial], imports: float) -> Report:
    """The scale-from-zero table: median and worst over the trials, one note per trial."""
    report = Report()
    n = f"{SCALE_RUNS} runs"
    last_claim = [t.claimed[-1] for t in trials]
    last_event = [t.first_event[-1] for t in trials]
    report.add("fresh python importing the executor's modules", f"{imports:.2f} s")
    lags = sorted({t.lag for t in trials})
    report.add("run-requests lag before the spawn (Kafka)", " / ".join(map(str, lags)))
    report.add("spawn -> executor /ok answers", seconds([t.ok for t in trials]))
    report.add(f"spawn -> first of {n} claimed", seconds([t.claimed[0] for t in trials]))
    target = f"<= {TARGET_SECONDS:.0f} s"
    report.add(f"spawn -> last of {n} claimed", seconds(last_claim), target)
    report.add(f"spawn -> last of {n}: first event at client", seconds(last_event), target)
    report.add(f"/ok -> last of {n} claimed", seconds([t.claimed[-1] - t.ok for t in trials]))
    report.add(
        f"/ok -> last of {n}: first event at client",
        seconds([t.first_event[-1] - t.ok for t in trials]),
    )
    report.add("spawn -> Kafka lag back to 0", seconds([t.drained for t in trials]))
    for start, times in (
        ("spawn", last_event),
        ("/ok", [t.first_event[-1] - t.ok for t in trials]),
    ):
        met = sum(1 for x in times if x <= TARGET_SECONDS)
        report.notes.append(
            f"target 'a run starts within {TARGET_SECONDS:.0f} s of an executor starting',"
            f" counted from {start}: met in {met} of {len(trials)} trials"
        )
    report.notes.append("rows: median / worst over the trials; negative = before /ok answered")
    for i, t in enumerate(trials, 1):
        claims = ", ".join(f"{c:.2f}" for c in t.claimed)
        report.notes.append(
            f"trial {i}: lag {t.lag}, intake /metrics {t.pending}; /ok {t.ok:.2f} s;"
            f" claimed at {claims} s; first events {t.first_event[0]:.2f}-"
            f"{t.first_event[-1]:.2f} s; lag 0 at {t.drained:.2f} s"
        )
    return report


async def scale_trials(running: Topology, database_url: str, count: int) -> list[Trial]:
    """``count`` scale-from-zero trials on ``running`` (which has no executor)."""
    probe = LagProbe(running.env["LG_DEPLOY_KAFKA_BOOTSTRAP"], running.prefix)
    await probe.start()
    client = get_client(url=running.intake.url)
    try:
        return [await trial(running, client, probe, database_url) for _ in range(count)]
    finally:
        await client.aclose()
        await probe.close()


def scale_from_zero(infra: Infra, count: int) -> Report:
    """Scale-from-zero trials on a topology without executors."""
    imports = import_seconds()
    with topology(infra, executors=0) as running:
        trials = uvloop.run(scale_trials(running, infra.database_url, count))
    return scale_report(trials, imports)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tests.bench.bench_topology [--quick]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a quarter of the requests, 2 scale trials"
    )
    args = parser.parse_args(argv)
    counts = Counts().scaled(4) if args.quick else Counts()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with infrastructure() as infra:
        figures = production(infra, counts)
        scaling = scale_from_zero(infra, 2 if args.quick else 5)
    took = time.perf_counter() - t0
    print(
        f"\nproduction topology on Kafka, {os.cpu_count()} cores, load average {load:.2f} at start"
    )
    figures.print()
    print(f"\nscale from zero: {SCALE_RUNS} pending runs, then one executor is spawned")
    scaling.print()
    print(f"\nbench took {took:.0f} s")


if __name__ == "__main__":
    main()
