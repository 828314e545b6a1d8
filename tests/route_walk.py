"""Every route of the URLconf as a URL one can request, and the names a view reads.

`routes()` walks `get_resolver()`; `Route.url()` fills its path parameters. `ReadRecorder`
notes which query, form and JSON names a view reads during a request, so that a fuzz test can
send bad values exactly where a view looks (tests/test_bad_input.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

METHODS = ("get", "post", "put", "patch", "delete")
ROUTE_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")
REGEX_GROUP_START = re.compile(r"\(\?P<(?P<name>\w+)>")


class Raw(str):
    """A path or query value sent as written: already percent-encoded (invalid UTF-8, say)."""


def _regex_template(regex: str) -> str | None:
    """`^spaces/(?P<slug>[^/.]+)\\.(?P<format>[a-z0-9]+)/?$` -> `spaces/{slug}.{format}`;
    None for a regex this simple reading cannot turn into a URL."""
    out, position = [], 0
    for start in REGEX_GROUP_START.finditer(regex):
        if start.start() < position:
            continue
        out.append(regex[position : start.start()])
        depth, index = 1, start.end()
        while depth and index < len(regex):
            depth += {"(": 1, ")": -1}.get(regex[index], 0) if regex[index - 1] != "\\" else 0
            index += 1
        out.append("{" + start["name"] + "}")
        position = index
    out.append(regex[position:])
    text = "".join(out).removeprefix("^").removesuffix("$").replace("/?", "").replace("\\.", ".")
    return None if re.search(r"[\\()\[\]|*+?^$]", text) else text


def _part_template(pattern: Any) -> str | None:
    if isinstance(pattern, RoutePattern):
        return ROUTE_PARAMETER.sub(lambda m: "{" + m["name"] + "}", str(pattern))
    if isinstance(pattern, RegexPattern):
        return _regex_template(str(pattern))
    return None


def _join_route(outer: str, inner: str) -> str:
    # As django.urls.resolvers does for ResolverMatch.route: a top-level pattern keeps its "^".
    return outer + inner.removeprefix("^") if outer else inner


@dataclass(frozen=True)
class Route:
    route: str  # as `resolve(url).route` gives it
    template: str | None  # "/api/v1/bookings/{pk}/"; None if it could not be worked out
    name: str | None  # with its namespaces: "admin:spaces_booking_change"
    parts: tuple[str, ...]  # each include's own pattern, outermost first
    callback: Callable

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.template or "")

    def url(self, values: Mapping[str, str]) -> str:
        """The URL with these path parameters (percent-encoded unless `Raw`)."""
        assert self.template is not None, self.route
        return re.sub(
            r"\{(\w+)\}",
            lambda m: (
                values[m[1]] if isinstance(values[m[1]], Raw) else quote(values[m[1]], safe="")
            ),
            self.template,
        )

    @property
    def methods(self) -> list[str]:
        """The HTTP methods the view has: a viewset's actions, a class's handlers, or, for a
        function view, GET and POST."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return [method.upper() for method in actions if method in METHODS]
        view_class = getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )
        if view_class is not None:
            return [method.upper() for method in METHODS if hasattr(view_class, method)]
        return ["GET", "POST"]

    @property
    def is_drf_view(self) -> bool:
        return hasattr(self.callback, "cls")


def _walk(
    resolver: URLResolver, route: str, template: str | None, namespace: str, parts: tuple
) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        part = _part_template(entry.pattern)
        joined_template = None if template is None or part is None else template + part
        joined_route = _join_route(route, str(entry.pattern))
        if isinstance(entry, URLResolver):
            inner_namespace = namespace
            if entry.namespace:
                inner_namespace = f"{namespace}{entry.namespace}:"
            yield from _walk(
                entry, joined_route, joined_template, inner_namespace, (*parts, str(entry.pattern))
            )
        elif isinstance(entry, URLPattern):
            yield Route(
                route=joined_route,
                template=joined_template,
                name=f"{namespace}{entry.name}" if entry.name else None,
                parts=(*parts, str(entry.pattern)),
                callback=entry.callback,
            )


def routes() -> list[Route]:
    return list(_walk(get_resolver(), "", "/", "", ()))


class _RecordingDict(dict):
    """A JSON object that notes the keys read from it."""

    def __init__(self, data: dict, reads: set[str]) -> None:
        super().__init__(data)
        self._reads = reads

    def __getitem__(self, key):
        self._reads.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._reads.add(key)
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        self._reads.add(key)
        return super().__contains__(key)


class ReadRecorder:
    """While `recording()`, notes every name read from a QueryDict (query strings, forms) and
    from the top level of a JSON body parsed by the API's parser."""

    def __init__(self, monkeypatch) -> None:
        from api.parsers import JSONParser

        self.reads: set[str] | None = None
        recorder = self
        for method in ("__getitem__", "get", "getlist", "__contains__"):
            original = getattr(QueryDict, method)

            def reading(self, key, *args, _original=original, **kwargs):
                if recorder.reads is not None and isinstance(key, str):
                    recorder.reads.add(key)
                return _original(self, key, *args, **kwargs)

            monkeypatch.setattr(QueryDict, method, reading)
        parse = JSONParser.parse

        def parse_recording(parser, stream, media_type=None, parser_context=None):
            data = parse(parser, stream, media_type, parser_context)
            if recorder.reads is not None and isinstance(data, dict):
                return _RecordingDict(data, recorder.reads)
            return data

        monkeypatch.setattr(JSONParser, "parse", parse_recording)

    @contextmanager
    def recording(self) -> Iterator[set[str]]:
        self.reads = reads = set()
        try:
            yield reads
        finally:
            self.reads = None
