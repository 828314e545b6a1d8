"""Tests marked `postgres` skip on SQLite, and fail in CI's PostgreSQL pass when they do not run.

Without this, a PostgreSQL-only test run on SQLite compares a path with itself and passes.
"""

from __future__ import annotations

import types

import pytest
from _pytest.outcomes import Failed, Skipped

from . import conftest

POSTGRESQL, SQLITE = "postgresql", "sqlite"


def an_item(*, marked: bool) -> types.SimpleNamespace:
    marker = pytest.mark.postgres.mark if marked else None
    return types.SimpleNamespace(get_closest_marker=lambda name: marker)


@pytest.fixture
def database(monkeypatch):
    def use(engine: str, *, expect_postgres: bool) -> None:
        monkeypatch.setattr(conftest, "_configured_for_postgresql", lambda: engine == POSTGRESQL)
        if expect_postgres:
            monkeypatch.setenv("CI_EXPECT_POSTGRES", "1")
        else:
            monkeypatch.delenv("CI_EXPECT_POSTGRES", raising=False)

    return use


def setup_outcome(item) -> BaseException | None:
    """What the setup hook raised; caught here, a Skipped would skip this test itself."""
    try:
        conftest.pytest_runtest_setup(item)
    except BaseException as outcome:
        return outcome
    return None


def test_a_postgresql_test_skips_on_sqlite_and_says_why(database):
    database(SQLITE, expect_postgres=False)
    outcome = setup_outcome(an_item(marked=True))
    assert isinstance(outcome, Skipped)
    assert "needs PostgreSQL" in str(outcome)


def test_a_postgresql_test_fails_on_sqlite_when_ci_expects_postgresql(database):
    database(SQLITE, expect_postgres=True)
    outcome = setup_outcome(an_item(marked=True))
    assert isinstance(outcome, Failed)
    assert "CI_EXPECT_POSTGRES=1" in str(outcome)


def test_a_postgresql_test_runs_on_postgresql(database):
    database(POSTGRESQL, expect_postgres=True)
    assert setup_outcome(an_item(marked=True)) is None


def test_an_unmarked_test_runs_on_sqlite_even_when_ci_expects_postgresql(database):
    database(SQLITE, expect_postgres=True)
    assert setup_outcome(an_item(marked=False)) is None


def report_after(item, report, hook=conftest.pytest_runtest_makereport):
    wrapper = hook(item, None)
    next(wrapper)
    with pytest.raises(StopIteration):
        wrapper.send(types.SimpleNamespace(get_result=lambda: report))
    return report


def a_skip_report() -> types.SimpleNamespace:
    return types.SimpleNamespace(skipped=True, outcome="skipped", longrepr="skipped itself")


def test_a_postgresql_test_that_skips_itself_fails_when_ci_expects_postgresql(database):
    database(POSTGRESQL, expect_postgres=True)
    report = report_after(an_item(marked=True), a_skip_report())
    assert report.outcome == "failed"
    assert "skipped in the PostgreSQL pass" in report.longrepr


def test_a_skip_stays_a_skip_outside_the_postgresql_pass_or_without_the_marker(database):
    database(SQLITE, expect_postgres=False)
    assert report_after(an_item(marked=True), a_skip_report()).outcome == "skipped"
    database(POSTGRESQL, expect_postgres=True)
    assert report_after(an_item(marked=False), a_skip_report()).outcome == "skipped"


def test_the_database_the_tests_are_configured_for_is_the_one_they_connect_to():
    from django.db import connection

    assert conftest._configured_for_postgresql() == (connection.vendor == "postgresql")
