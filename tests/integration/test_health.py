"""``/healthz``, ``/readyz`` and ``/metrics`` on the real application: what a technician's
monitoring sees when all is well, when the database is locked, a door reader is
offline or the daemon is stopping, and who may read the metrics."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from devices.base import ReaderState
from service.api.handlers.health import MetricsAccess
from service.errors import ConfigError
from service.server import create_app
from tests.support.site import Site, running_site, site_config

TOKEN = "scrape-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page (it must parse), by name and labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def scrape(client: TestClient[Any, Any], **headers: str) -> Any:
    response = await client.get("/metrics", headers=headers)
    return response.status, await response.text(), response.headers.get("Content-Type", "")


def online(site: Site) -> None:
    """The door readers came online (the site runs without its device adapters)."""
    for health in site.runtime.health.values():
        health.set_state(ReaderState.ONLINE)


async def test_alive_ready_and_the_figures(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo, client = site["fo"], site["fo"].client
        alive = await client.get("/healthz")
        assert alive.status == 200 and (await alive.json())["alive"] is True

        not_ready = await client.get("/readyz")
        body = await not_ready.json()
        assert not_ready.status == 503 and [r["check"] for r in body["reasons"]] == ["readers"]
        assert "pintu-masuk" in body["reasons"][0]["message_en"]
        online(site)
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200 and body["ready"] is True, body
        assert body["checks"]["database"]["ok"] and body["checks"]["writer"]["queue_depth"] == 0

        denied = await fo.tap("pintu-masuk", 1, event_id="m-1")  # a demo badge not yet issued
        await fo.tap("pintu-masuk", 1, event_id="m-1")  # sent again: a replay
        await fo.call(
            "POST", "/api/v1/taps", {"reader": "nope", "uid": "04AB", "event_id": "m-2"}, None
        )
        status, text, kind = await scrape(client)
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        got = samples(text)
        reason = denied["reason"]
        key = (("decision", "denied"), ("reader", "pintu-masuk"), ("reason", reason))
        assert got[("bidroom_taps_total", key)] == 1
        assert got[("bidroom_tap_replays_total", (("reader", "pintu-masuk"),))] == 1
        assert not any(dict(labels).get("reader") == "nope" for _, labels in got)
        assert got[("bidroom_tap_decision_seconds_count", ())] >= 1
        assert got[("bidroom_commit_seconds_count", ())] >= 1
        assert got[("bidroom_occupancy", ())] == 0
        assert got[("bidroom_capacity", ())] == site.runtime.policy.capacity
        for kind_name in site.runtime.policy.kinds:
            assert got[("bidroom_queue_waiting", (("kind", kind_name),))] == 0
        door = (("reader", "pintu-masuk"), ("role", "door_in"))
        assert got[("bidroom_reader_online", door)] == 1
        assert got[("bidroom_journal_seq", ())] == site.runtime.writer.head.seq
        assert got[("bidroom_database_errors_total", ())] == 0
        assert got[("bidroom_writer_queue_depth", ())] == 0
        assert got[("bidroom_sse_clients", ())] == 0
        assert ("process_resident_memory_bytes", ()) in got
        prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        status, text, kind = await scrape(client, Accept=prometheus)
        assert kind.startswith("application/openmetrics-text") and text.endswith("# EOF\n")
        # Both formats are in the contract (schemathesis checks the answer's media type).
        document = await (await client.get("/api/v1/openapi.json")).json()
        declared = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        assert set(declared) == {"text/plain", "application/openmetrics-text"}


async def test_not_ready_says_why(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        online(site)
        client = site["fo"].client
        with contextlib.closing(
            sqlite3.connect(tmp_path / "bidroom.db", isolation_level=None)
        ) as locker:
            locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            locked = await client.get("/readyz")
            body = await locked.json()
            locker.execute("ROLLBACK")
        assert locked.status == 503 and [r["check"] for r in body["reasons"]] == ["database"]
        assert "not writable" in body["reasons"][0]["message_en"]
        assert (await client.get("/readyz")).status == 200

        site.runtime.health["pintu-keluar"].set_state(ReaderState.BACKOFF, "unplugged")
        body = await (await client.get("/readyz")).json()
        assert body["checks"]["readers"]["offline"] == ["pintu-keluar"]
        online(site)

        site.runtime.begin_stop()  # SIGTERM's first step: no new taps
        stopping = await client.get("/readyz")
        assert stopping.status == 503
        assert [r["check"] for r in (await stopping.json())["reasons"]] == ["running"]
        refused = await client.post(
            "/api/v1/taps",
            json={"reader": "pintu-masuk", "uid": "04D3E000000001", "event_id": "late"},
            headers={"X-CSRF-Token": site["fo"].csrf},
        )
        assert refused.status == 503 and refused.headers["Retry-After"]
        assert (await refused.json())["error"] == "stopping"
        _, text, _ = await scrape(client)
        errors = (("error", "stopping"), ("reader", "pintu-masuk"))
        assert samples(text)[("bidroom_tap_errors_total", errors)] == 1
        assert (await client.get("/healthz")).status == 200  # alive while it stops


async def test_who_may_read_the_metrics(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        client = site["fo"].client
        assert (await scrape(client))[0] == 200  # 127.0.0.1, by default
        status, text, _ = await scrape(client, **{"X-Forwarded-For": "203.0.113.9"})
        assert status == 403 and "metrics.allow_from" in text  # came through a proxy

    (tmp_path / "metrics.token").write_text(TOKEN + "\n", encoding="utf-8")
    config = site_config(tmp_path, metrics={"allow_from": [], "token_file": "metrics.token"})
    async with running_site(config) as site:
        client = site["fo"].client
        assert (await scrape(client))[0] == 403
        assert (await scrape(client, Authorization="Bearer wrong-token-0123456789"))[0] == 403
        assert (await scrape(client, Authorization=f"Bearer {TOKEN}"))[0] == 200


def test_metrics_configuration_is_checked_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allow_from"):
        site_config(tmp_path, metrics={"allow_from": ["10.0.0.300/8"]})
    with pytest.raises(ConfigError, match="token_file"):
        create_app(site_config(tmp_path, metrics={"token_file": "absent.token"}))
    (tmp_path / "short.token").write_text("short", encoding="utf-8")
    with pytest.raises(ConfigError, match="16 characters"):
        MetricsAccess.from_config(site_config(tmp_path, metrics={"token_file": "short.token"}))
