"""The request body parser of every API view."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONObjectParser(JSONParser):
    """JSON whose top level is an object, as every endpoint here takes: `false`, `[]` or `"x"` are
    a 400 here, once, instead of reaching views and serializers that index a dict."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            message = _("The JSON body must be an object ({...}), not a JSON %(type)s.")
            raise ParseError(message % {"type": _json_type(data)})
        return data


def _json_type(value) -> str:
    """The JSON type's own name (the same in every language, as JSON spells it)."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"
