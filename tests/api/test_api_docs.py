"""The OpenAPI document generated from the code, and /api/docs served from our own files."""
import re

from app.api.spec import OPERATIONS

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_document_lists_every_operation_with_a_chinese_summary(client):
    response = client.get("/api/v1/openapi.json")
    document = response.get_json()
    assert (response.status_code, document["openapi"], document["servers"]) == (200, "3.1.0", [{"url": "/api/v1"}])
    entries = [(path, method, entry)
               for path, methods in document["paths"].items() for method, entry in methods.items()]
    assert sorted((path, method) for path, method, _ in entries) == sorted((op.path, op.method) for op in OPERATIONS)
    assert len(entries) == 23
    for path, method, entry in entries:
        assert CJK.search(entry["summary"]), (method, path)
        assert "401" in entry["responses"]
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}
    claim = document["paths"]["/tasks/{task_id}/claim"]["post"]
    assert claim["requestBody"]["content"]["application/json"]["schema"]["required"] == ["version"]
    assert set(claim["responses"]) == {"200", "400", "401", "403", "404", "409", "422"}


def test_the_docs_page_uses_only_local_files_and_no_inline_script(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attributes and not body.strip() for attributes, body in scripts)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 3
    for asset in assets + ["/static/vendor/swagger-ui-5.35.0/LICENSE"]:
        assert client.get(asset).status_code == 200, asset
    assert "http://" not in html and "https://" not in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
