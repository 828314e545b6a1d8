"""Outside production the secret key is a random one of the machine's (var/secret_key, written by
`dev.py start`), not the public development key: a copy of even a demo database does not give
its signing keys away."""

from __future__ import annotations

import importlib.util
import io
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from passes.keys import KeyRegistryError, signing_key, signing_key_create
from passes.models import SigningKey

from .processes import ROOT
from .test_deploy import production_env


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


def test_dev_py_writes_a_random_secret_once_and_keeps_it(tmp_path):
    path = tmp_path / "var" / "secret_key"

    assert dev.ensure_local_secret(path) is True
    secret = path.read_text()
    assert len(secret.strip()) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # only its owner reads it

    assert dev.ensure_local_secret(path) is False
    assert path.read_text() == secret
    other = tmp_path / "other"
    dev.ensure_local_secret(other)
    assert other.read_text() != secret


def test_dev_py_and_the_settings_agree_on_where_the_secret_is():
    expected = os.environ.get("SECRET_KEY_FILE") or str(dev.LOCAL_SECRET)
    assert expected == settings.SECRET_KEY_FILE


def test_var_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "var/secret_key"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0


PRINT_SECRETS = (
    "from django.conf import settings as s; "
    "print(s.SECRET_KEY == s.DEVELOPMENT_SECRET_KEY, s.SECRET_KEY, s.SIGNING_KEY_SECRET)"
)


def settings_seen(**env: str | None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "CHTIPASS_ENV"}}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT_SECRETS}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_settings_use_the_local_secret_for_the_secret_key_and_the_signing_keys(tmp_path):
    path = tmp_path / "secret_key"
    dev.ensure_local_secret(path)

    seen = settings_seen(SECRET_KEY_FILE=str(path))

    assert seen.returncode == 0, seen.stderr
    is_development_key, secret_key, signing_secret = seen.stdout.split()
    assert is_development_key == "False"
    assert secret_key == signing_secret == path.read_text().strip()


def test_a_fresh_clone_without_the_file_still_runs_on_the_development_key(tmp_path):
    seen = settings_seen(SECRET_KEY_FILE=str(tmp_path / "not-written-yet"))

    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.split()[0] == "True"


def test_a_secret_key_in_the_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "secret_key"
    dev.ensure_local_secret(path)

    seen = settings_seen(SECRET_KEY_FILE=str(path), SECRET_KEY="x" * 60)

    assert seen.stdout.split()[1] == "x" * 60


def test_a_truncated_secret_file_is_refused(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("short\n")

    seen = settings_seen(SECRET_KEY_FILE=str(path))

    assert seen.returncode != 0 and "SECRET_KEY_FILE" in seen.stderr


def test_production_does_not_read_the_development_machines_secret(tmp_path):
    """var/secret_key is a development convenience: production needs SECRET_KEY given."""
    seen = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(SECRET_KEY=None, SECRET_KEY_FILE=None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seen.returncode != 0 and "SECRET_KEY" in seen.stderr


def test_production_refuses_the_development_key_from_a_file_too(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text(settings.DEVELOPMENT_SECRET_KEY)
    seen = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seen.returncode != 0 and "SECRET_KEY" in seen.stderr


# --- A demo database made before the local secret existed ---------------------------------------


@pytest.mark.django_db
def test_keys_encrypted_with_the_development_key_are_encrypted_again_with_the_local_one(
    settings,
):
    settings.SIGNING_KEY_SECRET = settings.DEVELOPMENT_SECRET_KEY
    old = signing_key_create(not_before=timezone.now() - timezone.timedelta(days=1))
    before = bytes(old.encrypted_private_key)
    settings.SIGNING_KEY_SECRET = "a local random secret " * 3
    with pytest.raises(KeyRegistryError):
        signing_key(timezone.now())

    out = io.StringIO()
    call_command("signing_keys", "reencrypt", "--from-development-secret", stdout=out)

    assert "1 key(s) encrypted again" in out.getvalue()
    key, _private_key = signing_key(timezone.now())
    assert key.kid == old.kid  # the same key: credentials it signed stay valid
    assert bytes(SigningKey.objects.get(pk=old.pk).encrypted_private_key) != before
    settings.SIGNING_KEY_SECRET = settings.DEVELOPMENT_SECRET_KEY
    with pytest.raises(KeyRegistryError):  # the public key no longer opens it
        signing_key(timezone.now())


@pytest.mark.django_db
def test_reencrypting_twice_changes_nothing_and_leaves_unknown_keys_alone(settings):
    settings.SIGNING_KEY_SECRET = "yet another secret, neither the old nor the new " * 2
    stranger = signing_key_create()
    settings.SIGNING_KEY_SECRET = "a local random secret " * 3
    current = signing_key_create()
    stored = {k.pk: bytes(k.encrypted_private_key) for k in SigningKey.objects.all()}

    out = io.StringIO()
    call_command("signing_keys", "reencrypt", "--from-development-secret", stdout=out)

    assert "encrypted again" not in out.getvalue()
    assert "1 key(s) open with neither secret" in out.getvalue()
    assert {k.pk: bytes(k.encrypted_private_key) for k in SigningKey.objects.all()} == stored
    assert {stranger.pk, current.pk} == set(stored)


RUN_IN_DEMO_DATABASE = """
import django; django.setup()
from django.conf import settings
from django.utils import timezone
from passes.keys import signing_key
from passes.models import SigningKey
key, _private = signing_key(timezone.now())
development = settings.SIGNING_KEY_SECRET == settings.DEVELOPMENT_SECRET_KEY
print(SigningKey.objects.count(), key.kid, development)
"""


@pytest.mark.slow
def test_dev_py_start_takes_over_a_demo_database_made_with_the_development_key(tmp_path):
    """The steps of `dev.py start` before it serves, on a demo database of the old kind."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "CHTIPASS_ENV"} and not k.startswith("PYTEST")
    }
    secret = tmp_path / "var" / "secret_key"
    env |= {
        "SQLITE_PATH": str(tmp_path / "demo.sqlite3"),
        "SECRET_KEY_FILE": str(secret),
        "CHTIPASS_DEMO": "1",
    }
    # 1. Yesterday's demo database: made without a local secret (the development key).
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "manage.py", "demo_seed"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert not secret.exists()

    # 2. Today's start: a local secret is written and the demo database works with it.
    dev.prepare(env)

    assert secret.exists()
    seen = subprocess.run(
        [sys.executable, "-c", RUN_IN_DEMO_DATABASE],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.split() == ["1", "1", "False"]  # the same single key, under the new secret
