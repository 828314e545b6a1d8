"""Deployment (SPEC §7): the docker compose stack, the image and the production settings.

There is no Docker engine in the test environments: the compose file and the Dockerfile are checked
statically, and the production settings in subprocesses (they are read once, at import).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")

# Variables of the outer environment that would change what the production settings are tested
# with. DATABASE_URL, REDIS_URL and SQLITE_PATH pass through: checks touch no database.
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


def as_list(command: str | list[str] | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def as_dict(environment: dict | list | None) -> dict[str, str]:
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {k: str(v) for k, v in (environment or {}).items()}


def env_files(service: dict) -> list[str]:
    files = service.get("env_file", [])
    files = [files] if isinstance(files, str | dict) else files
    return [f["path"] if isinstance(f, dict) else f for f in files]


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_runs_postgres_redis_the_migrations_web_worker_and_beat(services):
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    worker = as_list(services["worker"]["command"])
    assert worker == ["celery", "-A", "config", "worker", "-l", "info"]


def test_postgres_keeps_its_data_in_a_volume_and_reports_its_health(services):
    db = services["db"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(as_list(db["healthcheck"]["test"]))


def test_redis_runs_with_append_only_persistence_in_a_volume(services):
    command = as_list(services["redis"]["command"])
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])


def test_the_migrations_run_once_when_the_database_is_healthy(services):
    migrate = services["migrate"]
    command = " ".join(as_list(migrate["command"]))
    assert "manage.py migrate --no-input" in command
    assert command.index("migrate --no-input") < command.index("signing_keys ensure")
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_app_starts_only_after_the_migrations_completed_successfully(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert "redis" in depends_on


def test_web_serves_the_image_s_gunicorn_on_port_8000(services):
    web = services["web"]
    command = as_list(web.get("command"))
    assert not command or command[0] == "gunicorn"
    assert any(str(port).endswith("8000:8000") for port in web["ports"])


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_a_process_that_exits_is_started_again(services, name):
    """The worker also waits for its broker however long an outage lasts (settings:
    CELERY_BROKER_CONNECTION_MAX_RETRIES, tests/test_worker_broker_outage.py); should it exit
    all the same, Docker starts it again."""
    assert services[name]["restart"] in {"unless-stopped", "always"}


def test_exactly_one_beat_runs(services):
    beats = [name for name, s in services.items() if "beat" in as_list(s.get("command"))[:4]]
    assert beats == ["beat"]
    assert as_list(services["beat"]["command"])[:6] == [
        "celery",
        "-A",
        "config",
        "beat",
        "-l",
        "info",
    ]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_reads_dotenv_and_runs_in_production_on_db_and_redis(services, name):
    service = services[name]
    environment = as_dict(service["environment"])
    assert ".env" in env_files(service)
    assert environment["CHTIPASS_ENV"] == "production"
    assert re.match(r"postgres(ql)?://[^@]+@db:5432/", environment["DATABASE_URL"])
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")


# --- The image --------------------------------------------------------------------------------


def test_the_image_is_python_3_11_slim_installed_from_pyproject_without_dev_extras(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(args for instruction, args in dockerfile if instruction == "RUN")
    assert "pyproject.toml" in runs and "pip install" in runs
    assert "[dev]" not in runs


def test_the_image_has_no_hard_coded_secret_key(dockerfile):
    for instruction, args in dockerfile:
        assert not (instruction in {"ENV", "ARG"} and "SECRET_KEY" in args), args
        for value in re.findall(r"SECRET_KEY=(\S+)", args):
            assert value.startswith(('"$(', "$(")), f"hard-coded SECRET_KEY in {args}"


def test_the_image_collects_static_files_with_the_production_settings(dockerfile):
    collect = [a for i, a in dockerfile if i == "RUN" and "collectstatic" in a]
    assert len(collect) == 1
    assert "CHTIPASS_ENV=production" in collect[0]
    assert "SECRET_KEY=" in collect[0]


def test_the_image_runs_as_a_non_root_user(dockerfile):
    users = [args for instruction, args in dockerfile if instruction == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    last_user = max(i for i, (instruction, _) in enumerate(dockerfile) if instruction == "USER")
    assert all(instruction != "RUN" for instruction, _ in dockerfile[last_user:])


def test_the_image_serves_coworking_wsgi_with_gunicorn_on_all_interfaces_port_8000(dockerfile):
    cmd = json.loads([args for instruction, args in dockerfile if instruction == "CMD"][-1])
    assert cmd[:2] == ["gunicorn", "config.wsgi"]
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    assert "--workers" in cmd and "--threads" in cmd


def test_the_build_context_leaves_out_dotenv_the_venv_and_git():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git"} <= set(ignored)


def test_the_image_keeps_gunicorns_settings_file(dockerfile):
    """gunicorn reads ./gunicorn.conf.py from /app: log redaction and the one-process guard."""
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert (ROOT / "gunicorn.conf.py").exists()
    assert not any(fnmatch.fnmatch("gunicorn.conf.py", pattern) for pattern in ignored)
    workdir = [args for instruction, args in dockerfile if instruction == "WORKDIR"]
    assert workdir == ["/app"]


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
