"""Domain errors: a Chinese message plus a kind the error handler maps to an HTTP status."""
from __future__ import annotations

HTTP_STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409}


class DomainError(Exception):
    kind = "invalid"

    def __init__(self, message, *, details: list | None = None, fields: dict | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.details = [str(d) for d in (details or [])]
        self.fields = {k: str(v) for k, v in (fields or {}).items()}
        self.code = code or self.kind

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.kind]


class Invalid(DomainError):
    kind = "invalid"


class Forbidden(DomainError):
    kind = "forbidden"


class NotFound(DomainError):
    kind = "not_found"


class Conflict(DomainError):
    kind = "conflict"
