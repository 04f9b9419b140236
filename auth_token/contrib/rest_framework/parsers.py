"""The API's request body parser."""

from __future__ import annotations

from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSONParser, but deeply nested JSON is a 400 rather than a RecursionError (500).

    A 50 kB body of ``[`` is enough to exceed Python's recursion limit in ``json.loads``.
    """

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
