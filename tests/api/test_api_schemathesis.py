"""Schemathesis against the generated OpenAPI document, in process (WSGI): no 5xx, every response as documented.

Every operation gets valid (positive) and invalid (negative) requests with an admin token, on a
small plant where ids 1 and 2 exist. Deterministic (derandomized, no example database) and
bounded by ``EXAMPLES`` per operation and mode, to stay under about a minute.
"""
import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from factories import NotificationFactory
from support.api import bearer
from support.kiosk_world import build_world

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture()
def plant(app, db):
    world = build_world()
    NotificationFactory(recipient=world.admin)
    return world


def test_the_api_honours_its_own_document(app, plant):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(plant.admin)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 23

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                # Requests share this test's app context: start each with a clean ``g``, as a server would.
                for name in list(vars(g)):
                    delattr(g, name)
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            check()
