"""The load test's own parts: the proxy that makes the primary unreachable, and how answers and logs are judged."""

import io
import json
import socket
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from tests.bench.loadtest import BASE_DIR, Answer, Output, Phase, free_port, outcome, phase_of


@pytest.fixture
def echo_server():
    """A server on loopback that sends back what it gets, on every connection."""
    listener = socket.create_server(("127.0.0.1", 0))

    def echo(connection):
        with connection:
            while data := connection.recv(1024):
                connection.sendall(data)

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def proxy(echo_server):
    port = free_port(25432)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.tcpproxy", str(port), str(echo_server)],
        cwd=BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "up"

    def command(word):
        process.stdin.write(word + "\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == word

    yield SimpleNamespace(port=port, command=command)
    process.stdin.close()
    process.wait(timeout=10)


def exchange(connection, data=b"ping"):
    connection.sendall(data)
    return connection.recv(1024)


def test_the_proxy_passes_bytes_cuts_them_off_and_lets_them_through_again(proxy):
    before = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    assert exchange(before) == b"ping"

    proxy.command("down")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    # The open connection was cut: the far end closed it, or resets it.
    try:
        assert exchange(before) == b""
    except ConnectionResetError:
        pass

    proxy.command("up")
    after = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    assert exchange(after, b"again") == b"again"
    for connection in (before, after):
        connection.close()


def test_a_503_counts_as_an_outage_answer_only_with_retry_after():
    assert outcome("page", 503, {"Retry-After": "5"}) == "503+Retry-After"
    assert outcome("page", 503, {}) == "503 without Retry-After"
    assert outcome("decide", 409, {}) == "409 expected"
    assert outcome("submit", 409, {}) == "409"
    assert outcome("page", 304, {}) == "ok"


def test_an_answer_belongs_to_the_phase_it_came_in():
    phases = [Phase("worker killed", 12.0, 16.0)]
    cut = Answer("page", started=11.5, ended=12.1, outcome="cut", anonymous_read=True)
    earlier = Answer("page", started=11.0, ended=11.9, outcome="ok", anonymous_read=True)
    assert phase_of(cut, phases) == "worker killed"
    assert phase_of(earlier, phases) == "steady"


def test_each_traceback_is_noted_with_its_exception(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.bench.loadtest.LOGS", tmp_path)
    json_line = {
        "logger": "config.outage",
        "exception": "Traceback (most recent call last):\n  ...\nredis.exceptions.ConnectionError: refused",
    }
    # A chained traceback whose last exception's message runs over two lines: the exception is its first.
    chained = {
        "logger": "config.outage",
        "exception": 'Traceback (most recent call last):\n  File "a.py", line 1, in f\n    connect()\n'
        "psycopg.OperationalError: connection failed\n\nThe above exception was the direct cause of the "
        'following exception:\n\nTraceback (most recent call last):\n  File "b.py", line 2, in g\n'
        "    f()\ndjango.db.utils.OperationalError: connection failed: refused\n"
        "\tIs the server running on that host and accepting TCP/IP connections?",
    }
    log = io.StringIO(
        "[INFO] Booting worker\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "    raise error\n"
        "psycopg.OperationalError: connection failed\n"
        f"{json.dumps(json_line)}\n"
        f"{json.dumps(chained)}\n"
        '{"logger": "apparatus.moderation", "message": "moderation decision"}\n'
    )
    output = Output("server", SimpleNamespace(stdout=log), clock=lambda: 7.0)
    output.close()
    assert output.tracebacks == [
        (7.0, "psycopg.OperationalError"),
        (7.0, "redis.exceptions.ConnectionError"),
        (7.0, "django.db.utils.OperationalError"),
    ]
    assert output.moderation_lines == 1
