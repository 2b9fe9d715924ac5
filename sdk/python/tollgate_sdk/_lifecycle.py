"""The process events every open client follows, registered once for both clients: after ``os.fork()`` the
child re-creates each client's worker (and reseeds event ids); at interpreter exit each client sends what
it still holds within its ``exit_flush_timeout``."""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Protocol

from tollgate_sdk import _events
from tollgate_sdk._delivery import log


class Tracked(Protocol):
    def _after_fork_in_child(self) -> None: ...

    def _at_exit(self) -> None: ...


_open_clients: weakref.WeakSet[Tracked] = weakref.WeakSet()


def track(client: Tracked) -> None:
    _open_clients.add(client)


def untrack(client: Tracked) -> None:
    _open_clients.discard(client)


def _after_fork() -> None:
    _events.reseed_ids()
    for client in list(_open_clients):
        client._after_fork_in_child()


def _flush_all_at_exit() -> None:
    for client in list(_open_clients):
        try:
            client._at_exit()
        except Exception:
            log.exception("tollgate: flushing at exit failed")


os.register_at_fork(after_in_child=_after_fork)
atexit.register(_flush_all_at_exit)
