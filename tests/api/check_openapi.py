#!/usr/bin/env python3
"""Checks a pointsmall binary against docs/openapi.yaml.

    python3 tests/api/check_openapi.py --binary build/pointsmall
    python3 tests/api/check_openapi.py --spec-only          # the document alone, no server

1. The document: every operation has x-roles, security and responses; every schema converts to a
   JSON Schema that jsonschema accepts; every error response is application/problem+json; every
   request body example validates against its schema. The problem types match the server's table
   (src/api/problem.cc): each documented, each error response's types with the table's status.
2. The route table: `pointsmall routes` (JSON lines) has exactly the documented (method, path)
   pairs, each with the documented x-roles.
3. The server: in a fresh data directory with an admin key, walks every documented operation with
   the documented examples, and checks each response's status is documented for the operation
   and its body validates against the documented schema; sends an unknown field, malformed JSON
   and a wrong media type to every route that takes a body; checks idempotency (428, replay,
   conflict), 401 without credentials, 403 for roles outside x-roles, and the console's cookie and
   CSRF token. The earning engine's routes are walked with their main refusals: a rule naming an
   unknown condition field, a stale version, a second check-in the same day, an unknown tier, an
   event older than the accepted lateness, dry runs.

Prints every difference, then `openapi: N operations checked, M responses validated`; exits 1 on
any difference, 2 when it cannot run. Needs python3 with PyYAML and jsonschema (Debian:
python3-yaml python3-jsonschema).
"""
from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
KNOWN_ROLES = {"public", "member", "merchant", "operator", "admin", "analyst"}
API_KEY_ROLES = ("merchant", "operator", "admin", "analyst")
DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
PROBLEM_TABLE = Path(__file__).resolve().parents[2] / "src" / "api" / "problem.cc"
UNKNOWN_FIELD = "unexpected_field_from_checker"


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


# ---- The document ---------------------------------------------------------------------------------


