"""The gateway in the test process: the tier most tests run on (gatewaylib.Gateway, a real
`vidugate serve` child process, is kept for what needs one; those tests are marked
`process`).

- `running_app(settings)`: `create_app(settings)` with its lifespan running (workers,
  sweeper, sandbox renders in their forkserver children), driven with
  `httpx.AsyncClient(transport=httpx.ASGITransport(app))` (`asgi_client`). No socket.
- `InProcessGateway`: the same app served by uvicorn in a thread on a loopback port, with
  the options `vidugate serve` gives uvicorn (uvloop, the guarded httptools protocol of
  api/connections.py, its keep-alive and shutdown limits), for clients that need a socket:
  sync httpx, the openai SDK, curl, the CLI, LiteLLM, the Node SDK. It is a
  gatewaylib.Gateway to the tests (base_url, key, env, client, sql, new_key, logs), so a
  test moves between the tiers by the class it builds; one started in-process cannot be
  killed (that needs a process).

Settings are given as the same VIDUGATE_* strings a child process gets, parsed by
pydantic-settings as `serve` parses its environment, and never read from the test
process's own environment. What `serve` does before it starts the app and which a test
process must not (a private umask, the open-files limit, the preflight check, the key
printed on stdout) is `serve`'s own, tested on a real process (tests/cli)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

from dblib import fresh_database_url
from gatewaylib import SECRET, Gateway
from vidugate.app import create_app
from vidugate.cli.serve import uvicorn_options
from vidugate.clock import Clock
from vidugate.settings import Settings

T = TypeVar("T")


class _Given(EnvSettingsSource):
    """Environment variables from a mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = {name.lower(): value for name, value in env.items()}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._given


class _GivenSettings(Settings):
    """Settings from the values passed in only: no environment, no dotenv, no secrets dir."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_from(env: Mapping[str, str]) -> Settings:
    """The Settings a `vidugate serve` started with exactly these VIDUGATE_* variables reads."""
    return _GivenSettings(**_Given(Settings, env)())


def gateway_settings(data_dir: Path, **values: Any) -> Settings:
    """Settings for an in-process gateway: a fresh database on the run's backend, the tests'
    signing secret; `values` by field name."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "VIDUGATE_DATA_DIR": str(data_dir),
        "VIDUGATE_DATABASE_URL": fresh_database_url(data_dir),
        "VIDUGATE_SECRET": SECRET,
    }
    return settings_from(env).model_copy(update=values)


@contextlib.asynccontextmanager
async def running_app(settings: Settings, clock: Clock | None = None) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running (as uvicorn runs it) until the block ends."""
    app = create_app(settings, clock=clock)
    _Logs.install()
    async with app.router.lifespan_context(app):
        yield app


def asgi_client(app: FastAPI, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """A client that calls the app directly. Exceptions the app lets out reach the test
    (a 500 is a bug)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gateway.test",
        headers=headers,
        timeout=60,
        **kwargs,
    )


THREAD_PREFIX = "gateway-"


class _GatewayLog(logging.FileHandler):
    """One served gateway's log file (what `serve` writes to stderr): records formatted and
    filtered as by the handler logs.configure made, from the gateway's own thread or a
    helper thread, not from another served gateway's or the tests' main thread."""

    def __init__(self, path: Path, thread_name: str, like: logging.Handler) -> None:
        super().__init__(path, encoding="utf-8")
        self.thread_name = thread_name
        for kept in like.filters:
            self.addFilter(kept)
        self.setFormatter(like.formatter)

    def filter(self, record: logging.LogRecord) -> bool:
        thread = record.threadName or ""
        if thread == "MainThread" or (
            thread.startswith(THREAD_PREFIX) and thread != self.thread_name
        ):
            return False
        return bool(super().filter(record))


class _Logs:
    """The log files of the served gateways running now. create_app (logs.configure) sets
    the `vidugate` logger's handlers for a whole process, so after each the files are put
    back beside the handler it made (which writes to stderr: pytest captures it per test)."""

    NAMES = ("vidugate", "uvicorn.error")
    files: ClassVar[list[_GatewayLog]] = []

    @classmethod
    def install(cls) -> None:
        for name in cls.NAMES:
            logger = logging.getLogger(name)
            kept = [h for h in logger.handlers if not isinstance(h, _GatewayLog)]
            logger.handlers[:] = [*kept, *cls.files]

    @classmethod
    def add(cls, handler: _GatewayLog) -> None:
        cls.files.append(handler)
        cls.install()

    @classmethod
    def remove(cls, handler: _GatewayLog) -> None:
        cls.files.remove(handler)
        cls.install()
        handler.close()


@dataclass
class InProcessGateway(Gateway):
    """A gateway served by uvicorn in a thread of the test process (see the module docs)."""

    clock: Clock | None = None
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _handler: _GatewayLog | None = field(default=None, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    app: FastAPI | None = field(default=None, repr=False)

    def start(self) -> InProcessGateway:
        assert self._server is None, "already started"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = settings_from(self.env)
        if not self.key:
            self.key = self.new_key("default")  # as `serve` makes the first key, before
        self.log_path = self.data_dir / f"serve-{time.time_ns()}.log"
        name = f"{THREAD_PREFIX}{self.port}"
        self.app = create_app(settings, clock=self.clock)
        # create_app set the process's logging up (logs.configure): its records are written
        # to the file as that handler would write them to serve's stderr.
        (configured,) = (h for h in logging.getLogger("vidugate").handlers if h not in _Logs.files)
        self._handler = _GatewayLog(self.log_path, name, like=configured)
        _Logs.add(self._handler)
        # log_config None: the test process's logging stays as pytest has it.
        options = {**uvicorn_options(settings, access_log=False), "log_config": None}
        config = uvicorn.Config(self.app, lifespan="on", **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the in-process gateway did not start:\n{self.log()}")
            time.sleep(0.01)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        with asyncio.Runner(loop_factory=self._server.config.get_loop_factory()) as runner:
            self._loop = runner.get_loop()
            runner.run(self._server.serve())

    def new_key(self, name: str = "test") -> str:
        """A key made by the running gateway's own key service, on its event loop. (A
        second Database on the file in this process would not do: opening the SQLite file
        apart from SQLite drops the process's locks on it, see store/db.py create_engine.)"""
        if self._server is None or self._loop is None:
            return super().new_key(name)  # before the start, as `serve` makes the first
        keys = self.app.state.gateway.keys if self.app is not None else None
        assert keys is not None
        return str(self.run(keys.create(name))[1])

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """The coroutine run on the gateway's event loop, where its app's objects live
        (billing, prices, keys): for a test that sets the gateway up as an operator would."""
        assert self._loop is not None, "not started"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(60)

    def stop(self) -> None:
        """As SIGINT stops `serve`: requests in flight finish, then the lifespan's shutdown
        (the worker's grace, the providers closed)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(60)
            assert not self._thread.is_alive(), "the in-process gateway did not stop"
        self._server = None
        self._thread = None
        self._loop = None
        self.app = None
        if self._handler is not None:
            _Logs.remove(self._handler)
            self._handler = None

    def kill(self) -> None:
        raise TypeError("an in-process gateway cannot be killed: use gatewaylib.Gateway")
