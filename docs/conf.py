"""Sphinx configuration of the django-token-sessions manual (``make docs``)."""

import json
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]

# autodoc imports models and services: Django must be configured (the test settings, SQLite).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django  # noqa: E402

django.setup()

project = "django-token-sessions"
author = "django-token-sessions contributors"
copyright = "django-token-sessions contributors"
release = version = "0.1.0.dev0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "auth_token_docs",
]
exclude_patterns = ["_build", "_ext"]
html_theme = "furo"
html_title = "django-token-sessions"
# Offline builds: intersphinx has no inventories to fetch, so none are configured.
intersphinx_mapping = {}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False

# The OpenAPI schema of the token API, generated from the code at each build and published next
# to the pages as openapi.json.
OPENAPI_DIR = DOCS / "_build" / "openapi"


def _write_openapi_schema() -> None:
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator(
        patterns=[path("api/", include("auth_token.contrib.rest_framework.urls"))],
        title="django-token-sessions token API",
        version=release,
    )
    schema = generator.get_schema(request=None, public=True)
    OPENAPI_DIR.mkdir(parents=True, exist_ok=True)
    (OPENAPI_DIR / "openapi.json").write_text(json.dumps(schema, indent=2, default=str) + "\n")


_write_openapi_schema()
html_extra_path = [str(OPENAPI_DIR)]
