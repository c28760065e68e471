"""
A real streaming replica of this machine's PostgreSQL, for the tests, CI and ``make loadtest``.

``python -m tests.replica create|start|stop|drop|status [--port 5433]``

``create`` makes a second local cluster (``pg_createcluster``) on its own port, fills it with
``pg_basebackup -R`` from the primary on 127.0.0.1:5432 (so it starts as a hot standby streaming
from the primary) and starts it; an existing cluster of that name is dropped first. The primary
is told to accept replication connections from 127.0.0.1 (one ``pg_hba.conf`` line, added once).
It needs root (or the postgres user) and Debian's ``postgresql-common`` tools; it touches no
cluster but its own and that one line of the primary's configuration.

Every database of the primary is on the replica, test databases included, as soon as they are
created; nothing is ever written to the replica itself.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PRIMARY_PORT = int(os.environ.get("APPARATUS_PRIMARY_PORT", "5432"))
REPLICA_PORT = int(os.environ.get("APPARATUS_REPLICA_PORT", "5433"))
CLUSTER = "apparatus_replica"
REPLICATION_LINE = "host replication all 127.0.0.1/32 trust"


def version():
    return sorted(os.listdir("/etc/postgresql"))[0]


def _run(*command, check=True, **kwargs):
    return subprocess.run(command, check=check, capture_output=True, text=True, **kwargs)


def _as_postgres(*command, check=True):
    if os.geteuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    return _run(*command, check=check)


def _sql(port, statement):
    done = _run("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-Atc", statement, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def allow_replication_connections():
    """One line in the primary's pg_hba.conf, then a reload; idempotent."""
    hba = Path(_sql(PRIMARY_PORT, "SHOW hba_file") or f"/etc/postgresql/{version()}/main/pg_hba.conf")
    if REPLICATION_LINE not in hba.read_text().splitlines():
        with hba.open("a") as file:
            file.write(f"\n{REPLICATION_LINE}\n")
        _sql(PRIMARY_PORT, "SELECT pg_reload_conf()")


def exists():
    return Path(f"/etc/postgresql/{version()}/{CLUSTER}").exists()


def data_directory():
    return Path(f"/var/lib/postgresql/{version()}/{CLUSTER}")


def drop():
    if exists():
        _run("pg_dropcluster", "--stop", version(), CLUSTER, check=False)


def create(port=REPLICA_PORT):
    drop()
    allow_replication_connections()
    _run("pg_createcluster", version(), CLUSTER, "-p", str(port))
    data = data_directory()
    for entry in data.iterdir():  # the directory stays (its parent may belong to root), empty
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    _as_postgres(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres",
        "-D", str(data), "-R", "-X", "stream", "-c", "fast",
    )  # fmt: skip
    conf = Path(f"/etc/postgresql/{version()}/{CLUSTER}/conf.d/replica.conf")
    # A hot standby that answers reads, on loopback only; feedback keeps the primary's vacuum
    # from cancelling long reads on the standby.
    conf.write_text(f"port = {port}\nlisten_addresses = '127.0.0.1'\nhot_standby = on\nhot_standby_feedback = on\n")
    # The same trust on loopback as the primary has: the replica is only ever reached from this machine.
    hba = Path(f"/etc/postgresql/{version()}/{CLUSTER}/pg_hba.conf")
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    start(port)


def start(port=REPLICA_PORT):
    _run("pg_ctlcluster", "--skip-systemctl-redirect", version(), CLUSTER, "start", check=False)
    wait_until_ready(port)


def stop():
    _run("pg_ctlcluster", "--skip-systemctl-redirect", version(), CLUSTER, "stop", "-m", "fast", check=False)


def wait_until_ready(port=REPLICA_PORT, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _sql(port, "SELECT pg_is_in_recovery()") == "t":
            return
        time.sleep(0.2)
    raise RuntimeError(f"The replica on port {port} did not come up as a hot standby within {seconds} s.")


def status(port=REPLICA_PORT):
    """``None`` when down; else the standby's replay lag in seconds (0 when nothing is waiting)."""
    return _sql(
        port,
        "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
        "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["create", "start", "stop", "drop", "status"])
    parser.add_argument("--port", type=int, default=REPLICA_PORT)
    args = parser.parse_args()
    if args.action == "status":
        lag = status(args.port)
        print("down" if lag is None else f"up, replay lag {float(lag):.3f} s")
        return 0 if lag is not None else 1
    action = {"create": create, "start": start, "stop": stop, "drop": drop}[args.action]
    action(args.port) if args.action in ("create", "start") else action()
    print(f"replica {args.action}: done (port {args.port})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
