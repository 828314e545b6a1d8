"""The two offline verifiers agree: the same vectors, the same decision and reason.

The scanner page's JavaScript (`web/static/web/scanner-verify.js`) is a port of
`passes/offline.py`. Both read the vectors in `tests/vectors/offline.json` (made from the codec by
`tests/vectors/generate.py`) and must give every credential the expected decision and reason, and
leave the expected state after every revocation list. The JavaScript runs in Node, with each of
its Ed25519 backends (WebCrypto, and the vendored @noble/ed25519 that older browsers fall back on).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from passes.offline import OfflineVerifier, RevocationListError

from .conftest import in_ci
from .vectors import generate

ROOT = Path(__file__).resolve().parent.parent
SCANNER_VERIFY = ROOT / "web" / "static" / "web" / "scanner-verify.js"
NOBLE = ROOT / "web" / "static" / "web" / "vendor" / "noble-ed25519.js"
DRIVER = Path(generate.__file__).with_name("run_scanner_verify.mjs")
BACKENDS = ("webcrypto", "noble")

VECTORS: dict[str, Any] = json.loads(generate.PATH.read_text(encoding="utf-8"))
CREDENTIALS = {vector["name"]: vector for vector in VECTORS["credentials"]}
LISTS = {vector["name"]: vector for vector in VECTORS["revocation_lists"]}


def test_the_committed_vectors_are_what_the_generator_makes_today():
    assert generate.PATH.read_text(encoding="utf-8") == generate.render(), (
        "run `python -m tests.vectors.generate` and commit tests/vectors/offline.json"
    )


def test_the_vectors_cover_every_reason_an_offline_scanner_gives():
    reasons = {vector["reason"] for vector in CREDENTIALS.values()}
    assert reasons == {
        None,
        "malformed",
        "unknown_key",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "stale_code",
        "online_only",
        "revoked",
        "suspended",
        "account_inactive",
        "not_in_network",
    }
    assert {vector["result"] == "error" for vector in LISTS.values()} == {True, False}


# --- Python ------------------------------------------------------------------------------------


def python_verifier() -> OfflineVerifier:
    verifier = OfflineVerifier.from_published(VECTORS["keys"], VECTORS["network"])
    verifier.apply_revocations(VECTORS["revocations"])
    return verifier


@pytest.mark.parametrize("name", CREDENTIALS)
def test_the_python_verifier_gives_each_vector_its_decision_and_reason(name):
    vector = CREDENTIALS[name]
    decision = python_verifier().verify(vector["credential"], vector["now"])
    assert (decision.decision, decision.reason) == (vector["decision"], vector["reason"])


def python_list_result(vector: dict[str, Any]) -> dict[str, Any] | str:
    verifier = python_verifier()
    try:
        verifier.apply_revocations(vector["list"])
    except RevocationListError:
        return "error"
    return {
        "version": verifier.version,
        "revoked": sorted(verifier.revoked),
        "suspended": sorted(verifier.suspended),
        "account_inactive": sorted(verifier.account_inactive),
    }


@pytest.mark.parametrize("name", LISTS)
def test_the_python_verifier_applies_or_refuses_each_revocation_list(name):
    assert python_list_result(LISTS[name]) == LISTS[name]["result"]


# --- JavaScript --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        message = "needs Node.js to run the scanner's JavaScript verifier"
        if in_ci():
            pytest.fail(f"{message} (CI must install it)")
        pytest.skip(message)
    return path


def run_javascript(node: str, module: Path) -> dict[str, Any]:
    run = subprocess.run(
        [node, str(DRIVER), module.as_uri(), str(generate.PATH), *BACKENDS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def javascript(node) -> dict[str, Any]:
    return run_javascript(node, SCANNER_VERIFY)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", CREDENTIALS)
def test_the_javascript_verifier_gives_each_vector_its_decision_and_reason(
    javascript, backend, name
):
    vector = CREDENTIALS[name]
    assert javascript[backend]["credentials"][name] == {
        "decision": vector["decision"],
        "reason": vector["reason"],
    }


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", LISTS)
def test_the_javascript_verifier_applies_or_refuses_each_revocation_list(javascript, backend, name):
    assert javascript[backend]["revocation_lists"][name] == LISTS[name]["result"]


# --- The vectors catch a broken port -----------------------------------------------------------
# Each mutation breaks one check of the JavaScript the way a careless edit would; the vectors
# must then disagree with it. (A mutation that no vector notices is a check the tests don't prove.)

MUTATIONS = {
    "signature check skipped": (
        "if (!(await verifySignature(",
        "if (false && !(await verifySignature(",
    ),
    "WebCrypto's answer ignored": ("return valid;\n", "return true;\n"),
    "noble's answer ignored": (
        "return await noble.verifyAsync(signature, message, publicKey, { zip215: false });",
        "await noble.verifyAsync(signature, message, publicKey, { zip215: false }); return true;",
    ),
    "revocation check dropped": (
        'if (state.revoked.has(claims.pass_id)) return refused("revoked", claims);',
        "",
    ),
    "revocation list signature ignored": ('throw new RevocationListError("bad signature");', ";"),
    "counter window widened": ("claims.counter < current + COUNTER_WINDOW[0]", "false"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_mutated_javascript_verifier_disagrees_with_the_vectors(node, tmp_path, mutation):
    before, after = MUTATIONS[mutation]
    source = SCANNER_VERIFY.read_text(encoding="utf-8")
    assert source.count(before) == 1, "the mutation no longer matches scanner-verify.js"
    (tmp_path / "vendor").mkdir()
    shutil.copy(NOBLE, tmp_path / "vendor" / NOBLE.name)
    mutant = tmp_path / SCANNER_VERIFY.name
    mutant.write_text(source.replace(before, after), encoding="utf-8")

    results = run_javascript(node, mutant)

    wrong = [
        (backend, name)
        for backend in BACKENDS
        for name, vector in CREDENTIALS.items()
        if results[backend]["credentials"][name]
        != {"decision": vector["decision"], "reason": vector["reason"]}
    ] + [
        (backend, name)
        for backend in BACKENDS
        for name, vector in LISTS.items()
        if results[backend]["revocation_lists"][name] != vector["result"]
    ]
    assert wrong, f"no vector notices: {mutation}"
