"""OpenAPI description of the legacy endpoints' HTTP Digest (drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DigestScheme(OpenApiAuthenticationExtension):
    target_class = "plates.api.authentication.DigestAuthentication"
    name = "digestAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "digest"}
