"""SIGTERM (``systemctl stop``) during a tap storm on the real daemon: new taps are
refused (503 with Retry-After, nothing stored), every tap that was answered is
committed with the answered decision and nothing else is stored, the journal
verifies, and the exit code is 0."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.daemon import Daemon, free_port, run_cli
from tests.support.room import DoorStorm, finish, open_room, prepare, stored_taps

BADGES = 12
STORM_S = 0.8


async def test_sigterm_during_a_tap_storm(tmp_path: Path) -> None:
    config = await prepare(tmp_path)
    daemon = Daemon(config, free_port(), tmp_path / "daemon.log")
    try:
        await daemon.start()
        token = await open_room(daemon, BADGES)
        storm = DoorStorm(daemon, token, BADGES)
        tasks = storm.start()
        await asyncio.sleep(STORM_S)
        code = await daemon.terminate()
        storm.stop.set()
        await asyncio.wait_for(finish(tasks), 10)
    finally:
        await daemon.close()
    log = daemon.log_tail(200)
    assert code == 0, log
    assert "stopped" in log
    assert len(storm.answered) >= 20, (storm.answered, log)
    assert storm.refused or storm.unanswered  # the clients were still tapping at the stop

    stored = stored_taps(tmp_path / "bidroom.db")
    wrong = {e: (d, stored.get(e)) for e, d in storm.answered.items() if stored.get(e) != d}
    assert not wrong, f"answered taps not stored as answered: {wrong}"
    assert set(stored) == set(storm.answered), "a tap that got no answer was stored"
    assert set(storm.refused.values()) <= {503}, storm.refused
    assert storm.retry_after == set(storm.refused)
    assert all(granted for granted, _ in storm.answered.values())  # in when out, out when in

    verified = await run_cli(config, "archive", "verify")
    assert verified.returncode == 0 and "arsip utuh" in verified.stdout, verified.stdout
