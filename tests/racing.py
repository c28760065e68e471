"""Running callables at the same moment in threads, each on its own database connection."""

import threading

from django.db import connections


def run_together(targets, timeout=120):
    """Run each callable in its own thread and connection, started at once; return their results in order."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait(timeout=30)
            results[index] = target()
        except BaseException as error:  # noqa: BLE001 — the test inspects what each thread got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, target)) for i, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results
