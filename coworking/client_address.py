"""The client's address, as far as this deployment can vouch for it.

`X-Forwarded-For` is written by whoever sends the request: only the hops appended by our own
proxies can be believed. With `NUM_PROXIES` proxies in front of the application (README,
"Configuration"), the last proxy is `REMOTE_ADDR` and the others appended their peers to the
header, so the client is the `NUM_PROXIES`-th entry from the right: anything to its left may be
made up. With 0 (the default, nothing in front), the header is ignored.

Login throttling and lockout (coworking/lockout.py, django-axes) use this function; DRF's
throttles apply the same rule from `REST_FRAMEWORK["NUM_PROXIES"]`, set from the same setting
(tests/test_client_address.py checks that they agree).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The address of the client that sent `request`, or None if nothing valid is known."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies == 0 or not forwarded:
        return _valid(remote)
    hops = forwarded.split(",")
    # Fewer hops than proxies: the request skipped a proxy; its left-most hop is as far as we
    # can go (DRF's rule too). Not an address at all: our proxy would not write that, so the
    # hop we trust least is not used and the peer stands for the client.
    return _valid(hops[-min(proxies, len(hops))]) or _valid(remote)
