"""The OpenAPI document covers every route, from the schemas the entrypoints validate with."""
from gateway import openapi
from gateway.schemas import SubmitRequest
from services.attempts.schemas import ResultOut
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


def test_every_route_documents_its_success_body():
    """Each route declares what it answers (`response=`), and the document carries it: the
    JSON body's schema, or the media type of a page or a file."""
    undeclared = sorted(name for name, _, e in openapi.routes(GatewayService)
                        if e.response_schema is None)
    assert undeclared == []
    for path, ops in openapi.document(GatewayService)["paths"].items():
        for verb, op in ops.items():
            success = [r for code, r in op["responses"].items() if code.startswith("2")]
            assert len(success) == 1 and success[0].get("content"), (verb, path)
            for media in success[0]["content"].values():
                assert media["schema"], (verb, path)


def test_a_route_answering_a_services_result_documents_that_services_schema():
    """`POST /api/v1/attempts/{id}/submit` answers attempts' graded result: its 200 is the
    schema attempts dumps it with, nullable fields as nullable."""
    doc = openapi.document(GatewayService)
    submit = doc["paths"]["/api/v1/attempts/{attempt_id}/submit"]["post"]["responses"]["200"]
    ref = submit["content"]["application/json"]["schema"]["$ref"]
    result = doc["components"]["schemas"][ref.split("/")[-1]]
    assert set(result["properties"]) == set(ResultOut().fields)
    assert result["properties"]["correct"].get("nullable") is True
    assert "nullable" not in result["properties"]["attempt_id"]
    # responses may grow fields (a client must not refuse one it does not know)
    assert "additionalProperties" not in result
