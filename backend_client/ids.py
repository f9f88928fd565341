"""ULIDs from the store's clock and seeded random generator, so a seeded run is repeatable."""

from __future__ import annotations

import random
from datetime import datetime

from ulid import ULID

__all__ = ["IdGenerator", "is_ulid"]

_CROCKFORD = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def is_ulid(value: str) -> bool:
    """Whether ``value`` is a well-formed ULID string (26 Crockford base32 characters)."""
    return len(value) == 26 and value[0] in "01234567" and set(value.upper()) <= _CROCKFORD


class IdGenerator:
    """Makes ULIDs whose time part is the given time and whose random part is seeded.

    Ids made in the same millisecond increase strictly (a random part not above the last one
    is replaced by the last one plus one), so creation order is id order even under a fake
    clock that does not move. Every id draws from the generator, whatever its time: which
    ids share a millisecond depends on timing, and must not shift the random parts of the
    ids that follow.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last_ms = -1
        self._last_rand = 0

    def new(self, when: datetime) -> str:
        ms = int(when.timestamp() * 1000)
        # 79 bits leave headroom, so bumping within one millisecond never overflows 80.
        rand = self._rng.getrandbits(79)
        if ms == self._last_ms and rand <= self._last_rand:
            rand = self._last_rand + 1
        self._last_ms, self._last_rand = ms, rand
        return str(ULID.from_bytes(ms.to_bytes(6, "big") + rand.to_bytes(10, "big")))
