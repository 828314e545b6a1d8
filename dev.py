#!/usr/bin/env python3
"""One entry point for a fresh clone: `python3 dev.py start` and `python3 dev.py test`.

It only needs Python >= 3.11: it creates `.venv`, installs the project into it (again only when
pyproject.toml changes), then runs the product or the tests inside it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".chtipass-installed"
# Read by config/settings.py when SECRET_KEY is not set (SECRET_KEY_FILE says otherwise).
LOCAL_SECRET = ROOT / "var" / "secret_key"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("ch'tipass needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "requirements.lock").read_bytes()
    ).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing dependencies into .venv …", flush=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        # requirements.lock pins every package to the versions the suite last passed with.
        lock = ROOT / "requirements.lock"
        subprocess.run([*pip, "-c", str(lock), "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(wanted)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=env)


def ensure_local_secret(path: Path) -> bool:
    """Write a random secret to `path` unless there is one; True when it was written. Kept
    from run to run: the demo database's signing keys are encrypted with it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(secrets.token_urlsafe(64) + "\n")
    return True


def prepare(env: dict[str, str]) -> None:
    """The database, its signing keys and the demo data, ready to serve."""
    if not env.get("SECRET_KEY"):
        ensure_local_secret(Path(env.get("SECRET_KEY_FILE") or LOCAL_SECRET))
    manage("migrate", "--no-input", env=env)
    # A demo database made before the local secret existed holds keys encrypted with the
    # public development key: encrypt them again with the local secret (idempotent).
    manage("signing_keys", "reencrypt", "--from-development-secret", env=env)
    manage("demo_seed", env=env)


def start(argv: list[str]) -> int:
    address = argv[0] if argv else "127.0.0.1:8000"
    env = {**os.environ, "CHTIPASS_DEMO": "1"}
    prepare(env)
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
