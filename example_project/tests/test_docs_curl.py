"""Replay the curl commands of the API and mobile tutorials against the example project.

Each ``$ curl ...`` command of docs/tutorials/api.rst, mobile.rst and cli.rst is sent, in order, through
Django's test client (example project settings, as ``make test`` runs this folder). The documented
status code, the headers shown and the keys of each JSON body must match the real answer; so
must the values that do not change from run to run (error messages, names, flags). A line
``$ NAME=...   # the "key" of the answer above`` binds ``$NAME`` to that key of the previous
answer, as a reader would copy it. A ``$ .venv/bin/python example_project/manage.py ...`` command
runs through ``call_command`` and must succeed.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
PAGES = ["api.rst", "mobile.rst", "cli.rst"]
PROMPT = re.compile(r"^(?P<indent>\s+)\$ (?P<command>.*)$")
ASSIGN = re.compile(r'^(?P<name>\w+)=\S+\s+# the "(?P<key>\w+)" of the answer above$')
MANAGE = ".venv/bin/python example_project/manage.py "
STATUS = re.compile(r"^HTTP/1\.1 (?P<code>\d{3})\b")
HEADER = re.compile(r"^(?P<name>[A-Za-z][A-Za-z-]*): (?P<value>.*)$")
# Values that are the same on every run, compared as well as the keys (unless they hold a number,
# such as the seconds of a throttled answer).
STABLE_KEYS = {"detail", "non_field_errors", "name", "uuid", "is_current", "is_active", "username"}


@dataclass
class Step:
    command: str
    assign: tuple[str, str] | None = None
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None


def parse(text: str) -> list[Step]:
    lines = text.splitlines()
    steps: list[Step] = []
    index = 0
    while index < len(lines):
        match = PROMPT.match(lines[index])
        index += 1
        if not match:
            continue
        command = match["command"]
        while command.endswith("\\"):
            command = command[:-1] + " " + lines[index].strip()
            index += 1
        if assign := ASSIGN.match(command):
            steps.append(Step(command, assign=(assign["name"], assign["key"])))
            continue
        if command.startswith(MANAGE):
            steps.append(Step(command))
            continue
        assert command.startswith("curl "), command
        step = Step(command)
        answer = []
        while index < len(lines) and lines[index].strip() and not PROMPT.match(lines[index]):
            answer.append(lines[index].strip())
            index += 1
        status = STATUS.match(answer.pop(0))
        assert status, f"no status line after {command}"
        step.status = int(status["code"])
        while answer and (header := HEADER.match(answer[0])):
            step.headers.append((header["name"], header["value"]))
            answer.pop(0)
        if answer:
            step.body = json.loads(" ".join(answer))
        steps.append(step)
    return steps


def request_of(command: str, variables: dict[str, str]) -> dict[str, Any]:
    def expand(match: re.Match) -> str:
        assert match[1] in variables, f"${match[1]} is used before it is set"
        return variables[match[1]]

    args = shlex.split(re.sub(r"\$(\w+)", expand, command))
    assert args.pop(0) == "curl"
    method, url, data, headers = None, None, None, {"User-Agent": "curl/8.5.0"}
    while args:
        arg = args.pop(0)
        if arg in ("-i", "-s"):
            continue
        if arg == "-X":
            method = args.pop(0)
        elif arg == "-H":
            name, value = args.pop(0).split(": ", 1)
            headers[name] = value
        elif arg == "-d":
            data = args.pop(0)
        else:
            assert url is None and arg.startswith("http://"), arg
            url = arg
    content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")
    return {
        "method": method or ("POST" if data is not None else "GET"),
        "path": urlsplit(url).path,
        "data": data or "",
        "content_type": content_type,
        "headers": headers,
    }


def assert_same_shape(documented: Any, actual: Any, where: str) -> None:
    if isinstance(documented, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(documented), f"{where}: keys {sorted(actual)} != {sorted(documented)}"
        for key, value in documented.items():
            if key in STABLE_KEYS and not re.search(r"\d", json.dumps(value)):
                assert actual[key] == value, f"{where}.{key}: {actual[key]!r} != {value!r}"
            assert_same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list) and len(actual) == len(documented), where
        for number, (doc_item, item) in enumerate(zip(documented, actual, strict=True)):
            assert_same_shape(doc_item, item, f"{where}[{number}]")


def send(client: Client, request: dict[str, Any]):
    return client.generic(
        request["method"],
        request["path"],
        data=request["data"],
        content_type=request["content_type"],
        headers=request["headers"],
    )


@pytest.fixture
def example_site(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins
    caches["default"].clear()  # the login throttle's counters
    call_command("demo_users", stdout=io.StringIO())
    yield
    caches["default"].clear()


def test_tutorials__have_curl_examples():
    steps = [step for page in PAGES for step in parse((DOCS / page).read_text())]
    assert sum(step.status is not None for step in steps) >= 25
    assert {step.status for step in steps} >= {200, 201, 204, 400, 401, 404, 409, 415, 429}


@pytest.mark.parametrize("page", PAGES)
def test_tutorial_curl_examples__answer_as_documented(example_site, page):
    client = Client()
    variables: dict[str, str] = {}
    last_body: Any = None
    for step in parse((DOCS / page).read_text()):
        if step.assign:
            name, key = step.assign
            variables[name] = str(last_body[key])
            continue
        if step.command.startswith(MANAGE):
            call_command(*shlex.split(step.command.removeprefix(MANAGE)), stdout=io.StringIO())
            continue
        request = request_of(step.command, variables)
        response = send(client, request)
        if step.status == 429:
            # "The 31st login within a minute": log in until the throttle answers.
            for _ in range(40):
                if response.status_code != 201:
                    break
                response = send(client, request)
        where = f"{page}: {step.command}"
        assert response.status_code == step.status, f"{where}\n{response.content!r}"
        for name, value in step.headers:
            assert response.has_header(name), f"{where}: no {name} header"
            if not re.search(r"\d", value):
                assert response[name] == value, where
        last_body = response.json() if response.content else None
        if step.body is None:
            assert not response.content, f"{where}: unexpected body {response.content!r}"
        else:
            assert_same_shape(step.body, last_body, where)
