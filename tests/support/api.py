"""What the API tests share: a fresh token's headers and the error envelope."""
import uuid

from factories import ApiTokenFactory


def bearer(user) -> dict:
    """Headers of a fresh token owned by ``user`` (shared by every test_api_* module)."""
    secret = f"wot_{uuid.uuid4().hex}"
    ApiTokenFactory(owner=user, secret=secret)
    return {"Authorization": f"Bearer {secret}"}


def error_of(response) -> tuple:
    body = response.get_json()
    assert response.mimetype == "application/json"
    error = dict(body["error"])
    # ``details`` lists a refusal's problems one by one, and is left out when there are none.
    details = error.pop("details", ["—"])
    assert set(error) == {"code", "message", "reason", "fields", "request_id"}
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert details and all(isinstance(detail, str) and detail for detail in details)
    return response.status_code, body["error"]["code"], body["error"]["message"]
