"""Start and stop real Celery worker processes (``celery -A dagster_celery.app worker``) for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CELERY_CONFIG_DIR = REPO / "deploy" / "celery"


class Workers:
    def __init__(self, broker: str, backend: str, queue: str, log_dir: Path) -> None:
        self.broker, self.backend, self.queue, self.log_dir = broker, backend, queue, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": f"{CELERY_CONFIG_DIR}{os.pathsep}{REPO}",
            "PANTAU_CELERY_BROKER": self.broker,
            "PANTAU_CELERY_BACKEND": self.backend,
            "PANTAU_CELERY_QUEUE": self.queue,
            "PANTAU_TEST_WORKER": name,
        }
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        cmd = [
            sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker",
            "-Q", self.queue, "-n", f"{name}@%h", "--pool", "solo",
            "--without-gossip", "--without-mingle", "-l", "INFO",
        ]  # fmt: skip
        self.procs[name] = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        end = time.monotonic() + timeout_s
        pending = set(self.procs)
        while pending and time.monotonic() < end:
            for n in list(pending):
                if self.procs[n].poll() is not None:
                    raise RuntimeError(f"celery worker {n} exited:\n{self.log(n)[-3000:]}")
                if " ready." in self.log(n):
                    pending.discard(n)
            time.sleep(0.2)
        if pending:
            raise TimeoutError(f"workers not ready: {pending}")

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
