"""The OpenAPI 3 document, generated from the gateway's own routes: each route's method, path,
docstring, body and query schemas, success status and body, and whether it needs a token. The
request schemas are the ones the entrypoint validates with, the response schemas the ones the
services dump their results with (or the gateway's own for the bodies it builds), so the
document cannot drift from the code."""
from __future__ import annotations

import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema, fields
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from gateway.entrypoints import MAX_PATH_INT, MONTH_PATTERN, HttpEntrypoint

ERRORS = {
    "400": "bad input: `error.fields` names each field at fault",
    "401": "no token, or an expired or invalid one",
    "403": "not allowed for this member or role",
    "404": "not found",
    "409": "not possible in the current state: `error.message` says why",
    "413": "the body is too large",
    "429": "too many requests: wait `Retry-After` seconds",
    "503": "a service is unavailable (`reason` `database_unavailable`, `broker_unavailable`, "
           "or none: it did not answer in time), or this server is answering as many "
           "requests as it can (`reason` `overloaded`, answered at once, nothing done): "
           "wait `Retry-After` seconds and try again",
}
RETRY_AFTER = {"Retry-After": {  # every 429 and every 503 says when to come back
    "description": "seconds to wait before trying again", "schema": {"type": "integer"}}}


class ErrorDetail(Schema):
    code = fields.Str(metadata={"example": "bad_input"})
    message = fields.Str()
    fields_ = fields.Dict(data_key="fields")
    reason = fields.Str(metadata={
        "example": "level_not_open",
        "description": "a stable word for the case where a page needs one (optional)"})


class Error(Schema):
    error = fields.Nested(ErrorDetail)


def routes(service_cls):
    # dir(), not vars(): the routes of the mixins (gateway/outputs.py, gateway/review.py) too
    for name in sorted(dir(service_cls)):
        method = getattr(service_cls, name)
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, HttpEntrypoint):
                yield name, method, entrypoint


def _path(url: str) -> tuple[str, list[tuple[str, dict]]]:
    """The OpenAPI path and its parameters; werkzeug's `int` converter takes 0 and up."""
    params = [(name, {"type": "integer", "minimum": 0, "maximum": MAX_PATH_INT}
               if converter == "int:" else
               {"type": "string", "pattern": f"^{MONTH_PATTERN}$"} if converter == "month:" else
               {"type": "string"})
              for converter, name in re.findall(r"<(\w+:)?(\w+)>", url)]
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url), params


def success(declared) -> dict:
    """A route's success: its JSON body's schema (`response=`), or a body that is not JSON
    (a media type: a page, a file), or a choice of media types, each with its schema or None
    for bytes."""
    if isinstance(declared, str):
        declared = {declared: None}
    elif not isinstance(declared, dict):
        declared = {"application/json": declared}
    return {"description": "success", "content": {
        media: {"schema": {"type": "string", "format": "binary"} if schema is None else schema}
        for media, schema in declared.items()}}


def component_names():
    """Each schema's component is named after its class; a second class of the same name (a
    service's schema extending the kernel's, under the same name) is prefixed with its
    module's owner: `KernelImportReportOut` beside roster's `ImportReportOut`."""
    taken = {}

    def name_of(schema):
        cls = resolve_schema_cls(schema)
        cls = cls[0] if isinstance(cls, list) else cls
        if taken.setdefault(cls.__name__, cls) is cls:
            return cls.__name__
        owner = cls.__module__.split(".")[-2 if cls.__module__.startswith("services.") else 0]
        return owner.title().replace("_", "") + cls.__name__

    return name_of


# a member's play, refused once roster has deactivated or disqualified them (R20)
PLAY = {"start_attempt", "submit_attempt", "restart_run"}


