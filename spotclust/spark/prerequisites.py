"""What a Spark run needs, checked before anything starts: pyspark, a Java that Spark 4
runs on, and a master URL Spark accepts whose master answers. Each missing piece is one
line saying what to install or check."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from spotclust.errors import ConfigError, EngineError

PYSPARK_MISSING = "--engine spark needs pyspark: pip install 'spotclust[spark]'"
JAVA_NEEDED = (
    "Spark 4 needs Java 17 or 21: install it (Debian/Ubuntu: apt-get install "
    "openjdk-17-jre-headless) or point JAVA_HOME at one"
)
MIN_JAVA = 17
LOCAL_MASTER = re.compile(r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?")
CONNECT_TIMEOUT_S = 5.0
DEFAULT_PORTS = {"spark": 7077, "https": 443, "http": 80}


def require_pyspark():
    """The pyspark module, or one line saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise EngineError(PYSPARK_MISSING) from None
    return pyspark


def java_major_version() -> int:
    """The major version of the Java that Spark's launcher will run (JAVA_HOME's, else the
    first on PATH); one line saying what to install when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).is_file():
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
        raise EngineError(f"--engine spark: {where}. {JAVA_NEEDED}")
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"--engine spark: {java} -version failed ({exc})"
        raise EngineError(f"{problem}. {JAVA_NEEDED}") from None
    found = re.search(r'version "(1\.)?(\d+)', done.stderr + done.stdout)
    if not found:
        raise EngineError(f"--engine spark: {java} says no version. {JAVA_NEEDED}")
    major = int(found.group(2))
    if major < MIN_JAVA:
        raise EngineError(f"--engine spark: {java} is Java {major}. {JAVA_NEEDED}")
    return major


def is_local(master: str) -> bool:
    return LOCAL_MASTER.fullmatch(master) is not None


def local_cores(master: str) -> int:
    """The cores a local master uses: local (1), local[N], local[*] (all of them)."""
    count = LOCAL_MASTER.fullmatch(master).group(2)
    if count is None:  # 'local'
        return 1
    return (os.cpu_count() or 1) if count == "*" else int(count)


def master_addresses(master: str) -> list:
    """Where a master URL Spark accepts points (none for local[*], local[N] and yarn):
    spark://HOST:PORT (or several, comma-separated) or k8s://https://HOST:PORT."""
    if is_local(master) or master == "yarn":
        return []
    if master.startswith("spark://"):
        addresses = [urlsplit(f"spark://{host}") for host in master[8:].split(",")]
    elif master.startswith("k8s://"):
        address = master[6:]
        addresses = [urlsplit(address if "://" in address else f"https://{address}")]
    else:
        raise ConfigError(
            f"--spark-master {master!r}: use local[*], local[N], spark://HOST:7077, "
            "k8s://https://HOST:PORT or yarn"
        )
    for address in addresses:
        try:
            port = address.port or DEFAULT_PORTS.get(address.scheme)
        except ValueError:
            port = None
        if not address.hostname or not port:
            raise ConfigError(f"--spark-master {master!r}: write it as spark://HOST:PORT")
    return addresses


def check_master(master: str) -> None:
    """The master answers (yarn: its configuration is there), or one line saying not."""
    configured = os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")
    if master == "yarn" and not configured:
        raise EngineError(
            "--spark-master yarn: set HADOOP_CONF_DIR (or YARN_CONF_DIR) to the folder of "
            "the cluster's Hadoop configuration"
        )
    addresses = master_addresses(master)
    if addresses:
        _reachable(master, addresses)


def _reachable(master: str, addresses) -> None:
    """One of the master's addresses takes a connection, or one line saying it cannot."""
    reasons = []
    for address in addresses:
        port = address.port or DEFAULT_PORTS[address.scheme]
        try:
            socket.create_connection((address.hostname, port), CONNECT_TIMEOUT_S).close()
            return
        except OSError as exc:
            reasons.append(f"{address.hostname}:{port}: {exc.strerror or exc}")
    raise EngineError(
        f"cannot reach the Spark master {master} ({'; '.join(reasons)}): check the URL, that "
        "the master is running, and that this machine can reach it"
    )
