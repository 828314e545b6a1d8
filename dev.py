#!/usr/bin/env python3
"""One entry point for a fresh clone: `python3 dev.py start` and `python3 dev.py test`.

It only needs Python >= 3.11: it creates `.venv`, installs the project into it (again only when
pyproject.toml changes), then runs the product or the tests inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".chtipass-installed"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("ch'tipass needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing dependencies into .venv …", flush=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(wanted)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=env)


def start(argv: list[str]) -> int:
    address = argv[0] if argv else "127.0.0.1:8000"
    env = {**os.environ, "CHTIPASS_DEMO": "1"}
    manage("migrate", "--no-input", env=env)
    manage("demo_seed", env=env)
    print(f"\nch'tipass is starting on http://{address}/ (API docs: /api/v1/docs/)\n", flush=True)
    os.execve(str(PYTHON), [str(PYTHON), str(ROOT / "manage.py"), "runserver", address], env)
    return 0


def test(argv: list[str]) -> int:
    return subprocess.run([str(PYTHON), "-m", "pytest", *argv], cwd=ROOT).returncode


def main() -> int:
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        print("usage: python3 dev.py start [address] | test [pytest args]")
        return 2
    ensure_environment()
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
