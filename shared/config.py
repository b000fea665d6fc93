"""Typed settings for every lg-deploy function, read once from the environment.

Every variable carries the ``LG_DEPLOY_`` prefix (``LG_DEPLOY_DATABASE_URL`` …); the CLI
flags of ``lg-deploy`` override them. The README's configuration table lists them all.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

INT32_MAX = 2**31 - 1
"""Largest limit PostgreSQL's ``integer`` columns hold."""


class Settings(BaseSettings):
    """Runtime settings shared by intake, executor and the other functions.

    Units: seconds for every ``*_seconds`` field, bytes for ``max_body_bytes``. A limit set
    to ``none`` in the environment (``LG_DEPLOY_TENANT_MAX_QUEUED_RUNS=none``) is no limit.
    Traces are not configured here but by the standard ``OTEL_*`` variables
    (:mod:`shared.tracing.setup`); only ``trace_content`` (``LG_DEPLOY_TRACE_CONTENT``) is ours.
    """

    model_config = SettingsConfigDict(
        env_prefix="LG_DEPLOY_", extra="ignore", env_parse_none_str="none"
    )

    config: Path = Field(Path("langgraph.json"), description="path to langgraph.json")
    database_url: str | None = Field(None, description="external PostgreSQL DSN; none = embedded")
    data_dir: Path = Field(Path(".lg-deploy"), description="embedded PostgreSQL data folder")
    host: str = "127.0.0.1"
    port: int = 2024
    n_jobs: int = Field(32, ge=1, description="concurrent runs per executor")
    lease_seconds: float = Field(30.0, gt=0, description="run lease; renewed every third of it")
    max_attempts: int = Field(3, ge=1, description="executor attempts before a run is failed")
    run_timeout_seconds: float = Field(
        86400.0, gt=0, description="longest a run may take before it ends with status timeout"
    )
    sweep_seconds: float = Field(5.0, gt=0, description="period of the lease/retention sweep")
    cron_tick_seconds: float = Field(
        5.0, gt=0, description="period of the cron timer in lg-deploy dev (alone: CloudEvents)"
    )
    event_retention_seconds: float = Field(
        3600.0, ge=0, description="how long stream events of an ended run are kept"
    )
    temporary_thread_grace_seconds: float = Field(
        60.0,
        ge=0,
        description="how long after its run's end a stateless thread is kept for a waiting "
        "client that went away (others go at the end: shared/execution/temporary.py)",
    )
    idempotency_retention_seconds: float = Field(
        86400.0, gt=0, description="how long an Idempotency-Key keeps returning its run"
    )
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="largest request body")
    max_wait_seconds: float = Field(
        3600.0,
        gt=0,
        description="longest /join, /runs/wait or cancel?wait=true answer before it gives up",
    )
    tenant_max_running_runs: int | None = Field(
        None,
        ge=0,
        le=INT32_MAX,
        description="runs of one tenant running at once across all executors; none = no "
        "limit but the executors' slots (claims still share them fairly)",
    )
    tenant_max_queued_runs: int | None = Field(
        10_000,
        ge=0,
        le=INT32_MAX,
        description="pending runs one tenant may have; creating another answers 429; "
        "none = no limit",
    )
    tenant_requests_per_window: int | None = Field(
        None,
        ge=0,
        le=INT32_MAX,
        description="requests one tenant may send per rate window (429 beyond); none = no limit",
    )
    tenant_rate_window_seconds: int = Field(
        60, ge=1, description="length of the fixed request-rate window, whole seconds"
    )
    tenant_max_streams: int | None = Field(
        None,
        ge=0,
        le=INT32_MAX,
        description="SSE streams (run streams, joins, thread streams) one tenant may have "
        "open at once (429 beyond); none = no limit",
    )
    stream_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="lease of an open stream's slot, renewed every third of it: how long a "
        "crashed intake's streams keep counting",
    )
    limits_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="how long intake keeps a tenant's rate and stream limits before reading "
        "them again (a change through the API applies at once on the intake that took it)",
    )
    fair_claims: bool = Field(
        True,
        description="executors claim runs fairly across tenants (least loaded, then least "
        "recently served, first); false: oldest first whatever the tenant",
    )
    db_pool_size: int = Field(20, ge=2, description="asyncpg pool size per process")
    checkpointer_pool_size: int = Field(20, ge=2, description="psycopg pool size per process")
    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers, comma-separated; none = no Kafka"
    )
    kafka_topic_prefix: str = Field("lg-deploy.", description="prefix of every Kafka topic name")
    kafka_consumer: bool = Field(
        True, description="consume this function's topic itself (false when a KafkaSource does)"
    )
    kafka_max_deliveries: int = Field(
        5, ge=1, description="handling attempts of a Kafka record before it is dead-lettered"
    )
    builder_dir: Path = Field(
        Path(".lg-deploy-builder"), description="builder work folder: git caches, work trees"
    )
    builder_artifacts_dir: Path = Field(
        Path(".lg-deploy-builder/artifacts"), description="build contexts, named by digest"
    )
    builder_base_image: str = Field(
        "python:{python_version}-slim",
        description="FROM of generated Dockerfiles; {python_version} from langgraph.json",
    )
    builder_lg_deploy_requirement: str = Field(
        default_factory=lambda: f"lg-deploy=={version('lg-deploy')}",
        description="pip requirement of lg-deploy in built images (default: this version)",
    )
    builder_git_timeout_seconds: float = Field(
        300.0, gt=0, description="longest one git command of a build may take"
    )
    require_api_key: bool = Field(
        False, description="every request needs an API key, even before the first key exists"
    )
    allow_unauthenticated: bool = Field(
        False, description="let lg-deploy dev serve a non-loopback address with no auth at all"
    )
    api_key_cache_seconds: float = Field(
        5.0, gt=0, description="how long a process trusts its API key lookups (revocation delay)"
    )
    internal_token: SecretStr | None = Field(
        None,
        description="shared secret the cron, webhooks and builder functions require on their "
        "HTTP endpoints (Authorization: Bearer, or CloudEvent extension lgdtoken); none = open",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1,::1",
        description="peers (IPs, CIDRs, comma-separated; * = any) whose X-Forwarded-For names "
        "the client address (audit log); others are the client themselves",
    )
    log_level: str = "INFO"
    log_json: bool = False
    trace_content: bool = Field(
        False,
        description="with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT…), record the inputs and "
        "outputs of graph nodes, tools and model calls on their spans (JSON, 8 KiB each: "
        "shared/tracing/graph.py); off, spans carry ids and names only. For debugging: "
        "contents may hold personal data",
    )
    trace_statements: bool = Field(
        False,
        description="with tracing on, also a span per SQL statement (the asyncpg and psycopg "
        "instrumentations): about 20 more spans per run, which costs a third of the runs/s "
        "(README 'Observability'); off, checkpoint writes are spans of their own "
        "(lgd.checkpoint.write)",
    )


def load_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from the environment, then apply non-``None`` overrides."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
