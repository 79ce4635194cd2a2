"""The one runner every app's permission matrix goes through, and the list of every URL routed.

A matrix is a list of doors: (method, path template, body, expected status for anonymous, viewer,
user, admin). API doors are called with a real JWT; admin-site doors (`/admin/...`) with a signed-in
session of that role, their bodies posted as a form (a callable value is called per request, for
uploaded files). `test_url_coverage.py` fails when a routed URL pattern has no door in any matrix.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from conftest import client_for

ROLES = ("anonymous", "viewer", "user", "admin")
LOGIN = 302  # the admin site sends a signed-out visitor to its login page


def parametrize(matrix):
    """`@matrix.parametrize(MATRIX)` on a test taking (role, method, path, body, expected)."""

    def decorate(test):
        ids = [f"{m} {p} {b if not isinstance(b, dict) else sorted(b)}" for m, p, b, _e in matrix]
        test = pytest.mark.parametrize(("method", "path", "body", "expected"), matrix, ids=ids)(test)
        return pytest.mark.parametrize("role", ROLES)(test)

    return decorate


def model_admin(url: str, obj: str, *, changelist=200, add=200, history=200, delete=200, change=200):
    """The six pages Django's admin routes for a model (`url` like "plates/plate", `obj` the name of
    a row's id in the world): administrators get the statuses given; users and viewers 403 (the
    model is invisible to them); anonymous visitors the login redirect."""

    def door(suffix, admin):
        return ("get", f"/admin/{url}/{suffix}", None, (LOGIN, 403, 403, admin))

    return [
        door("", changelist),
        door("add/", add),
        door(f"{{{obj}}}/history/", history),
        door(f"{{{obj}}}/delete/", delete),
        door(f"{{{obj}}}/change/", change),
        ("get", f"/admin/{url}/{{{obj}}}/", None, (LOGIN, LOGIN, LOGIN, LOGIN)),  # redirects to change/
    ]


def open_model_admin(url: str, obj: str, *, add=(200, 200, 200), delete=(200, 200, 200)):
    """The six pages of a ModelAdmin with `open_to_every_role`: list, history and the row's page for
    every signed-in role (the row being one the roles see); `add` and `delete` as given for (viewer,
    user, admin)."""
    return [
        ("get", f"/admin/{url}/", None, (LOGIN, 200, 200, 200)),
        ("get", f"/admin/{url}/add/", None, (LOGIN, *add)),
        ("get", f"/admin/{url}/{{{obj}}}/history/", None, (LOGIN, 200, 200, 200)),
        ("get", f"/admin/{url}/{{{obj}}}/delete/", None, (LOGIN, *delete)),
        ("get", f"/admin/{url}/{{{obj}}}/change/", None, (LOGIN, 200, 200, 200)),
        ("get", f"/admin/{url}/{{{obj}}}/", None, (LOGIN, LOGIN, LOGIN, LOGIN)),  # redirects to change/
    ]


def call(role: str, user, method: str, url: str, body):
    """One request through the door as `role` would send it; the response."""
    if url.startswith("/admin/"):
        client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html,application/xhtml+xml")
        if user is not None:
            client.force_login(user)
        if body is None:
            return getattr(client, method)(url)
        return getattr(client, method)(url, {k: v() if callable(v) else v for k, v in body.items()})
    client = client_for(user)
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def check(role: str, users: dict, method: str, path: str, body, expected, names: dict) -> None:
    """Call the door as `role` and assert the status the matrix expects."""
    user = None if role == "anonymous" else users[role]
    url = path.format(**names)
    if isinstance(body, dict):
        body = {
            k: ([x.format(**names) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v)
            for k, v in body.items()
        }
    response = call(role, user, method, url, body)
    want = expected[ROLES.index(role)]
    assert response.status_code == want, (role, url, response.status_code, getattr(response, "content", b"")[:300])
    if want == 403 and url.startswith("/admin/") and role != "anonymous":
        # A person in a browser gets a page, never raw JSON.
        assert not response.get("Content-Type", "").startswith("application/json")


# --- Every URL the project routes -----------------------------------------------------------------


def routed_patterns() -> set[str]:
    """Every URL pattern of the project (admin site with its custom views included), as the
    resolver names them in `ResolverMatch.route`."""

    def walk(patterns, prefix=""):
        for p in patterns:
            route = str(p.pattern)
            if prefix:
                route = route.removeprefix("^")
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + route)
            else:
                yield prefix + route

    return set(walk(get_resolver().url_patterns))


def route_of(path_template: str) -> str:
    """The URL pattern a door's path resolves to (placeholders filled with a plausible id)."""
    path = re.sub(r"\{[^}]+\}", "1", path_template).split("?", 1)[0]
    return resolve(path).route


def uncovered(*matrices) -> list[str]:
    doors = defaultdict(list)
    for matrix in matrices:
        for method, path, _body, _expected in matrix:
            doors[route_of(path)].append(f"{method} {path}")
    return sorted(routed_patterns() - set(doors))
