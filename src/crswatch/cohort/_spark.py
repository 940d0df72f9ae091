"""The Spark engine: the same kernel, run by PySpark's ``groupBy("shard").applyInArrow``.

Spark is given one row per shard (the paths of its table pair, or, for JSON input, its frames as
Arrow IPC) and each group is read by the same reader and graded by the same kernel as locally.
One ``applyInArrow`` has one output schema, so the tables of a shard come back as rows of a long
schema ``(shard, table, ipc)``: each table serialized as Arrow IPC, plus a ``_report`` row with the
shard's ingest counts.  The driver writes each shard with the local engine's writer and marks it
done; shards are submitted in waves of ``2 x workers`` so that the driver holds at most one wave
of results (bounded memory) while ``local[workers]`` grades the shards of a wave in parallel.

PySpark is optional (``pip install 'crswatch[spark]'``): it is imported only here.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from crswatch.cohort._output import write_shard
from crswatch.cohort._schema import TABLES
from crswatch.cohort._shard import ShardOutcome, grade_in_batches, outcome_of, read_for_kernel
from crswatch.cohort._sources import ShardSource
from crswatch.errors import CRSWatchError
from crswatch.io import TablePair
from crswatch.state import StateParameters
from crswatch.timeline import IngestReport

__all__ = ["SparkUnavailableError", "run_spark", "spark_session"]

_REPORT = "_report"
_INPUT_SCHEMA = pa.schema(
    [
        ("shard", pa.int32()),
        ("patients_path", pa.string()),
        ("events_path", pa.string()),
        ("patients_ipc", pa.binary()),
        ("events_ipc", pa.binary()),
    ]
)
_OUTPUT_DDL = "shard int, table string, ipc binary"
#: Warnings at start-up only (PySpark's shell announces a "default log level" whenever the root
#: level differs from WARN), without Hadoop's native-library and hostname notices; after start-up
#: the level is ERROR.
_LOG4J = """\
rootLogger.level = warn
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


class SparkUnavailableError(CRSWatchError):
    """PySpark (or the Java it needs) is not installed."""


def spark_session(workers: int = 2) -> Any:
    """A quiet local-mode session on loopback (``local[workers]``), created or reused."""
    session_type = _session_type()
    # Workers must run this interpreter: it is the one with crswatch, Polars and PyArrow.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Spark reads log4j2.properties from SPARK_CONF_DIR when the driver JVM starts: errors only.
    conf_dir = Path(tempfile.gettempdir()) / "crswatch-spark-conf"
    conf_dir.mkdir(exist_ok=True)
    log4j = conf_dir / "log4j2.properties"
    if not log4j.exists() or log4j.read_text("utf-8") != _LOG4J:
        # Renamed into place: another run may be starting its JVM on the same file.
        temporary = conf_dir / f".log4j2.properties.{os.getpid()}"
        temporary.write_text(_LOG4J, encoding="utf-8")
        temporary.replace(log4j)
    os.environ.setdefault("SPARK_CONF_DIR", str(conf_dir))
    session = (
        session_type.builder.master(f"local[{workers}]")
        .appName("crswatch-cohort-grade")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        # Each shard is one group: keep one task per shard, never coalesced into one.
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _session_type() -> Any:
    """``pyspark.sql.SparkSession``, imported only when the Spark engine is asked for."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailableError(
            "--engine spark needs PySpark: pip install 'crswatch[spark]' (pyspark==4.3.0, "
            "with Java 17 or 21)"
        ) from None
    return SparkSession


def run_spark(
    sources: Sequence[ShardSource],
    out: Path,
    *,
    scales: Sequence[str] | None,
    params: StateParameters,
    workers: int,
    on_done: Callable[[ShardOutcome], None],
) -> None:
    """Grade ``sources`` on Spark; write and report each shard as its wave comes back."""
    if not sources:
        return
    owned = _session_type().getActiveSession() is None
    session = spark_session(workers)
    try:
        wave = max(2 * workers, 1)
        chosen = tuple(scales) if scales else None

        # A plain function with type hints: applyInArrow infers its calling convention from
        # them (a functools.partial has none and fails in PySpark 4.3).
        def kernel(group: pa.Table) -> pa.Table:
            return _grade_group(group, scales=chosen, params=params)

        for start in range(0, len(sources), wave):
            batch = list(sources[start : start + wave])
            session.conf.set("spark.sql.shuffle.partitions", str(len(batch)))
            frame = session.createDataFrame(_descriptors(batch))
            result = frame.groupBy("shard").applyInArrow(kernel, _OUTPUT_DDL).toArrow()
            for source in batch:
                _write(source, result, out, on_done)
    finally:
        if owned:
            session.stop()


def _descriptors(batch: Sequence[ShardSource]) -> pa.Table:
    rows: dict[str, list[Any]] = {name: [] for name in _INPUT_SCHEMA.names}
    for source in batch:
        rows["shard"].append(source.shard)
        pair = source.pair
        # Absolute: a worker process need not share the driver's working directory.
        rows["patients_path"].append(None if pair is None else str(pair.patients.resolve()))
        rows["events_path"].append(None if pair is None else str(pair.events.resolve()))
        rows["patients_ipc"].append(None if source.patients is None else _ipc(source.patients))
        rows["events_ipc"].append(None if source.events is None else _ipc(source.events))
    return pa.table(rows, schema=_INPUT_SCHEMA)


def _write(
    source: ShardSource, result: pa.Table, out: Path, on_done: Callable[[ShardOutcome], None]
) -> None:
    rows = result.filter(pc.equal(result["shard"], source.shard)).to_pylist()
    payloads = {row["table"]: row["ipc"] for row in rows}
    tables = {name: pl.read_ipc(io.BytesIO(payloads[name])) for name in TABLES}
    write_shard(out, source.shard, tables)
    if source.pair is None:
        # JSON input was read by the driver: its ingest report is here, not on the worker.
        on_done(outcome_of(source.shard, source.report or IngestReport(), tables))
        return
    counts = json.loads(payloads[_REPORT])
    counts["issues"] = tuple(counts["issues"])
    on_done(ShardOutcome(**counts))


def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return buffer.getvalue()


def _grade_group(
    group: pa.Table, *, scales: Sequence[str] | None, params: StateParameters
) -> pa.Table:
    """One shard on a Spark worker: read it, grade it with the kernel, serialize every table."""
    (row,) = group.to_pylist()
    shard = int(row["shard"])
    if row["patients_path"] is not None:
        pair = TablePair(Path(row["patients_path"]), Path(row["events_path"]))
        source = ShardSource(shard, pair=pair)
    else:
        source = ShardSource(
            shard,
            patients=pl.read_ipc(io.BytesIO(row["patients_ipc"])),
            events=pl.read_ipc(io.BytesIO(row["events_ipc"])),
        )
    report, patients, kept = read_for_kernel(source)
    tables = grade_in_batches(patients, kept, scales=scales, params=params, shard=shard)
    outcome = outcome_of(shard, report, tables)
    counts = {**outcome.to_manifest(), "shard": shard}
    del counts["done"]
    names = [*TABLES, _REPORT]
    payloads = [_ipc(tables[name]) for name in TABLES] + [json.dumps(counts).encode("utf-8")]
    return pa.table(
        {"shard": [shard] * len(names), "table": names, "ipc": payloads},
        schema=pa.schema([("shard", pa.int32()), ("table", pa.string()), ("ipc", pa.binary())]),
    )
