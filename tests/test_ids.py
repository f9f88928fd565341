"""Ids: ULIDs in creation order, their random part independent of timing."""

from __future__ import annotations

import random
from datetime import timedelta

from backend_client.clock import utc
from backend_client.ids import IdGenerator, is_ulid

T0 = utc(2026, 11, 26, 12, 0, 0)


def test_ids_in_one_millisecond_increase_strictly() -> None:
    gen = IdGenerator(random.Random(7))
    ids = [gen.new(T0) for _ in range(10_000)]
    assert all(is_ulid(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_follow_time_across_milliseconds() -> None:
    gen = IdGenerator(random.Random(7))
    times = [T0 + timedelta(milliseconds=n // 3) for n in range(3_000)]
    ids = [gen.new(t) for t in times]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_which_ids_share_a_millisecond_does_not_shift_later_random_parts() -> None:
    together = IdGenerator(random.Random(7))
    apart = IdGenerator(random.Random(7))
    for n in range(3):
        together.new(T0)  # three in one millisecond
        apart.new(T0 + timedelta(milliseconds=n))  # three in three
    later = T0 + timedelta(seconds=1)
    assert together.new(later) == apart.new(later)
    assert IdGenerator(random.Random(8)).new(later) != IdGenerator(random.Random(7)).new(later)
