"""Settings read from the environment refuse a value they do not understand, naming the variable,
at start-up: a typo must not silently turn a setting off or back to its default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import settings as project_settings

from .processes import ROOT


def start_settings(name: str, value: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, as a process starting up would."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment[name] = value
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "enabled"),
        ("CHTIPASS_ENV", "prod"),
        ("TOKEN_TTL_DAYS", "30d"),
        ("AXES_COOLOFF_HOURS", "a quarter"),
        ("THROTTLE_SCAN", "600 per minute"),
    ],
)
def test_a_process_does_not_start_on_a_value_it_does_not_understand(name, value):
    started = start_settings(name, value)

    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert f"{name}={value!r}" in started.stderr


@pytest.mark.parametrize("value", ["1", "true", "Yes", " on "])
def test_yes_words_read_as_true(monkeypatch, value):
    monkeypatch.setenv("DEBUG", value)

    assert project_settings.env_bool("DEBUG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "No", "OFF"])
def test_no_words_read_as_false(monkeypatch, value):
    monkeypatch.setenv("DEBUG", value)

    assert project_settings.env_bool("DEBUG", True) is False


@pytest.mark.parametrize("value", ["enabled", "2", "oui", "-"])
def test_any_other_word_for_a_yes_no_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv("CHTIPASS_DEMO", value)

    with pytest.raises(ImproperlyConfigured, match="CHTIPASS_DEMO="):
        project_settings.env_bool("CHTIPASS_DEMO", False)


def test_an_unset_or_empty_variable_takes_the_default(monkeypatch):
    monkeypatch.delenv("SCAN_RETENTION_DAYS", raising=False)
    assert project_settings.env_int("SCAN_RETENTION_DAYS", 180) == 180
    monkeypatch.setenv("SCAN_RETENTION_DAYS", "")
    assert project_settings.env_int("SCAN_RETENTION_DAYS", 180) == 180


@pytest.mark.parametrize("value", ["ten", "1.5", "1e3", "30d"])
def test_a_count_that_is_not_a_whole_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("SCAN_RETENTION_DAYS", value)

    with pytest.raises(ImproperlyConfigured, match="SCAN_RETENTION_DAYS="):
        project_settings.env_int("SCAN_RETENTION_DAYS", 180)


def test_a_count_below_its_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("NUM_PROXIES", "-1")

    with pytest.raises(ImproperlyConfigured, match="NUM_PROXIES is -1: it must be 0 or more"):
        project_settings.env_int("NUM_PROXIES", 0, minimum=0)


@pytest.mark.parametrize("value", ["nan", "inf", "-0.5", "soon"])
def test_a_duration_that_is_not_a_finite_positive_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("AXES_COOLOFF_HOURS", value)

    with pytest.raises(ImproperlyConfigured, match="AXES_COOLOFF_HOURS="):
        project_settings.env_float("AXES_COOLOFF_HOURS", 0.25)


@pytest.mark.parametrize("value", ["production", "development"])
def test_the_known_environments_are_accepted(monkeypatch, value):
    monkeypatch.setenv("CHTIPASS_ENV", value)

    assert (
        project_settings.env_choice("CHTIPASS_ENV", "development", ("development", "production"))
        == value
    )


@pytest.mark.parametrize("value", ["10/min", "600/m", "5/hour", "1/s", "100/days"])
def test_throttle_rates_drf_reads_are_accepted(monkeypatch, value):
    monkeypatch.setenv("THROTTLE_SCAN", value)

    assert project_settings.env_rate("THROTTLE_SCAN", "600/min") == value


@pytest.mark.parametrize("value", ["600", "600/week", "/min", "ten/min", "600/min/ip"])
def test_a_throttle_rate_drf_cannot_read_is_refused(monkeypatch, value):
    monkeypatch.setenv("THROTTLE_SCAN", value)

    with pytest.raises(ImproperlyConfigured, match="THROTTLE_SCAN="):
        project_settings.env_rate("THROTTLE_SCAN", "600/min")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgress://chtipass:s3cret@db:5432/chtipass"),
        ("REDIS_URL", "localhost:6379"),
    ],
)
def test_a_service_address_that_cannot_be_read_stops_the_start_up_without_its_password(name, value):
    started = start_settings(name, value)

    assert started.returncode != 0
    assert f"ImproperlyConfigured: {name}" in started.stderr
    assert "s3cret" not in started.stderr
