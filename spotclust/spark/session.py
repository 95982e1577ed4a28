"""Spark for a run: the session started with its noise off the terminal, once its
prerequisites are checked (or the session this process already runs), and every Spark
failure turned into one line."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spotclust.engine import Engine
from spotclust.errors import ConfigError, EngineError, SpotclustError
from spotclust.spark.prerequisites import (
    check_master,
    is_local,
    java_major_version,
    local_cores,
    master_addresses,
    require_pyspark,
)

# Spark's own settings, before the user's (--spark-conf wins): no progress bars on the
# terminal; on this machine, Spark's driver on the loopback interface (no warning about
# the host name, nothing reachable from outside but the UI).
QUIET = (("spark.ui.showConsoleProgress", "false"),)
ON_THIS_MACHINE = (("spark.driver.host", "127.0.0.1"), ("spark.driver.bindAddress", "127.0.0.1"))
# A run's shuffles carry per-cluster sums only: on one machine, one partition a core (Spark's
# 200 cost more in task overhead than they move).
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
PYSPARK_ECHOES = ("DataFrameQueryContextLogger", "SQLQueryContextLogger")
# The JVM's own output (start-up chatter, log4j) goes to this file, never the terminal: kept
# and named when Spark fails, removed when the process ends well.
_jvm_log: list[Path] = []
_keep_log: list[bool] = []


@contextmanager
def spark_session(engine: Engine, timings: dict[str, float]) -> Iterator:
    """The SparkSession of a run: the one this process already runs (a notebook's, or a
    test's: used as it is, and left running), else a new one for engine.spark_master,
    stopped at the end. timings['engine_start']: seconds spent starting it."""
    require_pyspark()
    from pyspark.sql import SparkSession

    master = engine.spark_master
    master_addresses(master)  # its form, whether a session runs or not
    running = SparkSession.getActiveSession()
    if running is not None:
        have = running.sparkContext.master
        if engine.master and engine.master != have:
            raise ConfigError(
                f"this process already runs a SparkSession on {have}: use --spark-master "
                f"{have}, or stop that session first"
            )
        timings["engine_start"] = 0.0
        yield running
        return
    t = time.perf_counter()
    previous_handler = signal.getsignal(signal.SIGINT)
    spark = start(engine)
    timings["engine_start"] = time.perf_counter() - t
    try:
        yield spark
    finally:
        with contextlib.suppress(Exception):  # a JVM already gone has nothing to stop
            spark.stop()
        _restore_interrupts(previous_handler)


def start(engine: Engine):
    """A new SparkSession for engine, once its master answers and Java will do (and, the
    first time in this process, the JVM behind it)."""
    master = engine.spark_master
    check_master(master)
    java_major_version()
    with _quiet_python_side():
        return _start(engine, master)


def _start(engine: Engine, master: str):
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    conf = SparkConf().setMaster(master).setAppName("spotclust")
    for key, value in QUIET:
        conf.set(key, value)
    if is_local(master):
        for key, value in (*ON_THIS_MACHINE, (SHUFFLE_PARTITIONS, str(local_cores(master)))):
            conf.set(key, value)
    for key, value in engine.conf:
        conf.set(key, value)
    logging.getLogger("py4j").setLevel(logging.ERROR)  # its INFO lines on every shutdown
    gateway = SparkContext._gateway or _launch_jvm(conf, launch_gateway)
    context = SparkContext(conf=conf, gateway=gateway)
    context.setLogLevel("ERROR")
    return SparkSession(context)


def _launch_jvm(conf, launch_gateway):
    """Spark's JVM, its output to a log file of this process (named if Spark fails)."""
    fd, name = tempfile.mkstemp(prefix=f"spotclust-spark-{os.getpid()}-", suffix=".log")
    _jvm_log.append(Path(name))
    atexit.register(_remove_log)
    with os.fdopen(fd, "wb") as log:
        return launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})


def shut_down(spark) -> None:
    """Stop spark and end the JVM behind it, when this process launched it (a notebook or a
    test done with Spark: the JVM would otherwise live as long as the process)."""
    from pyspark import SparkContext

    spark.stop()
    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None)
    if gateway is None or process is None:
        return
    with contextlib.suppress(Exception):
        gateway.shutdown()
    process.stdin.close()  # the JVM ends when its stdin does
    process.wait(timeout=60)
    SparkContext._gateway = SparkContext._jvm = None  # the next session launches a new one


def _remove_log() -> None:
    if _jvm_log and not _keep_log:
        _jvm_log[0].unlink(missing_ok=True)


def _restore_interrupts(handler) -> None:
    """SparkContext sets its own Ctrl-C handler (cancel Spark's jobs, then raise); once it
    stops, Ctrl-C is the process's own again."""
    if handler is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)


@contextmanager
def spark_errors() -> Iterator[None]:
    """Spark's and py4j's exceptions inside the block as one line (EngineError)."""
    require_pyspark()
    from py4j.protocol import Py4JError, Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        with _quiet_python_side():
            yield
    except (SpotclustError, KeyboardInterrupt):
        raise
    except Py4JJavaError as exc:
        raise EngineError(_said(_java_message(exc))) from None
    except (PySparkException, Py4JError, ConnectionError) as exc:
        raise EngineError(_said(str(exc))) from None


@contextmanager
def _quiet_python_side() -> Iterator[None]:
    """pyspark's and py4j's own lines off the terminal: py4j logs through the root logger
    (logging.exception, which gives a handler-less root one that prints to stderr: here it
    gets one that prints nothing, until the block ends), pyspark warns about library
    versions."""
    from pyspark.logger import PySparkLogger

    root = logging.getLogger()
    silent = logging.NullHandler() if not root.handlers else None
    if silent is not None:
        root.addHandler(silent)
    # pyspark's own loggers print each failure as JSON to stderr: spotclust says it in a line
    echoing = [PySparkLogger.getLogger(name) for name in PYSPARK_ECHOES]
    levels = [logger.level for logger in echoing]
    for logger in echoing:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(pyspark|py4j)(\.|$)")
            yield
    finally:
        if silent is not None:
            root.removeHandler(silent)
        for logger, level in zip(echoing, levels, strict=True):
            logger.setLevel(level)


def _java_message(exc) -> str:
    try:
        return str(exc.java_exception.toString())
    except Exception:  # the JVM is gone: py4j's own text
        return str(exc)


def _jvm_said() -> str:
    """What the JVM said before it ended, from its log: its first line that names a problem
    (e.g. 'Invalid maximum heap size: -Xmxabc')."""
    try:
        lines = _jvm_log[0].read_text(errors="replace").splitlines() if _jvm_log else []
    except OSError:
        return ""
    telling = [line.strip() for line in lines if re.search(r"Error|Exception|Invalid", line)]
    return f" ({telling[0][:200]})" if telling else ""


def _said(message: str) -> str:
    """Spark's message in one line, with what to do for the failures a user can fix."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = lines[0][:300] if lines else "no message"
    if "JAVA_GATEWAY_EXITED" in message or "Answer from Java side is empty" in message:
        first = f"Spark's JVM ended unexpectedly{_jvm_said()}"
    if "OutOfMemoryError" in message:
        return (
            f"Spark ran out of memory ({first}): give it more, e.g. --spark-conf "
            "spark.driver.memory=8g (local masters) or spark.executor.memory=8g"
        )
    log = f"; Spark's log: {_jvm_log[0]}" if _jvm_log else ""
    _keep_log.append(True)
    return f"Spark failed: {first}{log}"
