"""The composition root: the daemon's one aiohttp application, assembled in one place.

``create_app(config)`` puts together what the other packages provide without any
of them importing each other's assembler: the runtime (database, single writer,
readers) opened and closed in one ``cleanup_ctx`` generator, the JSON API's
middlewares and routes (:mod:`service.api`), and the front-office pages
(:mod:`web`). The imports run one way only: ``web`` uses ``service.api``'s keys and
helpers, ``service.api`` never imports ``web``, and only this module knows both.
``bidroom serve``, the tests, the screenshot and the benchmarks all use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

import web.app as pages_app
from service.api import (
    handlers,  # noqa: F401  (importing it registers every API route)
    routing,
)
from service.api.app import CONFIG, RUNTIME, auth_middleware, error_middleware
from service.api.handlers import health
from service.api.idempotency import idempotency_middleware, keys_ctx
from service.config import Config
from service.runtime import Clock, Runtime, utc_now

MAX_REQUEST_BYTES = 2 * 1024 * 1024


def _runtime_ctx(
    config: Config, *, clock: Clock, start_readers: bool, demo: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = Runtime(config, clock=clock, start_readers=start_readers)
        app[RUNTIME] = runtime
        await runtime.start()
        if demo:
            from service.demo import seed_demo

            await seed_demo(runtime)
        from service.reports.retention import RetentionJob
        from service.reports.seal import SealOnSignOff

        sealer = SealOnSignOff(runtime)  # step 9: a signed day's books are sealed
        runtime.fact_listeners.append(sealer)
        retention = RetentionJob(runtime)  # UU 27/2022: erase personal data past retention
        retention.start()
        yield
        await retention.stop()
        await sealer.stop()
        await runtime.stop()

    return runtime_ctx


async def _stop_taking_taps(app: web.Application) -> None:
    """Stopping: the listening socket is closed; refuse new taps and end live streams
    while the requests in flight finish (then the runtime drains and closes the readers)."""
    runtime = app.get(RUNTIME)
    if runtime is not None:
        runtime.begin_stop()


def create_app(
    config: Config,
    *,
    clock: Clock = utc_now,
    start_readers: bool = True,
    pages: bool = True,
    demo: bool = False,
) -> web.Application:
    """The daemon's application; the runtime starts and stops with it.

    ``pages=False`` serves the API alone (device tests, benchmarks).
    """
    app = web.Application(
        middlewares=[error_middleware, auth_middleware, idempotency_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[CONFIG] = config
    app.cleanup_ctx.append(
        _runtime_ctx(config, clock=clock, start_readers=start_readers, demo=demo)
    )
    app.cleanup_ctx.append(keys_ctx)  # Idempotency-Key: in the runtime's database
    app.on_shutdown.append(_stop_taking_taps)
    health.setup(app, config)  # who may read /metrics
    routing.setup_routes(app)
    if pages:
        pages_app.setup(app, demo=demo)
    return app
