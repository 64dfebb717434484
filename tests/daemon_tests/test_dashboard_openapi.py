"""The dashboard's API against its own OpenAPI document, by generated requests (Hypothesis):
for every operation, path and query values valid or not, bodies of any JSON shape, with and
without the token. Every answer must be one the document lists for that operation, and its
body must match the schema listed for that status: never a 500, never an undocumented shape."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from metaoptd.web.openapi import DOCUMENT
from tests.helpers import SCRIPTS
from tests.helpers import DaemonProcess
from tests.helpers import submit_quadratic

OPERATIONS = [
    (path, method, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]
NAMES = st.sampled_from(["exp", "nope", "..", "a/b", "%", "exp "]) | st.text(min_size=1)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[DaemonProcess, str, str]]:
    daemon = DaemonProcess(tmp_path_factory.mktemp("openapi") / "node", "--http", "0")
    submit_quadratic(daemon, "exp", "--x~uniform(0, 1)", max_trials=6, objective="loss")
    daemon.wait_status("done")
    token = (daemon.data_dir / "http.token").read_text().strip()
    try:
        yield daemon, "http://" + daemon.call("ping")["http"], token
    finally:
        daemon.stop()


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, kind, name = schema["$ref"].split("/")
        schema = DOCUMENT["components"][kind][name]
    return schema


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in ``value`` breaks ``schema`` (the JSON Schema keywords the document uses)."""
    schema = resolve(schema)
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(value, k) for k in names):
            return [f"{where}: {value!r:.60} is not {kinds}"]
    wrong: list[str] = []
    if isinstance(value, dict):
        wrong += [f"{where}: no {k!r}" for k in schema.get("required", ()) if k not in value]
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                wrong += conforms(item, sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            wrong += conforms(item, schema["items"], f"{where}[{i}]")
    if "enum" in schema and value not in schema["enum"]:
        wrong.append(f"{where}: {value!r} not in {schema['enum']}")
    return wrong


def _is(value: Any, kind: str) -> bool:
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[kind]


def query_values(parameter: dict[str, Any]) -> st.SearchStrategy[str | None]:
    """Absent, valid by the schema, or anything at all."""
    schema = parameter["schema"]
    valid: st.SearchStrategy[Any]
    if "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    elif schema.get("type") == "integer":
        valid = st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    else:
        valid = st.sampled_from(["completed", "failed", "running"])
    any_text = st.text(max_size=12) | st.integers(-(10**12), 10**12).map(str)
    return st.none() | valid.map(str) | any_text


def bodies() -> st.SearchStrategy[Any]:
    """Any JSON, and the schedule form's shape with a script that is never there (a generated
    command must not find a real program to run)."""
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=8,
    )
    options = st.lists(
        st.sampled_from(["-n", "--max-trials", "--algo", "-h", "--seed", "3", "--env"]),
        max_size=4,
    )
    form = st.builds(
        lambda opts, script, rest, cwd: {
            "args": [*opts, f"absent-{script}.py", *rest],
            "cwd": cwd,
        },
        options,
        st.text(alphabet="abc-_", max_size=5),
        st.lists(st.sampled_from(["--x~uniform(0, 1)", "--x~uniform(1)", "--y~", "-q"])),
        st.sampled_from([str(SCRIPTS), "relative", "/nonexistent"]),
    )
    line = st.builds(
        lambda text: {"line": f"absent.py {text}", "cwd": str(SCRIPTS)},
        st.text(alphabet="ab'\"~( )-", max_size=10),
    )
    resume = st.builds(lambda n: {"max_trials": n}, st.integers(-3, 3) | st.text(max_size=3))
    return json_values | form | line | resume


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, str, Any, bool]:
    path, method, operation = draw(st.sampled_from(OPERATIONS))
    concrete = path.replace("{name}", urllib.parse.quote(draw(NAMES), safe=""))
    query = {}
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "query":
            value = draw(query_values(parameter))
            if value is not None:
                query[parameter["name"]] = value
    if query:
        concrete += "?" + urllib.parse.urlencode(query)
    body = draw(bodies()) if method == "post" else None
    return path, method, concrete, body, draw(st.booleans())


def send(base: str, method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
    data = None if method == "get" else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(base + path, data, headers, method=method.upper())
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests())
def test_every_answer_is_one_the_document_lists(served, request):
    _, base, token = served
    path, method, concrete, body, with_token = request
    status, answer = send(base, method, concrete, body, token if with_token else "")
    responses = DOCUMENT["paths"][path][method]["responses"]
    assert str(status) in responses, (method, concrete, body, status, answer)
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    assert conforms(answer, schema) == [], (method, concrete, body, answer)
    if method == "post" and not with_token:
        assert status == 401  # a write without the token is refused, whatever it asks
