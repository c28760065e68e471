"""
Database aliases for the replica tests, set up inside a (transactional) test and removed before its
end, so Django's test machinery never sees them: no test database is made on a read-only standby,
and none is flushed there.

- ``replica_alias(django_db_blocker, **changes)``: a ``replica`` alias like ``default`` (the test database), with
  ``changes`` (``PORT=5433`` for the real standby, a closed port for a replica that is down);
- ``broken_default()``: ``default`` replaced by a connection to a port where nothing listens;
- ``closed_port()``: such a port.
"""

import contextlib
import socket
import types

from django.db import connections
from django.db.utils import load_backend

from config import replica_reads


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_postgresql(alias):
    settings = {
        **connections["default"].settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": closed_port(),
        "NAME": "unreachable",
        "USER": "postgres",
        "PASSWORD": "",
        "OPTIONS": {"connect_timeout": 1},
        "CONN_HEALTH_CHECKS": True,
    }
    return settings, load_backend(settings["ENGINE"]).DatabaseWrapper(settings, alias)


@contextlib.contextmanager
def replica_alias(django_db_blocker, unreachable=False, **changes):
    """
    Django's test cases forbid connecting to an alias the test doesn't declare, and one made inside
    the test can't be declared before it: its connection uses ``ensure_connection`` as it is outside
    tests (which pytest-django's ``django_db_blocker`` keeps).
    """
    if unreachable:
        settings = unreachable_postgresql(replica_reads.REPLICA)[0]
    else:
        settings = {**connections["default"].settings_dict, **changes}
    settings["TEST"] = {**settings.get("TEST", {}), "MIRROR": "default"}
    connections.settings[replica_reads.REPLICA] = settings
    replica_reads._replica_down_until[0] = 0.0
    connection = connections[replica_reads.REPLICA]
    connection.ensure_connection = types.MethodType(django_db_blocker._real_ensure_connection, connection)
    try:
        yield connection
    finally:
        connections[replica_reads.REPLICA].close()
        del connections[replica_reads.REPLICA]
        del connections.settings[replica_reads.REPLICA]
        replica_reads._replica_down_until[0] = 0.0


@contextlib.contextmanager
def broken_default():
    original = connections["default"]
    connections["default"] = unreachable_postgresql("default")[1]
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = original
