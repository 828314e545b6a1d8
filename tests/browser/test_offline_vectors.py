"""The shared offline vectors in the real Chromium: the scanner page's verifier, as the browser
loads it (its WebCrypto Ed25519 and the vendored fallback), gives every vector the expected
answer, like Node does in tests/test_offline_vectors.py."""

from __future__ import annotations

import pytest
from django.templatetags.static import static

from ..test_offline_vectors import BACKENDS, CREDENTIALS, LISTS, VECTORS
from ..vectors import generate

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

RUN = """async ({moduleUrl, fallbackUrl, runner, vectors, backends}) => {
    const verify = await import(moduleUrl);
    verify.setEd25519FallbackUrl(fallbackUrl);
    const blob = new Blob([runner], {type: "text/javascript"});
    const {runVectors} = await import(URL.createObjectURL(blob));
    return runVectors(verify, vectors, backends);
}"""


def test_the_browsers_verifier_gives_every_vector_its_expected_answer(page):
    module = static("web/scanner-verify.js")
    page.goto(module)  # a document of the server's origin (a static file: no page script runs)
    results = page.evaluate(
        RUN,
        {
            "moduleUrl": module,
            "fallbackUrl": static("web/vendor/noble-ed25519.js"),
            "runner": generate.PATH.with_name("run_vectors.mjs").read_text(encoding="utf-8"),
            "vectors": VECTORS,
            "backends": list(BACKENDS),
        },
    )
    for backend in BACKENDS:
        assert results[backend]["credentials"] == {
            name: {"decision": vector["decision"], "reason": vector["reason"]}
            for name, vector in CREDENTIALS.items()
        }, backend
        assert results[backend]["revocation_lists"] == {
            name: vector["result"] for name, vector in LISTS.items()
        }, backend
    assert page.javascript_errors == []
