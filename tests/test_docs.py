"""The manual in docs/ cannot drift from the code.

Every setting, signal, management command, API path and system check id appears in the reference;
the Python blocks marked ``:class: runnable`` run; internal ``:doc:`` links and toctree entries
resolve. (``make docs`` builds with warnings as errors; the curl examples are replayed by
example_project/tests/test_docs_curl.py.)
"""

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest
from django.urls import URLPattern

from auth_token.conf import DEFAULTS
from auth_token.contrib.rest_framework import urls as api_urls

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)


def read(path: Path) -> str:
    return path.read_text()


def load_docs_extension():
    spec = importlib.util.spec_from_file_location("auth_token_docs", DOCS / "_ext" / "auth_token_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Reference completeness ---------------------------------------------------------------------


def test_settings_reference__is_generated_from_defaults():
    assert ".. auth-token-settings::" in read(REFERENCE / "settings.rst")


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_settings_reference__every_setting_has_a_type_and_meaning(name):
    kind, meaning = load_docs_extension().SETTINGS[name]
    assert kind.strip() and meaning.strip()


def test_settings_reference__no_stale_setting():
    assert set(load_docs_extension().SETTINGS) == set(DEFAULTS)


SIGNALS = re.findall(r"^(\w+) = Signal\(\)", read(ROOT / "auth_token" / "signals.py"), re.M)


def test_signals__found():
    assert len(SIGNALS) >= 6


@pytest.mark.parametrize("name", SIGNALS)
def test_signals_reference__mentions_signal(name):
    assert f"``{name}``" in read(REFERENCE / "signals.rst")


COMMANDS = sorted(
    p.stem for p in (ROOT / "auth_token" / "management" / "commands").glob("*.py") if p.stem != "__init__"
)


def options(command) -> set[str]:
    parser = command.create_parser("manage.py", "command")
    return {
        option for action in parser._actions for option in action.option_strings if option.startswith("--")
    }


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_reference__mentions_command_and_options(name):
    from django.core.management import BaseCommand, load_command_class

    text = read(REFERENCE / "commands.rst")
    assert f"``{name}``" in text
    own = options(load_command_class("auth_token", name)) - options(BaseCommand())
    assert own
    for option in sorted(own):
        assert f"``{option}" in text, option


def api_paths():
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        yield re.sub(r"<[^>]+>", "<id>", str(pattern.pattern))


@pytest.mark.parametrize("path", list(api_paths()))
def test_rest_api_reference__mentions_path(path):
    assert f"``{path}``" in read(REFERENCE / "rest-api.rst")


CHECKS_SOURCE = "".join(read(path) for path in sorted((ROOT / "auth_token" / "checks").glob("*.py")))
CHECK_IDS = sorted(set(re.findall(r"auth_token\.[EW]\d{3}", CHECKS_SOURCE)))
CHECK_IDS += sorted(
    f"auth_token.{short}"
    for short in re.findall(r"\b([EW]\d{3})\b", CHECKS_SOURCE)
    if f"auth_token.{short}" not in CHECK_IDS
)


def test_check_ids__found():
    assert {"auth_token.E001", "auth_token.W001"} <= set(CHECK_IDS)


@pytest.mark.parametrize("check_id", sorted(set(CHECK_IDS)))
def test_checks_reference__mentions_check_id(check_id):
    assert f"``{check_id}``" in read(REFERENCE / "checks.rst")


# Runnable examples --------------------------------------------------------------------------

RUNNABLE = re.compile(
    r"^(?P<indent>[ ]*)\.\. code-block:: python\n(?:(?P=indent)[ ]+:[\w-]+:.*\n)*?"
    r"(?P=indent)[ ]+:class: runnable\n(?:(?P=indent)[ ]+:[\w-]+:.*\n)*\n"
    r"(?P<body>(?:(?P=indent)[ ]+.*\n|[ \t]*\n)+)",
    re.M,
)


def runnable_blocks():
    for page in PAGES:
        for number, match in enumerate(RUNNABLE.finditer(read(page)), 1):
            yield pytest.param(textwrap.dedent(match["body"]), id=f"{page.relative_to(DOCS)}#{number}")


BLOCKS = list(runnable_blocks())


def test_runnable_blocks__found():
    assert len(BLOCKS) >= 4


@pytest.mark.django_db
@pytest.mark.parametrize("code", BLOCKS)
def test_runnable_block__runs(code):
    exec(compile(code, "<docs>", "exec"), {"__name__": "docs_example"})


# Internal links -----------------------------------------------------------------------------

DOC_ROLE = re.compile(r":doc:`(?:[^`<]*<)?(?P<target>[^`>]+)>?`")


def resolve(page: Path, target: str) -> Path:
    base = DOCS if target.startswith("/") else page.parent
    return (base / (target.lstrip("/") + ".rst")).resolve()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_internal_links__resolve(page):
    text = read(page)
    for match in DOC_ROLE.finditer(text):
        assert resolve(page, match["target"]).is_file(), f"{page.name}: :doc:`{match['target']}`"
    for block in re.finditer(r"\.\. toctree::\n((?:[ ]+.*\n|\n)+)", text):
        for line in block.group(1).splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                assert resolve(page, entry).is_file(), f"{page.name}: toctree {entry}"


def test_every_page_is_in_a_toctree():
    listed = {DOCS / "index.rst"}
    for page in PAGES:
        for block in re.finditer(r"\.\. toctree::\n((?:[ ]+.*\n|\n)+)", read(page)):
            listed |= {
                resolve(page, line.strip())
                for line in block.group(1).splitlines()
                if line.strip() and not line.strip().startswith(":")
            }
    assert {p.resolve() for p in PAGES} <= {p.resolve() for p in listed}
