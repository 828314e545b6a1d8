#!/usr/bin/env python3
"""One entry point for a fresh clone: `python3 dev.py start` and `python3 dev.py test`.

It only needs Python >= 3.11: it creates `.venv`, installs the locked dependencies and the project
into it (again only when pyproject.toml or requirements-dev.lock changes), then runs the product
or the tests inside it. `python3 dev.py lock` writes the lock files again from pyproject.toml.
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


# Exact versions and hashes of every package: the development lock (dev.py, CI) and the image's
# (production dependencies only, same versions). Both are written by `python3 dev.py lock`.
LOCK = ROOT / "requirements-dev.lock"
IMAGE_LOCK = ROOT / "requirements.lock"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("ch'tipass needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing dependencies into .venv …", flush=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        # Every package at the version and with the hashes of the lock (pip itself included):
        # nothing resolves "newest". Hash-checking mode cannot install an editable project, so
        # the project goes in after, without dependencies, built by the locked setuptools.
        subprocess.run([*pip, "--require-hashes", "-r", str(LOCK)], check=True)
        subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
        STAMP.write_text(wanted)


def lock(argv: list[str]) -> int:
    """Write both lock files from pyproject.toml ([tool.pip-tools] holds the options). The
    development lock first (arguments such as --upgrade-package go to it); then the image's,
    without the dev extras, starting from the development pins so that both agree."""
    # Relative names: pip-compile writes its command line into the lock's header.
    compile_ = [str(PYTHON), "-m", "piptools", "compile", "--quiet", "pyproject.toml"]
    done = subprocess.run([*compile_, *argv, "--extra", "dev", "-o", LOCK.name], cwd=ROOT)
    if done.returncode:
        return done.returncode
    IMAGE_LOCK.write_bytes(LOCK.read_bytes())
    return subprocess.run([*compile_, "-o", IMAGE_LOCK.name], cwd=ROOT).returncode


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
    commands = {"start": start, "test": test, "lock": lock}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        print(
            "usage: python3 dev.py start [address] | test [pytest args] | lock [pip-compile args]"
        )
        return 2
    ensure_environment()
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
