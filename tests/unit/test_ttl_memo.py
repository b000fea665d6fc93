"""The in-process memo of API key lookups (:mod:`shared.auth.memo`): one fetch per key per
period however many requests ask at once, failures not kept, memory bounded."""

from __future__ import annotations

import asyncio

import pytest

from shared.auth.memo import TtlMemo


class Lookups:
    """A lookup that counts its calls and may wait for a gate or fail."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def __call__(self, key: str) -> str:
        self.calls.append(key)
        await self.gate.wait()
        if self.fail:
            raise OSError("database down")
        return key.upper()


async def test_concurrent_requests_share_one_lookup_until_it_expires() -> None:
    fetch = Lookups()
    fetch.gate.clear()
    memo = TtlMemo(fetch, ttl_seconds=0.2)
    waiting = [asyncio.create_task(memo.get("a")) for _ in range(50)]
    await asyncio.sleep(0)
    fetch.gate.set()
    assert await asyncio.gather(*waiting) == ["A"] * 50
    assert await memo.get("a") == "A" and fetch.calls == ["a"]
    await asyncio.sleep(0.25)
    assert await memo.get("a") == "A" and fetch.calls == ["a", "a"]


async def test_a_failed_lookup_is_not_kept() -> None:
    fetch = Lookups()
    fetch.fail = True
    memo = TtlMemo(fetch, ttl_seconds=60)
    with pytest.raises(OSError):
        await memo.get("a")
    fetch.fail = False
    assert await memo.get("a") == "A" and fetch.calls == ["a", "a"]


async def test_a_caller_that_leaves_does_not_cancel_the_others_lookup() -> None:
    fetch = Lookups()
    fetch.gate.clear()
    memo = TtlMemo(fetch, ttl_seconds=60)
    leaving = asyncio.create_task(memo.get("a"))
    staying = asyncio.create_task(memo.get("a"))
    await asyncio.sleep(0)
    leaving.cancel()
    fetch.gate.set()
    assert await staying == "A" and fetch.calls == ["a"]


async def test_unknown_keys_cannot_grow_the_memo_past_its_bound() -> None:
    memo = TtlMemo(Lookups(), ttl_seconds=60, max_entries=100)
    for i in range(1000):
        await memo.get(f"k{i}")
    assert len(memo._entries) <= 100
