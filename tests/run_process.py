"""The run command as a child process, for the tests that start it:
tools/test_run.py and e2e/test_run_demo.py (so it lives in tests/, on sys.path through
pyproject's pytest pythonpath)."""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import subprocess
import threading
from dataclasses import dataclass, field

import pytest

from devtools.paths import ROOT, child_env, module_command

RUN_MODULE = "devtools.servers.run"
URL_LINE = re.compile(r"\s*Open:\s+(http://\S+)\s*")
STARTUP_TIMEOUT = 60.0  # the build copies the Pyodide runtime: seconds, not minutes
STOP_TIMEOUT = 10.0


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out, all distinct (held open together while picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@dataclass
class RunProcess:
    """The run command (`python -m devtools.servers.run ARGS`) as a child process; both its
    pipes are read in threads, the only readers, so it never blocks on a full pipe and no
    pipe is closed under a reader."""

    args: list[str]
    process: subprocess.Popen[str] = field(init=False)
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue, init=False)
    stdout: list[str] = field(default_factory=list, init=False)
    stderr: list[str] = field(default_factory=list, init=False)
    readers: list[threading.Thread] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.process = subprocess.Popen(
            module_command(RUN_MODULE, *self.args), cwd=ROOT, env=child_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8",
        )
        self.readers = [threading.Thread(target=self._pump_stdout, daemon=True),
                        threading.Thread(target=self._pump_stderr, daemon=True)]
        for reader in self.readers:
            reader.start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def wait_for_url(self) -> str:
        while True:
            try:
                line = self.lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no URL within {STARTUP_TIMEOUT:.0f} s:\n{''.join(self.stdout)}")
            if line is None:
                pytest.fail(f"run.py exited early: {self.finish()}")
            if match := URL_LINE.fullmatch(line):
                return match.group(1)

    def finish(self, timeout: float = STOP_TIMEOUT) -> str:
        """Wait for the exit and the end of both pipes; returns stderr."""
        self.process.wait(timeout=timeout)
        for reader in self.readers:
            reader.join(timeout=timeout)
        return "".join(self.stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.finish()
