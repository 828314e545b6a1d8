"""Deployment (SPEC §7): the image, the docker compose stack, the lock files and the production
settings.

There is no Docker engine in the test environments, so nothing is built or started: the commands
of the image and of the compose services run here instead, with the production settings, as far as
they go without PostgreSQL and Redis (gunicorn loads the WSGI application, Celery its app, the
migrate service builds an empty SQLite database). `docker compose config` checks the compose file
where the docker CLI has the compose plugin. Settings are read once, at import: subprocesses.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

# Variables of the outer environment that would change what the production settings are tested
# with. DATABASE_URL, REDIS_URL and SQLITE_PATH pass through unless a test sets them.
SETTINGS_VARIABLES = {
    "CHTIPASS_ENV",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "CHTIPASS_DEMO",
}


def production_env(**values: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env |= {
        "CHTIPASS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],
        "ALLOWED_HOSTS": "chtipass.example",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def as_list(command: str | list[str] | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def image_command() -> list[str]:
    """The Dockerfile's last CMD (exec form), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    commands = re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    return json.loads(commands[-1])


def venv_command(command: list[str]) -> list[str]:
    """A command of the image run with this environment's executables (the image puts its
    Python's scripts on PATH; the tests' PATH may not have the virtualenv's)."""
    script = Path(sys.executable).parent / command[0]
    return [str(script) if script.exists() else command[0], *command[1:]]


def pins(lock: str) -> dict[str, tuple[str, int]]:
    """`name: (version, number of hashes)` of a pip-compile lock file."""
    found: dict[str, tuple[str, int]] = {}
    text = re.sub(r"\\\n", " ", (ROOT / lock).read_text())
    for line in text.splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==(\S+)(.*)$", line):
            name = canonicalize_name(match.group(1))
            found[name] = (match.group(2), match.group(3).count("--hash=sha256:"))
    return found


# --- The image and the compose services, run as far as they go here -------------------------


def has_docker_compose() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not has_docker_compose(), reason="no docker CLI with the compose plugin")
def test_docker_compose_accepts_the_compose_file(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if k != "NUM_PROXIES"}
    result = subprocess.run(
        ["docker", "compose", "config", "--format", "json"],
        cwd=tmp_path,
        env={**env, "POSTGRES_PASSWORD": "compose-config-check"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    # Behind the one TLS proxy the README asks for, X-Forwarded-For is believed for one hop.
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["NUM_PROXIES"] == "1", name


def test_the_image_runs_the_command_the_readme_documents():
    deploying = (ROOT / "README.md").read_text().split("## Deploying with docker compose", 1)[1]
    documented = re.search(r"`(gunicorn [^`]+)`", deploying.split("\n## ", 1)[0])
    assert documented, "README 'Deploying with docker compose' documents no gunicorn command"
    assert image_command() == shlex.split(documented.group(1))
    # The compose file's web service runs the image's command as it is.
    assert "command" not in compose_services()["web"]


def test_the_image_command_loads_the_wsgi_application_with_the_production_settings():
    """gunicorn --check-config reads gunicorn.conf.py and imports the application named by the
    command with the production settings, then exits: a module that moved fails here."""
    env = production_env(REDIS_URL="redis://127.0.0.1:6379/15")
    command = venv_command(image_command())
    result = subprocess.run(
        [command[0], "--check-config", *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_celery_services_name_an_app_that_loads_in_production():
    """`celery report` loads the app given by -A (and its settings) without a broker."""
    apps = {
        tuple(command[: command.index("-A") + 2])
        for service in compose_services().values()
        if (command := as_list(service.get("command")))[:1] == ["celery"]
    }
    assert apps, "no celery service in docker-compose.yml"
    for app in apps:
        result = subprocess.run(
            [*venv_command(list(app)), "report"],
            cwd=ROOT,
            env=production_env(REDIS_URL="redis://127.0.0.1:6379/15"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_migrate_service_builds_an_empty_database_and_a_signing_key(tmp_path):
    command = as_list(compose_services()["migrate"]["command"])
    assert command[:2] == ["sh", "-c"]
    script = re.sub(r"\bpython\b", shlex.quote(sys.executable), command[2])
    env = production_env(SQLITE_PATH=str(tmp_path / "fresh.sqlite3"), DATABASE_URL=None)
    result = subprocess.run(
        ["sh", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signing key" in result.stdout


def test_the_build_context_leaves_out_dotenv_the_venv_and_git():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git"} <= set(ignored)


def test_the_image_keeps_gunicorns_settings_file():
    """gunicorn reads ./gunicorn.conf.py from its working directory: log redaction and the
    one-process guard."""
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert (ROOT / "gunicorn.conf.py").exists()
    assert not any(fnmatch.fnmatch("gunicorn.conf.py", pattern) for pattern in ignored)


# --- The lock files ---------------------------------------------------------------------------


def test_every_dependency_is_locked_with_hashes_at_a_version_pyproject_accepts():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    image, development = pins("requirements.lock"), pins("requirements-dev.lock")
    for lock, wanted in (
        (image, project["dependencies"]),
        (development, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for requirement in map(Requirement, wanted):
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is not locked: run python3 dev.py lock"
            assert requirement.specifier.contains(lock[name][0], prereleases=True), name
        assert all(hashes for _, hashes in lock.values())


def test_the_image_installs_the_versions_the_tests_ran_with():
    development = pins("requirements-dev.lock")
    for name, (version, _) in pins("requirements.lock").items():
        assert development.get(name, (None,))[0] == version, name


# --- .env.example ---------------------------------------------------------------------------


def readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row)}


def test_env_example_lists_every_variable_the_readme_documents():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.MULTILINE))
    variables = readme_variables()
    assert len(variables) > 15
    assert variables | {"POSTGRES_PASSWORD"} <= listed


def test_env_example_secret_key_is_a_placeholder_production_refuses():
    example = (ROOT / ".env.example").read_text()
    secret_key = re.search(r"^SECRET_KEY=(.*)$", example, re.MULTILINE).group(1)
    assert len(secret_key) < 50


# --- Production settings ----------------------------------------------------------------------


def test_production_settings_pass_the_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "secret_key",
    [None, settings.DEVELOPMENT_SECRET_KEY, "too-short-to-be-a-production-key"],
    ids=["unset", "the development key", "a short key"],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    result = manage("check", env=production_env(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


PRINT_SECURITY = """
import json
from django.conf import settings
from django.test import Client, override_settings

# The manifest of hashed static files only exists after collectstatic (done in the image).
plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
client = Client(HTTP_HOST="chtipass.example")
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain_static}):
    plain = client.get("/admin/login/")
    secure = client.get("/admin/login/", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": settings.SESSION_COOKIE_HTTPONLY,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
}))
"""


def test_in_production_responses_carry_hsts_and_cookies_are_https_only():
    result = manage("shell", "-c", PRINT_SECURITY, env=production_env())
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://chtipass.example/admin/login/"
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie_secure"] is True
    assert seen["SESSION_COOKIE_SECURE"] is True
    assert seen["SESSION_COOKIE_HTTPONLY"] is True
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