class Spec:
    """The OpenAPI document, its operations, and their schemas as JSON Schema (draft 7)."""

    def __init__(self, path: Path):
        with open(path, encoding="utf-8") as file:
            self.doc = yaml.safe_load(file)
        self.operations: dict[tuple[str, str], dict] = {}
        for path_name, item in (self.doc.get("paths") or {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    operation = dict(item[method])
                    operation["parameters"] = list(shared) + list(operation.get("parameters", []))
                    self.operations[(method.upper(), path_name)] = operation

    def resolve(self, node: Any) -> Any:
        """Follows $ref chains of a parameter, response, header or schema."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"cannot resolve {ref}")
            seen.add(ref)
            target = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def json_schema(self, schema: Any, stack: tuple = ()) -> Any:
        """An OpenAPI 3.0 schema as JSON Schema: $ref inlined, nullable -> type [X, "null"]."""
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref in stack:
                raise ValueError(f"recursive schema {ref}")
            return self.json_schema(self.resolve(schema), stack + (ref,))
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("nullable", "example", "examples", "discriminator", "xml", "externalDocs",
                       "readOnly", "writeOnly", "deprecated") or key.startswith("x-"):
                continue
            if key == "properties":
                out[key] = {name: self.json_schema(sub, stack) for name, sub in value.items()}
            elif key in ("items", "not", "additionalProperties") and isinstance(value, dict):
                out[key] = self.json_schema(value, stack)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.json_schema(sub, stack) for sub in value]
            else:
                out[key] = copy.deepcopy(value)
        if schema.get("nullable") is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if out.get(exclusive) is True:
                out[exclusive] = out.pop(bound)
            elif out.get(exclusive) is False:
                del out[exclusive]
        return out

    def validator(self, schema: Any) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator(self.json_schema(schema))

    def response(self, operation: dict, status: int) -> dict | None:
        responses = operation.get("responses", {})
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                return self.resolve(responses[key])
        return None

    def request_body(self, operation: dict) -> dict | None:
        body = operation.get("requestBody")
        return self.resolve(body) if body else None

    def example(self, operation: dict) -> Any:
        body = self.request_body(operation)
        if not body:
            return None
        media = body.get("content", {}).get("application/json", {})
        return copy.deepcopy(media.get("example"))

    def required_idempotency_key(self, operation: dict) -> bool | None:
        """True: required; False: optional; None: not taken."""
        for parameter in operation["parameters"]:
            parameter = self.resolve(parameter)
            if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                return bool(parameter.get("required"))
        return None


def schema_errors(validator: jsonschema.Draft7Validator, instance: Any) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
    return [f"at /{'/'.join(map(str, error.absolute_path))}: {short(error.message, 240)}"
            for error in errors[:5]]


def check_document(spec: Spec) -> list[str]:
    """Structural problems of the document itself."""
    problems: list[str] = []
    if not str(spec.doc.get("openapi", "")).startswith("3.0"):
        problems.append("openapi: expected 3.0.x")
    if not spec.operations:
        problems.append("no operations")
    schemes = (spec.doc.get("components") or {}).get("securitySchemes") or {}
    operation_ids = set()
    for (method, path), operation in sorted(spec.operations.items()):
        where = f"{method} {path}"
        operation_id = operation.get("operationId")
        if not operation_id or operation_id in operation_ids:
            problems.append(f"{where}: missing or repeated operationId")
        operation_ids.add(operation_id)
        roles = operation.get("x-roles")
        if not isinstance(roles, list) or not roles or not set(roles) <= KNOWN_ROLES:
            problems.append(f"{where}: x-roles must be a non-empty list of {sorted(KNOWN_ROLES)}")
            roles = []
        security = operation.get("security")
        if security is None:
            problems.append(f"{where}: no security (use [] for public routes)")
        elif ("public" in roles) != (security == []):
            problems.append(f"{where}: public routes, and only they, have security []")
        else:
            for requirement in security:
                for name in requirement:
                    if name not in schemes:
                        problems.append(f"{where}: unknown security scheme {name}")
        declared = set()
        for parameter in operation["parameters"]:
            try:
                parameter = spec.resolve(parameter)
                spec.validator(parameter.get("schema", {})).check_schema(
                    spec.json_schema(parameter.get("schema", {})))
            except (ValueError, KeyError, jsonschema.SchemaError) as error:
                problems.append(f"{where}: parameter: {error}")
                continue
            if parameter.get("in") == "path":
                declared.add(parameter.get("name"))
                if not parameter.get("required"):
                    problems.append(f"{where}: path parameter {parameter.get('name')} not required")
        in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        if declared != in_path:
            problems.append(f"{where}: path parameters {sorted(in_path)} declared {sorted(declared)}")
        responses = operation.get("responses") or {}
        if not responses:
            problems.append(f"{where}: no responses")
        if not any(str(status).startswith("2") for status in responses):
            problems.append(f"{where}: no success response")
        if "public" not in roles:
            for status in ("401", "403"):
                if status not in responses:
                    problems.append(f"{where}: authenticated route without {status}")
        if "503" not in responses:
            problems.append(f"{where}: no 503")
        for status, response in responses.items():
            try:
                response = spec.resolve(response)
            except (ValueError, KeyError) as error:
                problems.append(f"{where} {status}: {error}")
                continue
            content = response.get("content") or {}
            if str(status)[0] in "45" and list(content) != ["application/problem+json"]:
                problems.append(f"{where} {status}: errors must be application/problem+json only")
            for media, media_object in content.items():
                try:
                    jsonschema.Draft7Validator.check_schema(
                        spec.json_schema(media_object.get("schema", {})))
                except (ValueError, KeyError, jsonschema.SchemaError) as error:
                    problems.append(f"{where} {status} {media}: schema: {short(str(error))}")
        body = spec.request_body(operation)
        if body is not None:
            media = (body.get("content") or {}).get("application/json")
            if media is None or "schema" not in media:
                problems.append(f"{where}: request body without an application/json schema")
                continue
            try:
                validator = spec.validator(media["schema"])
                jsonschema.Draft7Validator.check_schema(validator.schema)
            except (ValueError, KeyError, jsonschema.SchemaError) as error:
                problems.append(f"{where}: request schema: {short(str(error))}")
                continue
            if "example" not in media:
                problems.append(f"{where}: request body without an example")
            else:
                for error in schema_errors(validator, media["example"]):
                    problems.append(f"{where}: example invalid {error}")
            if spec.resolve(media["schema"]).get("additionalProperties") is not False:
                problems.append(f"{where}: request schema must set additionalProperties: false")
            for status in ("400", "415", "422"):
                if status not in responses:
                    problems.append(f"{where}: body route without {status}")
        if spec.required_idempotency_key(operation) and "428" not in responses:
            problems.append(f"{where}: Idempotency-Key required but no 428")
    return problems


def check_problem_table(spec: Spec, source: Path = PROBLEM_TABLE) -> list[str]:
    """The document's problem types against the server's one table of them (src/api/problem.cc):
    every type of the API's own errors is in Problem.type, every type there is in the table, and
    every error response's types have the table's status for them. Nothing to check without the
    source (a document checked on its own)."""
    if not source.exists():
        return []
    text = source.read_text(encoding="utf-8")
    own = {name: int(status) for status, name in
           re.findall(r'\{ApiError::\w+,\s*(\d+),\s*"(\w+)"', text)}
    table = dict(own)
    table.update({name: int(status) for name, status in
                  re.findall(r'\{Rejection::(\w+),\s*(\d+),', text)})
    if not own:
        return [f"problems: no rows found in {source}"]
    problem_ref = "#/components/schemas/Problem"
    documented = set(spec.resolve({"$ref": problem_ref})["properties"]["type"]["enum"])
    problems = [f"problems: {name} ({source.name}) is not in Problem.type"
                for name in sorted(set(own) - documented)]
    problems += [f"problems: Problem.type lists {name}, which {source.name} does not have"
                 for name in sorted(documented - set(table))]

    def pinned(schema: Any) -> set[str]:
        """The types a problem schema allows, from its `type` enums (the base Problem aside)."""
        if not isinstance(schema, dict) or schema.get("$ref") == problem_ref:
            return set()
        schema = spec.resolve(schema)
        found = set((schema.get("properties") or {}).get("type", {}).get("enum") or [])
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key) or []:
                found |= pinned(part)
        return found

    for (method, path), operation in sorted(spec.operations.items()):
        for status, response in (operation.get("responses") or {}).items():
            if not str(status)[0] in "45":
                continue
            media = (spec.resolve(response).get("content") or {}).get("application/problem+json")
            for name in sorted(pinned((media or {}).get("schema"))):
                if name not in table:
                    problems.append(f"problems: {method} {path} {status}: {name} is not in "
                                    f"{source.name}")
                elif str(table[name]) != str(status):
                    problems.append(f"problems: {method} {path} {status}: {name} has status "
                                    f"{table[name]} in {source.name}")
    return problems


# ---- The route table ------------------------------------------------------------------------------


def check_routes(spec: Spec, binary: str) -> list[str]:
    result = subprocess.run([binary, "routes"], capture_output=True, text=True, timeout=60,
                            check=False)
    if result.returncode != 0:
        return [f"routes: `{binary} routes` exited {result.returncode}: {short(result.stderr)}"]
    served: dict[tuple[str, str], list[str]] = {}
    problems = []
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        try:
            route = json.loads(line)
            key = (route["method"].upper(), route["path"])
            roles = list(route["roles"])
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"routes: cannot read line {short(line)}")
            continue
        if key in served:
            problems.append(f"routes: {key[0]} {key[1]} listed twice")
        served[key] = roles
    for key in sorted(set(spec.operations) - set(served)):
        problems.append(f"routes: {key[0]} {key[1]} documented, not served")
    for key in sorted(set(served) - set(spec.operations)):
        problems.append(f"routes: {key[0]} {key[1]} served (roles {served[key]}), not documented")
    for key in sorted(set(served) & set(spec.operations)):
        documented = spec.operations[key].get("x-roles", [])
        if sorted(served[key]) != sorted(documented):
            problems.append(f"routes: {key[0]} {key[1]} roles: server {sorted(served[key])}, "
                            f"document {sorted(documented)}")
    return problems


# ---- TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) ---------------------------------------------


def totp(secret_base32: str, at: float | None = None) -> str:
    secret = secret_base32.strip().replace(" ", "").upper().rstrip("=")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


# RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits) -> 287082.
assert totp(base64.b32encode(b"12345678901234567890").decode(), 59) == "287082"


# ---- The server -----------------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body
        self.json: Any = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def headers_named(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


NO_BODY = object()


class Walk:
    """Calls the server and checks every answer against the document."""

    def __init__(self, spec: Spec, port: int, keys: dict[str, str], verbose: bool):
        self.spec = spec
        self.port = port
        self.keys = keys  # role -> API key
        self.verbose = verbose
        self.failures: list[str] = []
        self.validated = 0
        self.checked: set[tuple[str, str]] = set()

    def fail(self, where: str, message: str) -> None:
        self.failures.append(f"{where}: {message}")
        print(f"FAIL {where}: {message}", flush=True)

    def send(self, method: str, target: str, *, body: Any = NO_BODY, raw: bytes | None = None,
             content_type: str = "application/json", bearer: str | None = None,
             cookie: str | None = None, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        if cookie:
            sent["Cookie"] = cookie
        data = None
        if raw is not None:
            data = raw
        elif body is not NO_BODY:
            data = json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = content_type
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target, body=data, headers=sent)
            response = connection.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, *,
             query: dict[str, Any] | None = None, expect: set[int] | int | None = None,
             problem: str | None = None, auth: str | None = "admin", label: str = "",
             **kwargs: Any) -> Reply:
        """Sends a request to the documented operation (method, path) and validates the reply.

        auth: a role whose API key to send, None, or "bearer:TOKEN"; expect: the statuses this
        case must get; problem: the Problem type it must get."""
        operation = self.spec.operations.get((method, path))
        where = f"{method} {path}{' (' + label + ')' if label else ''}"
        target = path
        for name, value in (params or {}).items():
            target = target.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        if query:
            target += "?" + urllib.parse.urlencode(query)
        bearer = None
        if auth and auth.startswith("bearer:"):
            bearer = auth[len("bearer:"):]
        elif auth:
            bearer = self.keys[auth]
        try:
            reply = self.send(method, target, bearer=bearer, **kwargs)
        except (OSError, http.client.HTTPException) as error:
            self.fail(where, f"request failed: {error!r}")
            return Reply(0, [], b"")
        if self.verbose:
            print(f"  {method} {target} -> {reply.status} {short(reply.text(), 160)}")
        if operation is None:
            self.fail(where, "not documented")
            return reply
        self.validate(where, operation, reply)
        if (method, path) not in self.checked and reply.status != 0:
            self.checked.add((method, path))
        wanted = {expect} if isinstance(expect, int) else expect
        if wanted and reply.status not in wanted:
            self.fail(where, f"expected {sorted(wanted)}, got {reply.status}: {short(reply.text())}")
        elif problem and (not isinstance(reply.json, dict) or reply.json.get("type") != problem):
            self.fail(where, f"expected problem {problem}, got {reply.status} {short(reply.text())}")
        return reply

    def validate(self, where: str, operation: dict, reply: Reply) -> None:
        documented = self.spec.response(operation, reply.status)
        if documented is None:
            self.fail(where, f"status {reply.status} not documented: {short(reply.text())}")
            return
        ok = True
        for name, header in (documented.get("headers") or {}).items():
            header = self.spec.resolve(header)
            value = reply.header(name)
            if value is None:
                if header.get("required"):
                    self.fail(where, f"{reply.status}: header {name} missing")
                    ok = False
                continue
            for error in schema_errors(self.spec.validator(header.get("schema", {})), value):
                self.fail(where, f"{reply.status}: header {name}: {error}")
                ok = False
        content = documented.get("content") or {}
        if not content:
            if reply.body:
                self.fail(where, f"{reply.status}: documented without a body, got {short(reply.text())}")
                ok = False
        else:
            media = (reply.header("Content-Type") or "").split(";")[0].strip().lower()
            if media not in content:
                self.fail(where, f"{reply.status}: Content-Type {media or '(none)'}, "
                                 f"documented {sorted(content)}")
                return
            if media.endswith("json"):
                try:
                    reply.json = json.loads(reply.body)
                except ValueError:
                    self.fail(where, f"{reply.status}: body is not JSON: {short(reply.text())}")
                    return
                instance = reply.json
            else:
                instance = reply.text()
            validator = self.spec.validator(content[media].get("schema", {}))
            errors = schema_errors(validator, instance)
            for error in errors:
                self.fail(where, f"{reply.status} body {error}; body {short(reply.text())}")
            ok = ok and not errors
        if ok:
            self.validated += 1

    @staticmethod
    def key() -> dict[str, str]:
        return {"Idempotency-Key": f"checker-{uuid.uuid4().hex}"}

    def example(self, method: str, path: str) -> Any:
        return self.spec.example(self.spec.operations[(method, path)])

    # ---- Shared cases for routes that take a body

    def bad_bodies(self, method: str, path: str, params: dict, body: Any,
                   auth: str | None = "admin", **kwargs: Any) -> None:
        """Unknown field (422 naming it), malformed JSON (400), another media type (415)."""
        operation = self.spec.operations[(method, path)]
        needs_key = self.spec.required_idempotency_key(operation)
        def headers() -> dict[str, str]:
            extra = dict(kwargs.get("headers") or {})
            if needs_key:
                extra.update(self.key())
            return extra
        rest = {name: value for name, value in kwargs.items() if name != "headers"}
        invalid = dict(body or {})
        invalid[UNKNOWN_FIELD] = True
        reply = self.call(method, path, params, body=invalid, expect=422, problem="validation_failed",
                          auth=auth, headers=headers(), label="unknown field", **rest)
        if reply.status == 422 and isinstance(reply.json, dict):
            fields = [error.get("field") for error in reply.json.get("errors") or []
                      if isinstance(error, dict)]
            if not any(UNKNOWN_FIELD in str(field) for field in fields):
                self.fail(f"{method} {path} (unknown field)",
                          f"errors do not name {UNKNOWN_FIELD}: {short(reply.json)}")
        self.call(method, path, params, raw=b'{"truncated": ', expect=400, problem="malformed_json",
                  auth=auth, headers=headers(), label="malformed JSON", **rest)
        self.call(method, path, params, raw=json.dumps(body or {}).encode(), content_type="text/plain",
                  expect=415, problem="unsupported_media_type", auth=auth, headers=headers(),
                  label="text/plain body", **rest)

    def idempotency(self, method: str, path: str, params: dict, body: Any, first: Reply,
                    key: dict[str, str], changed: Any | None, auth: str | None = "admin") -> None:
        """Replay with the same key, conflict with another body, 428 without a key.

        body NO_BODY: the call is sent without a body."""
        where = f"{method} {path}"
        if first.header("Idempotent-Replayed") is not None:
            self.fail(where, "the first answer says Idempotent-Replayed")
        again = self.call(method, path, params, body=body, headers=key, expect=first.status,
                          auth=auth, label="replay")
        if again.status == first.status:
            if again.json != first.json:
                self.fail(where + " (replay)", f"body differs: {short(first.text())} then "
                                               f"{short(again.text())}")
            if (again.header("Idempotent-Replayed") or "").lower() != "true":
                self.fail(where + " (replay)", "no Idempotent-Replayed: true")
        if changed is not None:
            self.call(method, path, params, body=changed, headers=key, expect=422,
                      problem="idempotency_conflict", auth=auth, label="same key, other body")
        if self.spec.required_idempotency_key(self.spec.operations[(method, path)]):
            self.call(method, path, params, body=body, expect=428,
                      problem="idempotency_key_missing", auth=auth, label="no Idempotency-Key")

    def expect_field(self, where: str, reply: Reply, field: str) -> None:
        """A validation_failed answer names `field` (the whole path, or its end after a dot)."""
        if reply.status != 422 or not isinstance(reply.json, dict):
            return  # call() has said so
        named = [str(error.get("field")) for error in reply.json.get("errors") or []
                 if isinstance(error, dict)]
        if not any(name == field or name.endswith("." + field) for name in named):
            self.fail(where, f"errors do not name {field}: {short(reply.json)}")

    # ---- The walk

    def run(self) -> None:
        ids = self.walk_members_and_points()
        self.walk_member_auth(ids)
        self.walk_api_keys(ids)
        self.walk_operators(ids)
        self.walk_earning(ids)
        self.walk_credentials_and_roles(ids)
        for key in sorted(set(self.spec.operations) - self.checked):
            self.fail(f"{key[0]} {key[1]}", "documented but not walked by the checker")

    def walk_members_and_points(self) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        self.call("GET", "/healthz", auth=None, expect=200)
        self.call("GET", "/metrics", auth=None, expect=200)
        self.call("GET", "/v1/program", expect=200)

        # Members: the referrer first, then the documented example.
        members = "/v1/members"
        example = self.example("POST", members)
        if example.get("referrer"):
            self.call("POST", members, body={"external_id": example["referrer"]}, expect=201,
                      label="the example's referrer")
        key = self.key()
        created = self.call("POST", members, body=example, headers=key, expect=201)
        member_id = created.json.get("id") if isinstance(created.json, dict) else None
        if not isinstance(member_id, int):
            raise RuntimeError("cannot go on without a member: POST /v1/members failed")
        ids["member_id"] = member_id
        for field, value in example.items():
            if created.json.get(field) != value:
                self.fail("POST /v1/members", f"{field}: sent {value!r}, got {created.json.get(field)!r}")
        self.idempotency("POST", members, {}, example, created, key, changed=None)
        self.call("POST", members, body=example, expect=409, problem="member_exists",
                  label="same external_id, no key")
        self.bad_bodies("POST", members, {}, example)
        # Media types are case-insensitive (RFC 9110 8.3.1).
        self.call("POST", members, raw=json.dumps({"external_id": "checker-media-type"}).encode(),
                  content_type="Application/JSON; charset=utf-8", expect=201,
                  label="Content-Type Application/JSON")

        page = self.call("GET", members, query={"limit": 1}, expect=200, label="limit 1")
        if isinstance(page.json, dict):
            if len(page.json.get("data") or []) != 1 or not page.json.get("next_cursor"):
                self.fail("GET /v1/members (limit 1)", f"expected 1 member and a next_cursor of 2: "
                                                       f"{short(page.json)}")
            else:
                second = self.call("GET", members, query={"limit": 1, "cursor": page.json["next_cursor"]},
                                   expect=200, label="next page")
                if isinstance(second.json, dict) and second.json.get("data") == page.json.get("data"):
                    self.fail("GET /v1/members (next page)", "the second page repeats the first")
        found = self.call("GET", members, query={"external_id": example["external_id"]}, expect=200,
                          label="by external_id")
        if isinstance(found.json, dict) and [m.get("id") for m in found.json.get("data") or []] != [member_id]:
            self.fail("GET /v1/members (by external_id)", f"expected member {member_id}: {short(found.json)}")
        self.call("GET", members, query={"limit": 101}, expect=422, problem="validation_failed",
                  label="limit 101")

        one = "/v1/members/{member_id}"
        params = {"member_id": member_id}
        self.call("GET", one, params, expect=200)
        self.call("GET", one, {"member_id": 999_999_999}, expect=404, problem="unknown_member",
                  label="unknown member")
        patch = self.example("PATCH", one)
        patched = self.call("PATCH", one, params, body=patch, expect=200)
        if isinstance(patched.json, dict):
            for field, value in patch.items():
                if patched.json.get(field) != value:
                    self.fail("PATCH /v1/members/{member_id}",
                              f"{field}: sent {value!r}, got {patched.json.get(field)!r}")
        self.call("PATCH", one, params, body={}, expect=422, problem="validation_failed",
                  label="no fields")
        self.bad_bodies("PATCH", one, params, patch)

        # Points: adjustment, freeze and unfreeze, a purchase, its refund.
        for path, changed_field in (("/v1/members/{member_id}/adjustments", "reason"),
                                    ("/v1/members/{member_id}/freeze", "reason"),
                                    ("/v1/members/{member_id}/unfreeze", "reason")):
            body = self.example("POST", path)
            key = self.key()
            first = self.call("POST", path, params, body=body, headers=key,
                              expect=201 if path.endswith("adjustments") else 200)
            if path.endswith("freeze") and isinstance(first.json, dict):
                frozen = first.json.get("account_frozen")
                if frozen is not (not path.endswith("unfreeze")):
                    self.fail(f"POST {path}", f"account_frozen is {frozen!r}")
                if path.endswith("/freeze"):
                    balance = self.call("GET", "/v1/members/{member_id}/balance", params, expect=200,
                                        label="frozen")
                    if isinstance(balance.json, dict) and balance.json.get("account_frozen") is not True:
                        self.fail("GET /v1/members/{member_id}/balance (frozen)", "account_frozen not true")
            changed = dict(body, **{changed_field: body[changed_field] + " (changed)"})
            self.idempotency("POST", path, params, body, first, key, changed)
            self.bad_bodies("POST", path, params, body)
        adjustments = "/v1/members/{member_id}/adjustments"
        self.call("POST", adjustments, params, body={"points": -10**9, "reason": "more than there is"},
                  headers=self.key(), expect=422, problem="insufficient_points", label="too many")
        self.call("POST", adjustments, params, body={"points": 0, "reason": "zero"},
                  headers=self.key(), expect=422, problem="validation_failed", label="zero points")
        self.call("POST", adjustments, {"member_id": 999_999_999}, body=self.example("POST", adjustments),
                  headers=self.key(), expect=404, problem="unknown_member", label="unknown member")

        events = "/v1/events"
        event = self.example("POST", events)
        event["member_id"] = member_id
        key = self.key()
        first = self.call("POST", events, body=event, headers=key, expect=201)
        self.idempotency("POST", events, {}, event, first, key,
                         dict(event, reference=str(event.get("reference", "")) + "-changed"))
        self.bad_bodies("POST", events, {}, event)
        self.call("POST", events, body=event, headers=self.key(), expect=409, problem="duplicate_order",
                  label="same order again")
        self.call("POST", events, body={"type": "checkin", "member_id": member_id}, headers=self.key(),
                  expect=201, label="checkin")
        self.call("POST", events, body={"type": "purchase", "member_id": member_id}, headers=self.key(),
                  expect=422, problem="validation_failed", label="purchase without order")
        self.call("POST", events, body={"type": "checkin", "member_id": 999_999_999}, headers=self.key(),
                  expect=404, problem="unknown_member", label="unknown member")
        ids["order_id"] = event["order_id"]

        refunds = "/v1/orders/{order_id}/refunds"
        refund = self.example("POST", refunds)
        refund["member_id"] = member_id
        order = {"order_id": event["order_id"]}
        key = self.key()
        first = self.call("POST", refunds, order, body=refund, headers=key, expect=201)
        changed = copy.deepcopy(refund)
        changed["amount"]["amount"] = max(1, refund["amount"]["amount"] - 1)
        self.idempotency("POST", refunds, order, refund, first, key, changed)
        self.bad_bodies("POST", refunds, order, refund)
        self.call("POST", refunds, {"order_id": "no-such-order"}, body=refund, headers=self.key(),
                  expect=404, problem="unknown_order", label="unknown order")
        too_much = copy.deepcopy(refund)
        too_much["amount"]["amount"] = event["amount"]["amount"]
        self.call("POST", refunds, order, body=too_much, headers=self.key(), expect=422,
                  problem="refund_exceeds_order", label="more than the order")

        self.check_expiring(self.call("GET", "/v1/members/{member_id}/balance", params, expect=200))
        transactions = "/v1/members/{member_id}/transactions"
        page = self.call("GET", transactions, params, query={"limit": 2}, expect=200, label="limit 2")
        if isinstance(page.json, dict):
            if page.json.get("next_cursor"):
                self.call("GET", transactions, params, query={"cursor": page.json["next_cursor"]},
                          expect=200, label="next page")
            else:
                self.fail(f"GET {transactions}", "expected a next_cursor after 2 of many transactions")
            data = page.json.get("data") or []
            if [t.get("id") for t in data] != sorted((t.get("id") for t in data), reverse=True):
                self.fail(f"GET {transactions}", "not newest first")
        self.call("GET", transactions, params, query={"limit": 0}, expect=422,
                  problem="validation_failed", label="limit 0")
        return ids

    def check_expiring(self, reply: Reply, where: str = "GET /v1/members/{member_id}/balance") -> None:
        """Balance.expiring: dates soonest first, each date once."""
        if not isinstance(reply.json, dict):
            return
        dates = [entry.get("expires_at") for entry in reply.json.get("expiring") or []
                 if isinstance(entry, dict)]
        if any(not isinstance(date, str) for date in dates):
            return  # the schema check has said so
        if dates != sorted(set(dates)):
            self.fail(where, f"expiring must list each date once, soonest first: {short(reply.json)}")

    def walk_member_auth(self, ids: dict[str, Any]) -> None:
        params = {"member_id": ids["member_id"]}
        sessions = "/v1/members/{member_id}/sessions"
        body = self.example("POST", sessions)
        reply = self.call("POST", sessions, params, body=body, expect=201)
        token = reply.json.get("token") if isinstance(reply.json, dict) else None
        self.call("POST", sessions, params, expect=201, label="no body")
        self.bad_bodies("POST", sessions, params, body)
        self.call("POST", sessions, params, body={"ttl_seconds": 59}, expect=422,
                  problem="validation_failed", label="ttl 59")
        ids["member_token"] = token
        if token:
            me = self.call("GET", "/v1/me", auth=f"bearer:{token}", expect=200)
            if isinstance(me.json, dict) and me.json.get("id") != ids["member_id"]:
                self.fail("GET /v1/me", f"id {me.json.get('id')}, expected {ids['member_id']}")
            self.check_expiring(self.call("GET", "/v1/me/balance", auth=f"bearer:{token}", expect=200),
                                "GET /v1/me/balance")
            self.call("GET", "/v1/me/transactions", auth=f"bearer:{token}", query={"limit": 5},
                      expect=200)

        credentials = "/v1/members/{member_id}/credentials"
        body = self.example("PUT", credentials)
        self.call("PUT", credentials, params, body=body, expect=204)
        self.bad_bodies("PUT", credentials, params, body)
        self.call("PUT", credentials, params, body=dict(body, password="short"), expect=422,
                  problem="validation_failed", label="short password")

        login = "/v1/auth/member/login"
        body = self.example("POST", login)
        reply = self.call("POST", login, body=body, auth=None, expect=201)
        self.call("POST", login, body=dict(body, password=body["password"] + "x"), auth=None,
                  expect=401, problem="login_failed", label="wrong password")
        self.bad_bodies("POST", login, {}, body, auth=None)
        second = reply.json.get("token") if isinstance(reply.json, dict) else None
        if second:
            self.call("POST", "/v1/auth/member/logout", auth=f"bearer:{second}", expect=204)
            self.call("GET", "/v1/me", auth=f"bearer:{second}", expect=401, problem="unauthenticated",
                      label="after logout")

    def walk_api_keys(self, ids: dict[str, Any]) -> None:
        keys = "/v1/api-keys"
        body = self.example("POST", keys)
        reply = self.call("POST", keys, body=body, expect=201)
        key_id = reply.json.get("id") if isinstance(reply.json, dict) else None
        self.call("POST", keys, body=body, expect=409, problem="name_taken", label="same name")
        self.bad_bodies("POST", keys, {}, body)
        listed = self.call("GET", keys, expect=200)
        if isinstance(listed.json, dict) and key_id not in [k.get("id") for k in listed.json.get("data") or []]:
            self.fail("GET /v1/api-keys", f"the new key {key_id} is not listed")
        if key_id is not None:
            new_key = reply.json.get("key")
            self.call("DELETE", "/v1/api-keys/{key_id}", {"key_id": key_id}, expect=204)
            self.call("DELETE", "/v1/api-keys/{key_id}", {"key_id": key_id}, expect=404,
                      problem="not_found", label="again")
            if new_key:
                self.call("GET", "/v1/program", auth=f"bearer:{new_key}", expect=401,
                          problem="unauthenticated", label="revoked key")
        ids["key_id"] = key_id or 999_999_999
        self.call("DELETE", "/v1/api-keys/{key_id}", {"key_id": 999_999_999}, expect=404,
                  problem="not_found", label="unknown key")

    def walk_operators(self, ids: dict[str, Any]) -> None:
        operators = "/v1/operators"
        body = self.example("POST", operators)
        reply = self.call("POST", operators, body=body, expect=201)
        created = reply.json if isinstance(reply.json, dict) else {}
        self.call("POST", operators, body=body, expect=409, problem="name_taken", label="same name")
        self.bad_bodies("POST", operators, {}, body)
        self.call("GET", operators, expect=200)
        operator_id = created.get("id")
        ids["operator_id"] = operator_id or 999_999_999

        login = "/v1/auth/operator/login"
        login_body = self.example("POST", login)
        self.call("POST", login, body=dict(login_body, password=login_body["password"] + "x",
                                            totp_code="000000"),
                  auth=None, expect=401, problem="login_failed", label="wrong password")
        self.call("POST", login, body=dict(login_body, totp_code="12345a"), auth=None, expect=422,
                  problem="validation_failed", label="code not 6 digits")
        self.bad_bodies("POST", login, {}, login_body, auth=None)
        cookie = csrf = None
        if created.get("totp_secret"):
            if login_body.get("name") != body.get("name") or login_body.get("password") != body.get("password"):
                self.fail(f"POST {login}", "its example does not sign in the POST /v1/operators example")
            signed_in = self.call("POST", login, body=dict(login_body, totp_code=totp(created["totp_secret"])),
                                  auth=None, expect=200)
            for value in signed_in.headers_named("Set-Cookie"):
                pair = value.split(";")[0].strip()
                if pair.startswith("pointsmall_session="):
                    cookie = pair
                    attributes = value.lower()
                    if "httponly" not in attributes or "samesite=strict" not in attributes:
                        self.fail(f"POST {login}", f"cookie without HttpOnly, SameSite=Strict: {value}")
            if isinstance(signed_in.json, dict):
                csrf = signed_in.json.get("csrf_token")
        if cookie:
            session = self.call("GET", "/v1/auth/operator/session", auth=None, cookie=cookie, expect=200)
            if isinstance(session.json, dict) and session.json.get("csrf_token") != csrf:
                self.fail("GET /v1/auth/operator/session", "csrf_token differs from the login's")
            # The console session acts with the operator's role.
            self.call("GET", "/v1/program", auth=None, cookie=cookie, expect=200, label="cookie")
            self.call("GET", "/v1/api-keys", auth=None, cookie=cookie, expect=403, problem="forbidden",
                      label="cookie, role operator")
            adjustments = "/v1/members/{member_id}/adjustments"
            params = {"member_id": ids["member_id"]}
            body_adjust = self.example("POST", adjustments)
            self.call("POST", adjustments, params, body=body_adjust, auth=None, cookie=cookie,
                      headers=self.key(), expect=403, problem="csrf_failed", label="cookie, no CSRF")
            self.call("POST", adjustments, params, body=body_adjust, auth=None, cookie=cookie,
                      headers=dict(self.key(), **{"X-CSRF-Token": "wrong"}), expect=403,
                      problem="csrf_failed", label="cookie, wrong CSRF")
            self.call("POST", adjustments, params, body=body_adjust, auth=None, cookie=cookie,
                      headers=dict(self.key(), **{"X-CSRF-Token": csrf or ""}), expect=201,
                      label="cookie and CSRF")
            self.call("POST", "/v1/auth/operator/logout", auth=None, cookie=cookie, expect=403,
                      problem="csrf_failed", label="no CSRF")
            self.call("POST", "/v1/auth/operator/logout", auth=None, cookie=cookie,
                      headers={"X-CSRF-Token": csrf or ""}, expect=204)
            self.call("GET", "/v1/auth/operator/session", auth=None, cookie=cookie, expect=401,
                      problem="unauthenticated", label="after logout")
        else:
            self.fail(f"POST {login}", "no session cookie: operator session routes not walked")
        if operator_id is not None:
            disabled = self.call("POST", "/v1/operators/{operator_id}/disable",
                                 {"operator_id": operator_id}, expect=200)
            if isinstance(disabled.json, dict) and disabled.json.get("disabled") is not True:
                self.fail("POST /v1/operators/{operator_id}/disable", "disabled is not true")
        self.call("POST", "/v1/operators/{operator_id}/disable", {"operator_id": 999_999_999},
                  expect=404, problem="not_found", label="unknown operator")

    # ---- The earning engine

    def walk_earning(self, ids: dict[str, Any]) -> None:
        """Rules and campaigns (versions, stale versions, refusals naming the field, retiring),
        tiers and engagement settings, events (dry runs, late events, new fields), members' tiers,
        referral codes, check-ins and tasks, and back-tests."""
        self.walk_rules(ids)
        self.walk_campaigns(ids)
        self.walk_earning_events(ids)
        self.walk_tiers(ids)
        self.walk_engagement_settings()
        self.walk_member_engagement(ids)
        self.walk_simulations()

    def check_version(self, where: str, reply: Reply, version: int) -> None:
        if isinstance(reply.json, dict) and reply.json.get("version") != version:
            self.fail(where, f"version {reply.json.get('version')!r}, expected {version}")

    def check_versions(self, where: str, reply: Reply, versions: list[int],
                       retired: bool = False) -> None:
        """The versions listed, newest first; the newest retired or not."""
        if not isinstance(reply.json, dict):
            return
        data = reply.json.get("data") or []
        if [entry.get("version") for entry in data] != versions:
            self.fail(where, f"versions {[entry.get('version') for entry in data]}, expected {versions}")
        elif data[0].get("retired") is not retired:
            self.fail(where, f"the newest version's retired is {data[0].get('retired')!r}")

    def walk_rules(self, ids: dict[str, Any]) -> None:
        rules = "/v1/rules"
        listed = self.call("GET", rules, expect=200)
        if isinstance(listed.json, dict) and "base-rate-usd" not in [
                rule.get("id") for rule in listed.json.get("data") or []]:
            self.fail("GET /v1/rules", f"the default rule base-rate-usd is not listed: "
                                       f"{short(listed.json)}")
        rule = self.example("POST", rules)
        self.check_version("POST /v1/rules", self.call("POST", rules, body=rule, expect=201), 1)
        self.call("POST", rules, body=rule, expect=409, problem="already_exists", label="same id")
        self.bad_bodies("POST", rules, {}, rule)
        misspelt = dict(rule, id="checker-misspelt",
                        conditions=[{"field": "amout", "op": "gte", "value": 100}])
        reply = self.call("POST", rules, body=misspelt, expect=422, problem="validation_failed",
                          label="unknown condition field")
        self.expect_field("POST /v1/rules (unknown condition field)", reply, "conditions[0].field")
        misplaced = dict(misspelt, conditions=[{"field": "amount", "op": "gte", "value": 100}])
        reply = self.call("POST", rules, body=misplaced, expect=422, problem="validation_failed",
                          label="purchase field in a review rule")
        self.expect_field("POST /v1/rules (purchase field in a review rule)", reply,
                          "conditions[0].field")

        one = "/v1/rules/{rule_id}"
        params = {"rule_id": rule["id"]}
        unknown = {"rule_id": "checker-no-such-rule"}
        self.call("GET", one, params, expect=200)
        self.call("GET", one, unknown, expect=404, problem="not_found", label="unknown rule")
        replace = self.example("PUT", one)
        self.check_version(f"PUT {one}", self.call("PUT", one, params, body=replace, expect=200),
                           replace["version"] + 1)
        self.call("PUT", one, params, body=replace, expect=409, problem="version_conflict",
                  label="stale version")
        reply = self.call("PUT", one, params, body=dict(replace, id="checker-other-id"), expect=422,
                          problem="validation_failed", label="another id than the path's")
        self.expect_field(f"PUT {one} (another id than the path's)", reply, "id")
        unversioned = {name: value for name, value in replace.items() if name != "version"}
        self.call("PUT", one, unknown, body=unversioned, expect=404, problem="not_found",
                  label="unknown rule")
        self.bad_bodies("PUT", one, params, unversioned)
        versions = one + "/versions"
        self.check_versions(f"GET {versions}", self.call("GET", versions, params, expect=200),
                            [replace["version"] + 1, replace["version"]])
        self.call("GET", versions, unknown, expect=404, problem="not_found", label="never saved")

        gone = {"rule_id": "checker-retired"}
        self.call("POST", rules, body=dict(unversioned, id=gone["rule_id"]), expect=201,
                  label="a rule to retire")
        self.call("DELETE", one, gone, expect=204)
        self.call("DELETE", one, gone, expect=404, problem="not_found", label="retired already")
        self.call("GET", one, gone, expect=404, problem="not_found", label="retired")
        self.check_versions(f"GET {versions} (retired)",
                            self.call("GET", versions, gone, expect=200, label="retired"), [2, 1],
                            retired=True)
        ids["rule_id"] = rule["id"]

    def walk_campaigns(self, ids: dict[str, Any]) -> None:
        campaigns = "/v1/campaigns"
        self.call("GET", campaigns, expect=200)
        campaign = self.example("POST", campaigns)
        self.check_version("POST /v1/campaigns",
                           self.call("POST", campaigns, body=campaign, expect=201), 1)
        self.call("POST", campaigns, body=campaign, expect=409, problem="already_exists",
                  label="same id")
        self.bad_bodies("POST", campaigns, {}, campaign)
        reply = self.call("POST", campaigns, body=dict(campaign, id="checker-overlapping"),
                          expect=422, problem="validation_failed",
                          label="overlaps an exclusive campaign")
        self.expect_field("POST /v1/campaigns (overlaps an exclusive campaign)", reply, "from")
        # The example's multiplier names base-rate-usd: retiring that rule is refused.
        named = [name for rule in campaign["rules"] for name in rule["effect"].get("of_rules", [])]
        if named:
            reply = self.call("DELETE", "/v1/rules/{rule_id}", {"rule_id": named[0]}, expect=422,
                              problem="validation_failed", label="named by a campaign's multiplier")
            self.expect_field("DELETE /v1/rules/{rule_id} (named by a campaign's multiplier)",
                              reply, "of_rules[0]")

        one = "/v1/campaigns/{campaign_id}"
        params = {"campaign_id": campaign["id"]}
        unknown = {"campaign_id": "checker-no-such-campaign"}
        self.call("GET", one, params, expect=200)
        self.call("GET", one, unknown, expect=404, problem="not_found", label="unknown campaign")
        replace = self.example("PUT", one)
        self.check_version(f"PUT {one}", self.call("PUT", one, params, body=replace, expect=200),
                           replace["version"] + 1)
        self.call("PUT", one, params, body=replace, expect=409, problem="version_conflict",
                  label="stale version")
        unversioned = {name: value for name, value in replace.items() if name != "version"}
        self.call("PUT", one, unknown, body=unversioned, expect=404, problem="not_found",
                  label="unknown campaign")
        self.bad_bodies("PUT", one, params, unversioned)
        versions = one + "/versions"
        self.check_versions(f"GET {versions}", self.call("GET", versions, params, expect=200),
                            [replace["version"] + 1, replace["version"]])
        self.call("GET", versions, unknown, expect=404, problem="not_found", label="never saved")

        gone = {"campaign_id": "checker-retired"}
        self.call("POST", campaigns, body=dict(unversioned, id=gone["campaign_id"], exclusive=False),
                  expect=201, label="a campaign to retire")
        self.call("DELETE", one, gone, expect=204)
        self.call("DELETE", one, gone, expect=404, problem="not_found", label="retired already")
        self.check_versions(f"GET {versions} (retired)",
                            self.call("GET", versions, gone, expect=200, label="retired"), [2, 1],
                            retired=True)
        ids["campaign_id"] = campaign["id"]

    def walk_earning_events(self, ids: dict[str, Any]) -> None:
        """Dry runs, late events, and the fields of events of each type."""
        events = "/v1/events"
        member_id = ids["member_id"]
        params = {"member_id": member_id}
        purchase = self.example("POST", events)
        purchase.update(member_id=member_id, order_id="checker-dry-run")
        history = "/v1/members/{member_id}/transactions"
        before = self.call("GET", history, params, query={"limit": 1}, expect=200,
                           label="before a dry run")
        dry = self.call("POST", events, query={"dry_run": "true"}, body=purchase, expect=200,
                        label="dry run")
        if isinstance(dry.json, dict) and (dry.json.get("dry_run") is not True
                                           or not dry.json.get("explanation")):
            self.fail("POST /v1/events (dry run)",
                      f"no dry_run: true and explanation: {short(dry.json)}")
        after = self.call("GET", history, params, query={"limit": 1}, expect=200,
                          label="after a dry run")
        if before.json != after.json:
            self.fail("POST /v1/events (dry run)", "the dry run wrote a transaction")
        # The member checked in today (walk_members_and_points): the dry run tells the refusal.
        refused = self.call("POST", events, query={"dry_run": "true"},
                            body={"type": "checkin", "member_id": member_id}, expect=200,
                            label="dry run, checked in already")
        refusal = refused.json.get("refusal") if isinstance(refused.json, dict) else None
        if isinstance(refused.json, dict) and (refusal or {}).get("type") != "already_checked_in":
            self.fail("POST /v1/events (dry run, checked in already)",
                      f"no refusal already_checked_in: {short(refused.json)}")
        reply = self.call("POST", events, query={"dry_run": "maybe"}, body=purchase, expect=422,
                          problem="validation_failed", label="dry_run=maybe")
        self.expect_field("POST /v1/events (dry_run=maybe)", reply, "dry_run")
        self.call("POST", events, query={"dry_run": "true"}, body=dict(purchase, member_id=999_999_999),
                  expect=404, problem="unknown_member", label="dry run, unknown member")
        self.bad_bodies("POST", events, {}, purchase, query={"dry_run": "true"})

        late = dict(purchase, order_id="checker-late",
                    occurred_at=(datetime.now(timezone.utc) - timedelta(days=31)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"))
        self.call("POST", events, body=late, headers=self.key(), expect=422,
                  problem="event_too_late", label="31 days late")
        self.call("POST", events, query={"dry_run": "true"}, body=late, expect=422,
                  problem="event_too_late", label="dry run, 31 days late")
        other_currency = copy.deepcopy(purchase)
        other_currency.update(order_id="checker-currency", discount={"amount": 100, "currency": "EUR"})
        reply = self.call("POST", events, body=other_currency, headers=self.key(), expect=422,
                          problem="validation_failed", label="discount in another currency")
        self.expect_field("POST /v1/events (discount in another currency)", reply,
                          "discount.currency")
        reply = self.call("POST", events, body={"type": "survey", "member_id": member_id},
                          headers=self.key(), expect=422, problem="validation_failed",
                          label="survey without task")
        self.expect_field("POST /v1/events (survey without task)", reply, "task")
        reply = self.call("POST", events, body={"type": "review", "member_id": member_id,
                                                "task": "checker-survey"},
                          headers=self.key(), expect=422, problem="validation_failed",
                          label="review with a task")
        self.expect_field("POST /v1/events (review with a task)", reply, "task")
        self.call("POST", events, body={"type": "survey", "member_id": member_id,
                                        "task": "checker-survey"},
                  headers=self.key(), expect=201, label="survey")
        self.call("POST", events, body={"type": "profile_completed", "member_id": member_id},
                  headers=self.key(), expect=201, label="profile_completed")

    def walk_tiers(self, ids: dict[str, Any]) -> None:
        tiers = "/v1/tiers"
        member_tier = "/v1/members/{member_id}/tier"
        params = {"member_id": ids["member_id"]}
        unknown_member = {"member_id": 999_999_999}
        member = f"bearer:{ids['member_token']}" if ids.get("member_token") else None
        self.call("GET", tiers, expect=404, problem="not_found", label="no tiers yet")
        self.call("GET", member_tier, params, expect=404, problem="not_found", label="no tiers yet")
        if member:
            self.call("GET", "/v1/me/tier", auth=member, expect=404, problem="not_found",
                      label="no tiers yet")
        body = self.example("PUT", tiers)
        saved = self.call("PUT", tiers, body=body, expect=200)
        version = saved.json.get("version") if isinstance(saved.json, dict) else None
        if isinstance(version, int):
            self.check_version(f"PUT {tiers} (with the version read)",
                               self.call("PUT", tiers, body=dict(body, version=version), expect=200,
                                         label="with the version read"), version + 1)
            self.call("PUT", tiers, body=dict(body, version=version), expect=409,
                      problem="version_conflict", label="stale version")
        unordered = copy.deepcopy(body)
        unordered["tiers"][0]["threshold"] = 1
        reply = self.call("PUT", tiers, body=unordered, expect=422, problem="validation_failed",
                          label="first threshold not 0")
        self.expect_field("PUT /v1/tiers (first threshold not 0)", reply, "tiers[0].threshold")
        self.bad_bodies("PUT", tiers, {}, body)
        self.call("GET", tiers, expect=200)

        self.call("GET", member_tier, params, expect=200)
        self.call("GET", member_tier, unknown_member, expect=404, problem="unknown_member",
                  label="unknown member")
        move = self.example("POST", member_tier)
        key = self.key()
        first = self.call("POST", member_tier, params, body=move, headers=key, expect=200)
        if isinstance(first.json, dict) and (first.json.get("tier") or {}).get("id") != move["tier"]:
            self.fail(f"POST {member_tier}", f"the member is not in {move['tier']}: {short(first.json)}")
        # A retry answers the member's tier as it is then; it is not a stored answer, so it has no
        # Idempotent-Replayed (see the operation's description).
        again = self.call("POST", member_tier, params, body=move, headers=key, expect=200,
                          label="retry")
        if again.json != first.json:
            self.fail(f"POST {member_tier} (retry)", f"body differs: {short(first.text())} then "
                                                     f"{short(again.text())}")
        self.call("POST", member_tier, params, body=dict(move, reason=move["reason"] + " (changed)"),
                  headers=key, expect=422, problem="idempotency_conflict",
                  label="same key, other body")
        self.call("POST", member_tier, params, body=move, expect=428,
                  problem="idempotency_key_missing", label="no Idempotency-Key")
        self.call("POST", member_tier, params, body=move, headers=self.key(), expect=409,
                  problem="tier_unchanged", label="the same tier again")
        self.call("POST", member_tier, params, body=dict(move, tier="checker-no-such-tier"),
                  headers=self.key(), expect=422, problem="unknown_tier", label="unknown tier")
        self.call("POST", member_tier, unknown_member, body=move, headers=self.key(), expect=404,
                  problem="unknown_member", label="unknown member")
        self.bad_bodies("POST", member_tier, params, move)
        if member:
            self.call("GET", "/v1/me/tier", auth=member, expect=200)

    def walk_engagement_settings(self) -> None:
        engagement = "/v1/engagement"
        self.call("GET", engagement, expect=200)
        body = self.example("PUT", engagement)
        saved = self.call("PUT", engagement, body=body, expect=200)
        version = saved.json.get("version") if isinstance(saved.json, dict) else None
        if isinstance(version, int):
            self.check_version(f"PUT {engagement} (with the version read)",
                               self.call("PUT", engagement, body=dict(body, version=version),
                                         expect=200, label="with the version read"), version + 1)
            self.call("PUT", engagement, body=dict(body, version=version), expect=409,
                      problem="version_conflict", label="stale version")
        no_minimum = copy.deepcopy(body)
        no_minimum["referral"].pop("min_purchase", None)
        reply = self.call("PUT", engagement, body=no_minimum, expect=422,
                          problem="validation_failed", label="referral without min_purchase")
        self.expect_field("PUT /v1/engagement (referral without min_purchase)", reply,
                          "referral.min_purchase")
        self.bad_bodies("PUT", engagement, {}, body)
        self.call("GET", engagement, expect=200, label="saved")

    def walk_member_engagement(self, ids: dict[str, Any]) -> None:
        """Referral codes, check-ins, a referred friend's purchase, and tasks, for two new members
        (the walk's member checked in today already)."""
        members = "/v1/members"
        one = "/v1/members/{member_id}"
        created = self.call("POST", members, expect=201, label="a member for the earning walk",
                            body={"external_id": "checker-earning-1", "tags": ["checker", "early"]})
        first_id = created.json.get("id") if isinstance(created.json, dict) else None
        if not isinstance(first_id, int):
            self.fail("POST /v1/members", "no member for the earning walk: check-ins not walked")
            return
        mine = {"member_id": first_id}
        referral = "/v1/members/{member_id}/referral"
        shared = self.call("GET", referral, mine, expect=200)
        code = shared.json.get("code") if isinstance(shared.json, dict) else None
        again = self.call("GET", referral, mine, expect=200, label="again")
        if isinstance(again.json, dict) and again.json.get("code") != code:
            self.fail(f"GET {referral} (again)", f"the code changed from {code!r}: {short(again.json)}")
        self.call("GET", referral, {"member_id": 999_999_999}, expect=404,
                  problem="unknown_member", label="unknown member")
        friend = self.call("POST", members, expect=201, label="with a referral code",
                           body={"external_id": "checker-earning-2", "referral_code": code,
                                 "tags": ["friend", "friend"]})
        friend_id = friend.json.get("id") if isinstance(friend.json, dict) else None
        if isinstance(friend.json, dict) and (friend.json.get("referrer") != "checker-earning-1"
                                              or friend.json.get("tags") != ["friend"]):
            self.fail("POST /v1/members (with a referral code)",
                      f"expected referrer checker-earning-1 and tags [friend]: {short(friend.json)}")
        if not isinstance(friend_id, int):
            return
        theirs = {"member_id": friend_id}
        reply = self.call("POST", members, body={"external_id": "checker-earning-3",
                                                 "referral_code": "NOSUCHCODE"},
                          expect=422, problem="validation_failed", label="unknown referral code")
        self.expect_field("POST /v1/members (unknown referral code)", reply, "referral_code")
        earlier = self.example("POST", members)["external_id"]  # joined before the friend
        reply = self.call("PATCH", one, theirs, body={"referrer": earlier}, expect=422,
                          problem="validation_failed", label="referrer set already")
        self.expect_field("PATCH /v1/members/{member_id} (referrer set already)", reply, "referrer")
        reply = self.call("PATCH", one, mine, body={"referrer": "checker-earning-2"}, expect=422,
                          problem="validation_failed", label="referrer joined later")
        self.expect_field("PATCH /v1/members/{member_id} (referrer joined later)", reply, "referrer")
        reply = self.call("PATCH", one, theirs, body={"tags": ["Not-A-Tag"]}, expect=422,
                          problem="validation_failed", label="invalid tag")
        self.expect_field("PATCH /v1/members/{member_id} (invalid tag)", reply, "tags[0]")
        cleared = self.call("PATCH", one, theirs, body={"tags": None}, expect=200, label="tags null")
        if isinstance(cleared.json, dict) and cleared.json.get("tags") != []:
            self.fail("PATCH /v1/members/{member_id} (tags null)",
                      f"tags not cleared: {short(cleared.json)}")
        session = self.call("POST", "/v1/members/{member_id}/sessions", mine, expect=201,
                            label="for the earning walk")
        token = session.json.get("token") if isinstance(session.json, dict) else None
        member = f"bearer:{token}" if token else None
        if member:
            own = self.call("GET", "/v1/me/referral", auth=member, expect=200)
            if isinstance(own.json, dict) and own.json.get("code") != code:
                self.fail("GET /v1/me/referral", f"not the member's code {code!r}: {short(own.json)}")

        # Check-ins: the friend by the shop, the first member by themselves.
        checkins = "/v1/members/{member_id}/checkins"
        self.check_checkins(self.call("GET", checkins, theirs, expect=200), False, 0)
        key = self.key()
        checked_in = self.call("POST", checkins, theirs, headers=key, expect=201)
        if isinstance(checked_in.json, dict) and checked_in.json.get("streak") != 1:
            self.fail(f"POST {checkins}", f"streak is not 1: {short(checked_in.json)}")
        self.idempotency("POST", checkins, theirs, NO_BODY, checked_in, key, changed={})
        self.call("POST", checkins, theirs, headers=self.key(), expect=409,
                  problem="already_checked_in", label="twice the same day")
        self.check_checkins(self.call("GET", checkins, theirs, expect=200, label="checked in"),
                            True, 1)
        self.call("POST", checkins, {"member_id": 999_999_999}, headers=self.key(), expect=404,
                  problem="unknown_member", label="unknown member")
        self.bad_bodies("POST", checkins, theirs, {})
        my_checkins = "/v1/me/checkins"
        if member:
            self.call("GET", my_checkins, auth=member, expect=200)
            key = self.key()
            checked_in = self.call("POST", my_checkins, body={}, headers=key, auth=member, expect=201)
            self.idempotency("POST", my_checkins, {}, {}, checked_in, key, changed=NO_BODY,
                             auth=member)
            self.call("POST", my_checkins, headers=self.key(), auth=member, expect=409,
                      problem="already_checked_in", label="twice the same day")
            self.call("POST", checkins, mine, headers=self.key(), expect=409,
                      problem="already_checked_in", label="checked in by themselves")
            self.bad_bodies("POST", my_checkins, {}, {}, auth=member)
            self.check_checkins(self.call("GET", my_checkins, auth=member, expect=200,
                                          label="checked in"), True, 1)
        engagement = self.example("PUT", "/v1/engagement")
        self.call("PUT", "/v1/engagement", body=dict(engagement, checkin={"enabled": False}),
                  expect=200, label="check-in off")
        self.call("POST", checkins, {"member_id": ids["member_id"]}, headers=self.key(), expect=409,
                  problem="checkin_disabled", label="check-in off")
        if member:
            self.call("POST", my_checkins, headers=self.key(), auth=member, expect=409,
                      problem="checkin_disabled", label="check-in off")
        self.call("PUT", "/v1/engagement", body=engagement, expect=200, label="check-in on again")

        # The friend's first qualifying purchase: a referral reward for both (the first member
        # bought before, so referring pays), and a tier upgrade.
        events = "/v1/events"
        purchase = self.example("POST", events)
        purchase.update(member_id=first_id, order_id="checker-earning-1-first")
        self.call("POST", events, body=purchase, headers=self.key(), expect=201,
                  label="the referrer's own purchase")
        big = dict(purchase, member_id=friend_id, order_id="checker-earning-2-first",
                   amount={"amount": 250_000, "currency": "USD"})
        big.pop("items", None)
        dry = self.call("POST", events, query={"dry_run": "true"}, body=big, expect=200,
                        label="dry run, a referred friend's first purchase")
        if isinstance(dry.json, dict) and not {"referrer_award", "tier_change"} <= set(dry.json):
            self.fail("POST /v1/events (dry run, a referred friend's first purchase)",
                      f"expected referrer_award and tier_change: {short(dry.json)}")
        bought = self.call("POST", events, body=big, headers=self.key(), expect=201,
                           label="a referred friend's first purchase")
        if isinstance(bought.json, dict) and "tier_change" not in bought.json:
            self.fail("POST /v1/events (a referred friend's first purchase)",
                      f"no tier_change: {short(bought.json)}")

        # Tasks: a task rule, its completion (paid once), the member's list.
        task = "checker-profile"
        self.call("POST", "/v1/rules", expect=201, label="a task rule", body={
            "id": "checker-task", "name": "Complete your profile", "event_type": "task",
            "conditions": [{"field": "task", "op": "eq", "value": task}],
            "effect": {"kind": "fixed", "points": 50},
            "caps": {"per_member": [{"period": "lifetime", "times": 1}]}})
        listed = self.call("GET", "/v1/tasks", expect=200)
        tasks = [t.get("task") for t in listed.json.get("data") or []] \
            if isinstance(listed.json, dict) else [task]
        if task not in tasks:
            self.fail("GET /v1/tasks", f"{task} is not listed: {short(listed.json)}")
        if member:
            self.check_completed(self.call("GET", "/v1/me/tasks", auth=member, expect=200), task, 0)
        completions = "/v1/members/{member_id}/tasks/{task}/completions"
        params = {"member_id": first_id, "task": task}
        key = self.key()
        completed = self.call("POST", completions, params, headers=key, expect=201)
        if isinstance(completed.json, dict) and not completed.json.get("points"):
            self.fail(f"POST {completions}",
                      f"the first completion earned nothing: {short(completed.json)}")
        self.idempotency("POST", completions, params, NO_BODY, completed, key, changed={})
        repeated = self.call("POST", completions, params, headers=self.key(), expect=201,
                             label="a second time")
        if isinstance(repeated.json, dict) and repeated.json.get("points") != 0:
            self.fail(f"POST {completions} (a second time)", f"paid twice: {short(repeated.json)}")
        self.call("POST", completions, dict(params, member_id=999_999_999), headers=self.key(),
                  expect=404, problem="unknown_member", label="unknown member")
        reply = self.call("POST", completions, dict(params, task="t" * 65), headers=self.key(),
                          expect=422, problem="validation_failed", label="task name too long")
        self.expect_field(f"POST {completions} (task name too long)", reply, "task")
        self.bad_bodies("POST", completions, params, {})
        if member:
            self.check_completed(self.call("GET", "/v1/me/tasks", auth=member, expect=200,
                                           label="completed"), task, 1)
        ids["task"] = task

    def check_checkins(self, reply: Reply, today: bool, streak: int) -> None:
        if isinstance(reply.json, dict) and (reply.json.get("checked_in_today") is not today
                                             or reply.json.get("streak") != streak):
            self.fail("GET .../checkins", f"expected checked_in_today {today} and streak {streak}: "
                                          f"{short(reply.json)}")

    def check_completed(self, reply: Reply, task: str, times: int) -> None:
        if not isinstance(reply.json, dict):
            return
        found = [t.get("completed") for t in reply.json.get("data") or [] if t.get("task") == task]
        if found != [times]:
            self.fail("GET /v1/me/tasks", f"{task} completed {found}, expected [{times}]")

    def walk_simulations(self) -> None:
        simulations = "/v1/simulations"
        body = self.example("POST", simulations)
        now = datetime.now(timezone.utc)
        body.update(**{"from": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "until": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        report = self.call("POST", simulations, body=body, expect=200)
        if isinstance(report.json, dict) and not report.json.get("events"):
            self.fail(f"POST {simulations}", f"no events replayed: {short(report.json)}")
        self.call("POST", simulations, body={"from": body["from"], "until": body["until"]},
                  auth="analyst", expect=200, label="the program in force, as analyst")
        reply = self.call("POST", simulations, body=dict(body, until=body["from"]), expect=422,
                          problem="validation_failed", label="until not after from")
        self.expect_field("POST /v1/simulations (until not after from)", reply, "until")
        misspelt = copy.deepcopy(body)
        misspelt["draft"]["rules"][0]["conditions"] = [{"field": "amout", "op": "gte", "value": 1}]
        reply = self.call("POST", simulations, body=misspelt, expect=422, problem="validation_failed",
                          label="draft with an unknown condition field")
        self.expect_field("POST /v1/simulations (draft with an unknown condition field)", reply,
                          "draft.rules[0].conditions[0].field")
        self.bad_bodies("POST", simulations, {}, body)

    def walk_credentials_and_roles(self, ids: dict[str, Any]) -> None:
        """401 without credentials; 403 for every role outside x-roles; 200 for allowed reads."""
        params = {name: ids.get(name) for name in ("member_id", "order_id", "key_id", "operator_id",
                                                   "rule_id", "campaign_id", "task")}
        member = ids.get("member_token")
        for (method, path), operation in sorted(self.spec.operations.items()):
            roles = set(operation.get("x-roles", []))
            if "public" in roles:
                continue
            body = self.example(method, path)
            if isinstance(body, dict) and "member_id" in body:
                body["member_id"] = ids["member_id"]
            extra: dict[str, Any] = {} if body is None else {"body": body}
            used = {name: value for name, value in params.items() if "{" + name + "}" in path}
            self.call(method, path, used, auth=None, headers=self.key(), expect=401,
                      problem="unauthenticated", label="no credentials", **extra)
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            if schemes == {"operatorSession"} or schemes == {"operatorSession", "csrfToken"}:
                continue  # cookie-only: walked in walk_operators
            callers = {role: role for role in API_KEY_ROLES if role in self.keys}
            if member:
                callers["member"] = f"bearer:{member}"
            for role, auth in sorted(callers.items()):
                if role == "admin" and "member" not in roles:
                    continue  # the walk above
                if role not in roles:
                    self.call(method, path, used, auth=auth, headers=self.key(), expect=403,
                              problem="forbidden", label=f"role {role}", **extra)
                elif method == "GET" and role != "member":
                    self.call(method, path, used, auth=auth, expect=200, label=f"role {role}")


# ---- Running it -----------------------------------------------------------------------------------


def create_key(binary: str, data_dir: str, name: str, role: str) -> str:
    result = subprocess.run([binary, "apikey", "create", "--data-dir", data_dir, "--name", name,
                             "--role", role], capture_output=True, text=True, timeout=120,
                            check=False)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"apikey create --role {role} exited {result.returncode}: "
                           f"{short(result.stdout + result.stderr)}")
    return lines[-1]


def run_server_walk(spec: Spec, binary: str, verbose: bool, keep: bool) -> tuple[list[str], int, int]:
    data_dir = tempfile.mkdtemp(prefix="pointsmall-openapi-")
    server = None
    log_path = os.path.join(data_dir, "server.log")
    try:
        keys = {"admin": create_key(binary, data_dir, "checker", "admin")}
        for role in ("merchant", "operator", "analyst"):
            keys[role] = create_key(binary, data_dir, f"checker-{role}", role)
        port_file = os.path.join(data_dir, "port")
        with open(log_path, "wb") as log:
            server = subprocess.Popen([binary, "serve", "--data-dir", data_dir, "--listen",
                                       "127.0.0.1:0", "--port-file", port_file],
                                      stdout=log, stderr=subprocess.STDOUT)
        port = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and port is None:
            if server.poll() is not None:
                break
            try:
                with open(port_file, encoding="ascii") as file:
                    text = file.read().strip()
                port = int(text) if text.isdigit() else None
            except FileNotFoundError:
                pass
            if port is None:
                time.sleep(0.05)
        if port is None:
            with open(log_path, encoding="utf-8", errors="replace") as file:
                tail = file.read()[-2000:]
            state = f"exited {server.returncode}" if server.poll() is not None else "no port in 20 s"
            return [f"serve: {state}; log: {tail}"], 0, 0
        walk = Walk(spec, port, keys, verbose)
        try:
            walk.run()
        except RuntimeError as error:
            walk.fail("walk", str(error))
        if server.poll() is not None:
            walk.fail("serve", f"the server exited {server.returncode} during the walk")
        return walk.failures, len(walk.checked), walk.validated
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        return [f"setup: {error}"], 0, 0
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="the pointsmall program")
    parser.add_argument("--spec", default=str(DEFAULT_SPEC), help="the OpenAPI document")
    parser.add_argument("--spec-only", action="store_true", help="check the document alone")
    parser.add_argument("--verbose", action="store_true", help="print every request")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    if not args.spec_only and not args.binary:
        parser.error("--binary is required (or --spec-only)")

    try:
        spec = Spec(Path(args.spec))
    except (OSError, yaml.YAMLError) as error:
        print(f"openapi: cannot read {args.spec}: {error}")
        return 2
    problems = [f"document: {problem}" for problem in check_document(spec) + check_problem_table(spec)]
    for problem in problems:
        print(f"FAIL {problem}")
    if args.spec_only:
        print(f"openapi: document with {len(spec.operations)} operations, "
              f"{len(problems)} problems")
        return 1 if problems else 0

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"openapi: {binary} is not an executable")
        return 2
    for problem in check_routes(spec, binary):
        print(f"FAIL {problem}")
        problems.append(problem)
    failures, operations, validated = run_server_walk(spec, binary, args.verbose, args.keep)
    for failure in failures:
        if failure.startswith(("serve:", "setup:")):
            print(f"FAIL {failure}")
    problems += failures
    print(f"openapi: {operations} operations checked, {validated} responses validated"
          + (f", {len(problems)} differences" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
