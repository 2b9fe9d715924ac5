"""The clients' TTL cache of the server's answers (GATEWAY.md "Clients cache answers"), thread-safe.

- Entries are keyed by (sha256(api_key), policy_id); an answer for a route no policy covers (or a
  denial without a policy) by (sha256(api_key), "METHOD path"). Policies learned from any answer let
  the client match later requests to a policy locally; a key never seen is always asked for.
- A fresh **allowed** answer is reused while, for every hard meter, ``remaining x spend_fraction -
  consumed since the answer >= this request's increment`` (the increments are consumed locally); else the
  server is asked. ``spend_fraction`` (default 0.5) keeps several instances, each with its own cache, from
  each spending the whole remainder: near the limit they ask again (cached mode's overshoot, measured in
  BENCHMARKS.md); 1.0 is the plain rule.
- A fresh **denial** is reused until the TTL, its ``Retry-After`` or the meter's ``resets_at``, whichever
  comes first.
- ``stale()`` serves an answer up to ``max_stale_seconds`` past its expiry (backend unreachable).

Times: ``clock`` (monotonic seconds) for TTLs, ``wall`` (epoch seconds) for ``resets_at``; both
injectable so tests and the bench run on a simulated clock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate_sdk.gateway.decision import decimal_or_none
from tollgate_sdk.gateway.routes import first_match

MAX_TTL_SECONDS = 86_400
DEFAULT_MAX_STALE_SECONDS = 3_600
Clock = Callable[[], float]


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def route_slot(method: str, path: str) -> str:
    return f"route:{method.upper()} {path}"


def _seconds(value: object, default: float, high: float = MAX_TTL_SECONDS) -> float:
    number = decimal_or_none(value)
    if number is None:
        return default
    return float(min(max(number, Decimal(0)), Decimal(high)))


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class _Entry:
    answer: dict[str, Any]
    fresh_until: float
    stale_until: float
    consumed: dict[str, Decimal] = field(default_factory=dict)


class DecisionCache:
    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        max_entries: int = 100_000,
        spend_fraction: float = 0.5,
    ):
        if not 0 < spend_fraction <= 1:
            raise ValueError("spend_fraction must be in (0, 1]")
        self.spend_fraction = Decimal(str(spend_fraction))
        self.clock = clock
        self.wall = wall
        self.max_entries = max(1, max_entries)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._policies: dict[str, dict[str, Any]] = {}  # policy_id -> policy, in the order first seen
        self._known: OrderedDict[str, None] = OrderedDict()  # key hashes with an allowed answer

    # -- policies ---------------------------------------------------------------------------------
    def learn_policy(self, policy: Mapping[str, Any] | None) -> None:
        if policy and policy.get("policy_id"):
            with self._lock:
                self._policies[str(policy["policy_id"])] = dict(policy)

    def policy_for(self, method: str, path: str) -> dict[str, Any] | None:
        with self._lock:
            policies = list(self._policies.values())
        found = first_match(policies, method, path)
        return dict(found) if found is not None else None

    def slot_for(self, method: str, path: str) -> str:
        policy = self.policy_for(method, path)
        return str(policy["policy_id"]) if policy else route_slot(method, path)

    # -- answers ----------------------------------------------------------------------------------
    def lookup(self, khash: str, slot: str, increments: Mapping[str, Decimal]) -> dict[str, Any] | None:
        """A fresh answer to reuse (consuming ``increments`` if it allows), or None: ask the server."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get((khash, slot))
            if entry is None or now >= entry.fresh_until:
                return None
            if entry.answer.get("allowed"):
                if not self._fits(entry, increments):
                    return None
                for name, amount in increments.items():
                    entry.consumed[name] = entry.consumed.get(name, Decimal(0)) + amount
            return entry.answer

    def _fits(self, entry: _Entry, increments: Mapping[str, Decimal]) -> bool:
        meters = entry.answer.get("meters") or {}
        for name, amount in increments.items():
            info = meters.get(name)
            if not isinstance(info, Mapping) or not info.get("hard"):
                continue
            remaining = decimal_or_none(info.get("remaining"))
            if remaining is None:
                continue
            spendable = remaining * self.spend_fraction
            if spendable - entry.consumed.get(name, Decimal(0)) < amount:
                return False
        return True

    def stale(self, khash: str, slot: str) -> dict[str, Any] | None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get((khash, slot))
            return entry.answer if entry is not None and now < entry.stale_until else None

    def store(self, khash: str, slot: str, answer: dict[str, Any], increments: Mapping[str, Decimal]) -> None:
        """Keep a server answer; an allowed one has already consumed this request's ``increments``."""
        policy = answer.get("policy") or {}
        now = self.clock()
        ttl = _seconds(answer.get("cache_ttl_seconds", policy.get("cache_ttl_seconds")), 60.0)
        if not answer.get("allowed"):
            ttl = min(ttl, self._denial_bound(answer))
        max_stale = _seconds(policy.get("max_stale_seconds"), DEFAULT_MAX_STALE_SECONDS)
        entry = _Entry(answer, now + ttl, now + ttl + max_stale, dict(increments) if answer.get("allowed") else {})
        self.learn_policy(answer.get("policy"))
        with self._lock:
            key = (khash, str(policy["policy_id"])) if policy.get("policy_id") else (khash, slot)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            if answer.get("allowed") and answer.get("subscription_id"):
                self._known[khash] = None
                self._known.move_to_end(khash)
                while len(self._known) > self.max_entries:
                    self._known.popitem(last=False)

    def _denial_bound(self, answer: Mapping[str, Any]) -> float:
        bound = float(MAX_TTL_SECONDS)
        headers = answer.get("headers") or {}
        retry_after = headers.get("Retry-After") if isinstance(headers, Mapping) else None
        if retry_after is not None:
            bound = min(bound, _seconds(retry_after, bound))
        problem = answer.get("problem") or {}
        resets_at = _epoch(problem.get("resets_at")) if isinstance(problem, Mapping) else None
        if resets_at is not None:
            bound = min(bound, max(0.0, resets_at - self.wall()))
        return bound

    def adjust(self, khash: str, slot: str, deltas: Mapping[str, Decimal]) -> None:
        """Correct local consumption (a response header replaced the policy's increment)."""
        with self._lock:
            entry = self._entries.get((khash, slot))
            if entry is None:
                return
            for name, delta in deltas.items():
                entry.consumed[name] = entry.consumed.get(name, Decimal(0)) + delta

    def knows(self, khash: str) -> bool:
        with self._lock:
            return khash in self._known

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._policies.clear()
            self._known.clear()

    def __len__(self) -> int:
        return len(self._entries)
