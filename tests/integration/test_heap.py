"""Function processes freeze their start-up objects out of garbage collection
(:mod:`shared.runtime.heap`)."""

from __future__ import annotations

import gc

from shared.runtime.heap import freeze_startup_heap
from tests.support import Server


def test_the_objects_alive_at_start_up_are_frozen_and_later_ones_collected() -> None:
    before: list[object] = []
    try:
        frozen = freeze_startup_heap()
        after: list[object] = []
        assert frozen == gc.get_freeze_count() > 10_000  # pytest's own objects, at least
        collected = {id(o) for o in gc.get_objects()}  # the generations collections scan
        assert id(before) not in collected
        assert id(after) in collected
    finally:
        gc.unfreeze()


def test_a_serving_process_froze_its_start_up_objects(server: Server) -> None:
    assert "start-up objects are out of garbage collection" in server.log_text()