@functools.lru_cache(maxsize=4)
def document(service_cls) -> dict:
    spec = APISpec(
        title="每月一关 · One level a month", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=component_names())],
        info={"description": "Members' API of the monthly level challenge. Errors are "
                             "`{\"error\": {code, message, fields}}`; times are ISO 8601 "
                             "with offset."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("agencyKey", {  # gateway/agencies.py, docs/agencies.md
        "type": "apiKey", "in": "header", "name": "X-Agency-Key"})
    spec.components.schema("Error", schema=Error)
    paths: dict[str, dict] = {}
    for name, method, entrypoint in routes(service_cls):
        path, path_params = _path(entrypoint.url)
        doc = (method.__doc__ or name).strip()
        operation = {
            "operationId": name,
            "summary": doc.splitlines()[0],
            "description": doc,
            "parameters": [{"in": "path", "name": p, "required": True, "schema": schema}
                           for p, schema in path_params],
            "responses": {str(entrypoint.status): success(entrypoint.response_schema)},
        }
        if entrypoint.query_schema is not None:
            operation["parameters"].append({"in": "query", "schema": entrypoint.query_schema})
            operation["responses"]["400"] = ERRORS["400"]
        if entrypoint.body_schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": entrypoint.body_schema}}}
            operation["responses"]["400"] = ERRORS["400"]
            operation["responses"]["413"] = ERRORS["413"]
        if entrypoint.upload_schema is not None:
            form = {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}}}
            for key, field in entrypoint.upload_schema().fields.items():
                form["properties"][key] = {
                    "type": "boolean" if isinstance(field, fields.Bool) else "string",
                    "description": (field.metadata or {}).get("description", "")}
            operation["requestBody"] = {"required": True,
                                        "content": {"multipart/form-data": {"schema": form}}}
            operation["responses"]["400"] = ERRORS["400"]
            operation["responses"]["413"] = ERRORS["413"]
        if entrypoint.auth:
            operation["security"] = [{"bearer": []}]
            operation["responses"]["401"] = ERRORS["401"]
            operation["responses"]["429"] = ERRORS["429"]
            if path.startswith("/api/v1/admin/") or name in PLAY:
                operation["responses"]["403"] = ERRORS["403"]
        if entrypoint.agency:
            operation["security"] = [{"agencyKey": []}]
            operation["responses"]["401"] = ERRORS["401"]
        if path_params or entrypoint.auth:  # the thing named, or the caller's own record
            operation["responses"]["404"] = ERRORS["404"]
        if entrypoint.auth:  # a month not closed yet, a level not open, an attempt submitted
            operation["responses"]["409"] = ERRORS["409"]
        if path.startswith("/api/v1/auth/"):
            operation["responses"]["429"] = ERRORS["429"]
        if path == "/api/v1/auth/token":  # `reason` invalid_code: wrong, spent or expired
            operation["responses"]["401"] = ("the phone and code do not match: the code is "
                                             "wrong, spent or expired (`reason` "
                                             "`invalid_code`)")
        if path.startswith("/api/"):
            operation["responses"]["503"] = ERRORS["503"]
        for code, text in list(operation["responses"].items()):
            if isinstance(text, str):
                operation["responses"][code] = {
                    "description": text,
                    "content": {"application/json": {"schema": "Error"}}}
                if code in ("429", "503"):
                    operation["responses"][code]["headers"] = RETRY_AFTER
        for verb in entrypoint.method.split(","):
            paths.setdefault(path, {})[verb.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return open_answers(spec.to_dict())


def open_answers(doc: dict) -> dict:
    """An answer may gain fields (an addition is not a change of contract), so the schemas of
    success bodies do not forbid the properties they do not name: apispec says
    `additionalProperties: false` of every schema that refuses unknown fields on load, which
    is marshmallow's default. Schemas a request uses keep it: there, unknown is refused."""
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    asked = _components(doc, [[op.get("requestBody"), op.get("parameters")]
                              for op in operations])
    answered = _components(doc, [r for op in operations
                                 for code, r in op["responses"].items() if code < "300"])
    for name in answered - asked:
        if doc["components"]["schemas"][name].get("additionalProperties") is False:
            del doc["components"]["schemas"][name]["additionalProperties"]
    return doc


def _components(doc: dict, roots) -> set[str]:
    """The component schemas `roots` refer to, directly or through one another."""
    found, pending = set(), [roots]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref[21:] not in found:
                found.add(ref[21:])
                pending.append(doc["components"]["schemas"][ref[21:]])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found
