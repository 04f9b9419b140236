"""The README documents every setting, so the reference cannot drift from ``conf.py``."""

from pathlib import Path

import pytest

from auth_token.conf import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.rst").read_text()


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_readme__mentions_setting(name):
    assert f"``{name}``" in README
