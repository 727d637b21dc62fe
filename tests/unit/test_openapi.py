"""The OpenAPI document covers every route, from the schemas the entrypoints validate with."""
from gateway import openapi
from gateway.schemas import SubmitRequest
from gateway.service import GatewayService


def test_every_route_is_documented_with_its_schemas():
    doc = openapi.document(GatewayService)
    documented = {(verb.upper(), path) for path, ops in doc["paths"].items() for verb in ops}
    routes = {(e.method, openapi._path(e.url)[0])
              for _, _, e in openapi.routes(GatewayService)}
    assert documented == routes
    submit = doc["paths"]["/api/v1/attempts/{attempt_id}/submit"]["post"]
    assert submit["security"] == [{"bearer": []}]
    assert submit["parameters"][0]["name"] == "attempt_id"
    schema = submit["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].split("/")[-1]
    assert set(doc["components"]["schemas"][name]["properties"]) == set(SubmitRequest().fields)
    assert "401" in submit["responses"] and "503" in submit["responses"]
    code = doc["paths"]["/api/v1/auth/code"]["post"]
    assert "202" in code["responses"] and "security" not in code
    assert all(op.get("summary") for ops in doc["paths"].values() for op in ops.values())


def test_a_members_play_documents_its_refusal():
    """Start, submit and restart answer 403 once the member is deactivated or disqualified."""
    paths = openapi.document(GatewayService)["paths"]
    for path, verb in (("/api/v1/attempts", "post"), ("/api/v1/runs", "post"),
                       ("/api/v1/attempts/{attempt_id}/submit", "post")):
        assert "403" in paths[path][verb]["responses"], path
    assert "403" not in paths["/api/v1/me"]["get"]["responses"]
