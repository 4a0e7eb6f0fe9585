"""Run a devtools server as a child process: spawn it, wait for its "<name> ready at <url>"
line, stop it on exit. The local OpenID provider (node_provider_process.py) and the demo
API (api_process.py) are run this way.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, ClassVar, Self, TextIO

from devtools.paths import child_env, module_command

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def ready_pattern(name: str) -> re.Pattern[str]:
    """The line a devtools server prints once it listens: "<name> ready at <url>"."""
    return re.compile(rf"{re.escape(name)} ready at (http://\S+)")


READY_RE = ready_pattern("provider")


class ServerStartError(RuntimeError):
    """A devtools server process exited or stayed silent instead of getting ready."""


class ProviderStartError(ServerStartError):
    """The local OpenID provider did not start."""


def _drain(stream: IO[str] | None, on_line: Callable[[str], None],
           on_end: Callable[[None], None] | None = None) -> threading.Thread:
    """Read a pipe to its end in a daemon thread; on_end(None) marks the end."""
    def pump() -> None:
        assert stream is not None
        for line in stream:
            on_line(line)
        if on_end is not None:
            on_end(None)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


class ServerProcess:
    """A devtools server script as a child process; a context manager that stops it on exit.

    Subclasses name the module (run as `python -m MODULE`, with py/ on its PYTHONPATH),
    the word before " ready at" in its ready line, a human description for errors and
    the error class to raise; one that is not a Python module overrides command().
    """

    module: ClassVar[str]
    ready_name: ClassVar[str]
    description: ClassVar[str]
    error_class: ClassVar[type[ServerStartError]] = ServerStartError

    @classmethod
    def command(cls) -> list[str]:
        """The program and leading arguments that run the server; the caller's args follow."""
        return module_command(cls.module)

    def __init__(self, args: Sequence[str], log_to: TextIO | None = None) -> None:
        self.process = subprocess.Popen(
            [*self.command(), *args], env=child_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,
        )
        # Both pipes are drained for the whole run: a full pipe would block the server.
        self._log_to = log_to
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._stdout_lines: queue.Queue[str | None] = queue.Queue()
        self._stderr_reader = _drain(self.process.stderr, self._keep_stderr)
        _drain(self.process.stdout, self._stdout_lines.put, on_end=self._stdout_lines.put)
        try:
            self.url = self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _keep_stderr(self, line: str) -> None:
        self._stderr_tail.append(line)
        if self._log_to is not None:
            self._log_to.write(line)

    def _wait_until_ready(self) -> str:
        try:
            line = self._stdout_lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            raise self._start_error(f"not ready within {STARTUP_TIMEOUT:.0f} s") from None
        match = ready_pattern(self.ready_name).fullmatch(line.strip()) if line else None
        if match is None:
            raise self._start_error(f"unexpected output {line!r}" if line else "it exited")
        return match.group(1)

    def _start_error(self, reason: str) -> ServerStartError:
        # Give a dying process a moment so its traceback reaches the stderr tail.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        if self.process.poll() is not None:
            self._stderr_reader.join(timeout=1)
        stderr = "".join(self._stderr_tail).strip() or "(no stderr output)"
        return self.error_class(
            f"{self.description} failed to start: {reason} "
            f"(exit code {self.process.poll()}).\n--- {self.ready_name} stderr ---\n{stderr}")

    def stderr_tail(self) -> str:
        """The server's recent log lines, for diagnosing failing tests."""
        return "".join(self._stderr_tail)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: the servers shut down cleanly
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
