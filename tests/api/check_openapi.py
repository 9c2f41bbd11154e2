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
   event older than the accepted lateness, dry runs. The mall's too: items and coupon templates
   (versions, retiring), redemptions of each kind of item taken through their steps and refused
   (out of stock, limits, points, tiers, sale windows, order states), members' own orders, and
   coupons issued, imported from a CSV pool, validated, redeemed (twice), released and listed.

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
            # A JSON object, or (the coupon pool import) one text/csv file.
            content = body.get("content") or {}
            media_type = "application/json" if list(content) != ["text/csv"] else "text/csv"
            media = content.get(media_type)
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
            if media_type == "text/csv":
                if spec.resolve(media["schema"]).get("type") != "string":
                    problems.append(f"{where}: a text/csv body's schema must be a string")
            elif spec.resolve(media["schema"]).get("additionalProperties") is not False:
                problems.append(f"{where}: request schema must set additionalProperties: false")
            needed = ("400", "415", "422") if media_type == "application/json" else ("415", "422")
            for status in needed:
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
        self.mall_times: dict[str, str] = {}  # sale and validity windows around now (walk_mall)

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
        self.walk_mall(ids)
        self.walk_reports(ids)
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

    def walk_reports(self, ids: dict[str, Any]) -> None:
        """The console's overview report, member search and a member's lots."""
        overview = "/v1/reports/overview"
        report = self.call("GET", overview, auth="analyst", expect=200, label="the last 30 days")
        if isinstance(report.json, dict) and len(report.json.get("days") or []) != 30:
            self.fail(f"GET {overview}", f"expected 30 days by default: {short(report.json)}")
        today = datetime.now(timezone.utc).date()
        self.call("GET", overview, query={"from": str(today - timedelta(days=398)),
                                          "until": str(today + timedelta(days=1))},
                  expect=200, label="400 days")
        reply = self.call("GET", overview, query={"from": "2026-05-02", "until": "2026-05-01"},
                          expect=422, problem="validation_failed", label="until before from")
        self.expect_field(f"GET {overview} (until before from)", reply, "from")
        reply = self.call("GET", overview, query={"until": "2026-02-30"}, expect=422,
                          problem="validation_failed", label="not a day")
        self.expect_field(f"GET {overview} (not a day)", reply, "until")

        members = "/v1/members"
        found = self.call("GET", members, query={"q": "CUST-10"}, auth="operator", expect=200,
                          label="search")
        if isinstance(found.json, dict) and not found.json.get("data"):
            self.fail(f"GET {members} (search)", "found no member by an external id's prefix")
        reply = self.call("GET", members, query={"q": "cust", "external_id": "cust-1001"},
                          expect=422, problem="validation_failed", label="q with external_id")
        self.expect_field(f"GET {members} (q with external_id)", reply, "q")

        lots = "/v1/members/{member_id}/lots"
        params = {"member_id": ids["member_id"]}
        self.call("GET", lots, params, auth="analyst", expect=200, label="live")
        every = self.call("GET", lots, params, query={"state": "all", "limit": 1}, expect=200,
                          label="all, one a page")
        if isinstance(every.json, dict) and every.json.get("next_cursor"):
            self.call("GET", lots, params, query={"state": "all", "cursor": every.json["next_cursor"]},
                      expect=200, label="next page")
        self.call("GET", lots, params, query={"state": "dead"}, expect=422,
                  problem="validation_failed", label="unknown state")
        self.call("GET", lots, {"member_id": 999999}, expect=404, problem="unknown_member",
                  label="unknown member")

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

    # ---- The points mall

    def walk_mall(self, ids: dict[str, Any]) -> None:
        """Coupon templates and items (versions, stale versions, refusals naming the field,
        retiring), the catalog for the shop and for members, redemptions of every kind of item
        and their refusals, orders taken through their steps, members' own orders, and coupons:
        issues, pool imports, the checkout's validate, redeem and release, and wallets. Runs after
        walk_earning: the program has tiers (the walk's first member is gold)."""
        now = datetime.now(timezone.utc)
        self.mall_times = {
            "past_from": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "past_until": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "future_from": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "future_until": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.walk_coupon_templates(ids)
        self.walk_items(ids)
        first, first_auth = self.mall_member("checker-mall-1", 5000)
        second, second_auth = self.mall_member("checker-mall-2", 5000)
        self.walk_member_catalog(ids, first_auth)
        codes = self.walk_redemptions(ids, first, second)
        self.walk_my_redemptions(ids, first, first_auth, second)
        self.walk_checkout(ids, first, second, codes)
        self.walk_coupon_issues_and_pools(ids, first, second)
        self.walk_wallets(ids, first, first_auth)
        # A template a coupon item in force issues cannot be retired.
        reply = self.call("DELETE", "/v1/coupon-templates/{template_id}",
                          {"template_id": ids["template_id"]}, expect=422,
                          problem="validation_failed", label="issued by a coupon item")
        self.expect_field("DELETE /v1/coupon-templates/{template_id} (issued by a coupon item)",
                          reply, "id")

    def mall_member(self, external_id: str, points: int) -> tuple[int, str | None]:
        """A new member with `points` and a session (its bearer auth, or None)."""
        created = self.call("POST", "/v1/members", body={"external_id": external_id}, expect=201,
                            label="a member for the mall walk")
        member_id = created.json.get("id") if isinstance(created.json, dict) else None
        if not isinstance(member_id, int):
            raise RuntimeError("cannot walk the mall without members: POST /v1/members failed")
        params = {"member_id": member_id}
        self.call("POST", "/v1/members/{member_id}/adjustments", params, headers=self.key(),
                  body={"points": points, "reason": "points to redeem in the mall walk"},
                  expect=201, label="points for the mall walk")
        session = self.call("POST", "/v1/members/{member_id}/sessions", params, expect=201,
                            label="for the mall walk")
        token = session.json.get("token") if isinstance(session.json, dict) else None
        return member_id, (f"bearer:{token}" if token else None)

    def walk_coupon_templates(self, ids: dict[str, Any]) -> None:
        templates = "/v1/coupon-templates"
        one = "/v1/coupon-templates/{template_id}"
        versions = one + "/versions"
        self.call("GET", templates, expect=200, label="none yet")
        template = self.example("POST", templates)
        self.check_version(f"POST {templates}",
                           self.call("POST", templates, body=template, expect=201), 1)
        self.call("POST", templates, body=template, expect=409, problem="already_exists",
                  label="same id")
        self.bad_bodies("POST", templates, {}, template)
        two_currencies = dict(template, id="checker-two-currencies",
                              min_spend={"amount": 2000, "currency": "EUR"})
        reply = self.call("POST", templates, body=two_currencies, expect=422,
                          problem="validation_failed", label="amounts in two currencies")
        self.expect_field(f"POST {templates} (amounts in two currencies)", reply,
                          "min_spend.currency")
        both = dict(template, id="checker-both-windows",
                    validity={"days_after_issue": 30, "from": self.mall_times["past_from"],
                              "until": self.mall_times["future_until"]})
        reply = self.call("POST", templates, body=both, expect=422, problem="validation_failed",
                          label="validity with a window and days")
        self.expect_field(f"POST {templates} (validity with a window and days)", reply, "validity")

        params = {"template_id": template["id"]}
        unknown = {"template_id": "checker-no-such-template"}
        self.call("GET", one, params, expect=200)
        self.call("GET", one, unknown, expect=404, problem="not_found", label="unknown template")
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
                  label="unknown template")
        self.bad_bodies("PUT", one, params, unversioned)
        self.check_versions(f"GET {versions}", self.call("GET", versions, params, expect=200),
                            [replace["version"] + 1, replace["version"]])
        self.call("GET", versions, unknown, expect=404, problem="not_found", label="never saved")

        # The walk's other templates: stackable percent off kitchen items, free shipping, and
        # fixed windows that are over or have not begun.
        times = self.mall_times
        others = [
            {"id": "checker-kitchen-10", "name": "10% off kitchen", "stackable": True,
             "benefit": {"kind": "percent", "percent": 10,
                         "max_off": {"amount": 1000, "currency": "USD"}},
             "scope": {"categories": ["kitchen"]}, "validity": {"days_after_issue": 30}},
            {"id": "checker-free-shipping", "name": "Free shipping",
             "benefit": {"kind": "free_shipping"}, "validity": {"days_after_issue": 7}},
            {"id": "checker-expired", "name": "Over", "benefit": {"kind": "free_shipping"},
             "validity": {"from": times["past_from"], "until": times["past_until"]}},
            {"id": "checker-not-yet", "name": "Not yet", "benefit": {"kind": "free_shipping"},
             "validity": {"from": times["future_from"], "until": times["future_until"]}},
        ]
        for other in others:
            self.call("POST", templates, body=other, expect=201, label=other["id"])
        listed = self.call("GET", templates, expect=200)
        if isinstance(listed.json, dict):
            found = sorted(t.get("id") for t in listed.json.get("data") or [])
            wanted = sorted([template["id"]] + [other["id"] for other in others])
            if found != wanted:
                self.fail(f"GET {templates}", f"templates {found}, expected {wanted}")

        gone = {"template_id": "checker-retired-template"}
        self.call("POST", templates, body=dict(others[1], id=gone["template_id"]), expect=201,
                  label="a template to retire")
        self.call("DELETE", one, gone, expect=204)
        self.call("DELETE", one, gone, expect=404, problem="not_found", label="retired already")
        self.call("GET", one, gone, expect=404, problem="not_found", label="retired")
        self.check_versions(f"GET {versions} (retired)",
                            self.call("GET", versions, gone, expect=200, label="retired"), [2, 1],
                            retired=True)
        ids["template_id"] = template["id"]

    def walk_items(self, ids: dict[str, Any]) -> None:
        items = "/v1/items"
        one = "/v1/items/{item_id}"
        versions = one + "/versions"
        self.call("GET", items, expect=200, label="none yet")
        item = self.example("POST", items)
        self.check_version(f"POST {items}", self.call("POST", items, body=item, expect=201), 1)
        self.call("POST", items, body=item, expect=409, problem="already_exists", label="same id")
        self.bad_bodies("POST", items, {}, item)
        reply = self.call("POST", items, expect=422, problem="validation_failed",
                          label="a template not in force",
                          body={"id": "checker-bad-coupon", "name": "Bad", "kind": "coupon",
                                "points_price": 10, "coupon_template": "checker-no-such"})
        self.expect_field(f"POST {items} (a template not in force)", reply, "coupon_template")
        reply = self.call("POST", items, expect=422, problem="validation_failed",
                          label="an unknown tier",
                          body={"id": "checker-bad-tier", "name": "Bad", "kind": "service",
                                "points_price": 10, "eligible_tiers": ["platinum"]})
        self.expect_field(f"POST {items} (an unknown tier)", reply, "eligible_tiers[0]")
        reply = self.call("POST", items, expect=422, problem="validation_failed",
                          label="a tier on a physical item",
                          body={"id": "checker-bad-kind", "name": "Bad", "kind": "physical",
                                "points_price": 10, "tier": "silver"})
        self.expect_field(f"POST {items} (a tier on a physical item)", reply, "tier")

        params = {"item_id": item["id"]}
        unknown = {"item_id": "checker-no-such-item"}
        self.call("GET", one, unknown, expect=404, problem="unknown_item", label="unknown item")
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
                  label="unknown item")
        self.bad_bodies("PUT", one, params, unversioned)
        self.check_versions(f"GET {versions}", self.call("GET", versions, params, expect=200),
                            [replace["version"] + 1, replace["version"]])
        self.call("GET", versions, unknown, expect=404, problem="not_found", label="never saved")
        ids["item_id"] = item["id"]

        # The walk's other items, one for each way to redeem and each refusal.
        times = self.mall_times
        others = [
            {"id": "checker-lamp", "name": "Desk lamp", "kind": "physical", "points_price": 300,
             "stock": 1, "limits": {"per_member": {"units": 1, "period": "lifetime"}}},
            {"id": "checker-voucher", "name": "$5 voucher", "kind": "coupon", "points_price": 100,
             "coupon_template": ids["template_id"]},
            {"id": "checker-headphones", "name": "Headphones", "kind": "physical",
             "points_price": 1000, "cash_price": {"amount": 1999, "currency": "USD"}},
            {"id": "checker-shipping-pass", "name": "Free shipping pass", "kind": "coupon",
             "points_price": 50, "cash_price": {"amount": 99, "currency": "USD"},
             "coupon_template": "checker-free-shipping"},
            {"id": "checker-massage", "name": "Massage", "kind": "service", "points_price": 200,
             "category": "wellness"},
            {"id": "checker-first-one", "name": "First one wins", "kind": "service",
             "points_price": 100, "limits": {"global": {"units": 1, "period": "lifetime"}}},
            {"id": "checker-silver", "name": "Silver for a year", "kind": "tier_upgrade",
             "points_price": 50, "tier": "silver"},
            {"id": "checker-gold-lounge", "name": "Gold lounge", "kind": "service",
             "points_price": 10, "tags": ["gold-only"]},
            {"id": "checker-inactive", "name": "Not offered", "kind": "service",
             "points_price": 10, "active": False},
            {"id": "checker-not-yet", "name": "Coming soon", "kind": "service", "points_price": 10,
             "window": {"from": times["future_from"]}},
            {"id": "checker-over", "name": "Sold last week", "kind": "service", "points_price": 10,
             "window": {"from": times["past_from"], "until": times["past_until"]}},
            {"id": "checker-yacht", "name": "A yacht", "kind": "service",
             "points_price": 1_000_000_000},
        ]
        for other in others:
            self.call("POST", items, body=other, expect=201, label=other["id"])
        listed = self.call("GET", items, expect=200)
        data = listed.json.get("data") or [] if isinstance(listed.json, dict) else []
        active = sorted(i["id"] for i in [item] + others if i.get("active", True))
        if isinstance(listed.json, dict) and sorted(i.get("id") for i in data) != active:
            self.fail(f"GET {items}", f"items {[i.get('id') for i in data]}, expected {active}")
        mug = [i for i in data if i.get("id") == item["id"]]
        if mug and (mug[0].get("taken") != 0 or mug[0].get("stock_left") != replace["stock"]):
            self.fail(f"GET {items}", f"expected taken 0, stock_left {replace['stock']}: "
                                      f"{short(mug[0])}")
        everything = self.call("GET", items, query={"include_inactive": "true"}, expect=200,
                               label="include_inactive")
        if isinstance(everything.json, dict) and "checker-inactive" not in [
                i.get("id") for i in everything.json.get("data") or []]:
            self.fail(f"GET {items} (include_inactive)", "the inactive item is not listed")
        coupons = self.call("GET", items, query={"kind": "coupon", "affordable_with": 60},
                            expect=200, label="coupon items for 60 points")
        if isinstance(coupons.json, dict) and [i.get("id") for i in coupons.json.get("data") or []] \
                != ["checker-shipping-pass"]:
            self.fail(f"GET {items} (coupon items for 60 points)",
                      f"expected checker-shipping-pass alone: {short(coupons.json)}")
        self.call("GET", items, query={"q": "MASSAGE", "category": "wellness"}, expect=200,
                  label="search")
        reply = self.call("GET", items, query={"kind": "gift"}, expect=422,
                          problem="validation_failed", label="unknown kind")
        self.expect_field(f"GET {items} (unknown kind)", reply, "kind")
        reply = self.call("GET", items, query={"affordable_with": "-1"}, expect=422,
                          problem="validation_failed", label="affordable_with -1")
        self.expect_field(f"GET {items} (affordable_with -1)", reply, "affordable_with")

        gone = {"item_id": "checker-retired-item"}
        self.call("POST", items, body=dict(others[4], id=gone["item_id"]), expect=201,
                  label="an item to retire")
        self.call("DELETE", one, gone, expect=204)
        self.call("DELETE", one, gone, expect=404, problem="not_found", label="retired already")
        self.call("GET", one, gone, expect=404, problem="unknown_item", label="retired")
        self.check_versions(f"GET {versions} (retired)",
                            self.call("GET", versions, gone, expect=200, label="retired"), [2, 1],
                            retired=True)

    def walk_member_catalog(self, ids: dict[str, Any], member: str | None) -> None:
        """The catalog as a new member (tier member) and as the walk's gold member see it."""
        mine = "/v1/me/items"
        one = "/v1/me/items/{item_id}"
        if member:
            listed = self.call("GET", mine, auth=member, expect=200)
            seen = [i.get("id") for i in listed.json.get("data") or []] \
                if isinstance(listed.json, dict) else []
            for hidden in ("checker-gold-lounge", "checker-inactive"):
                if hidden in seen:
                    self.fail(f"GET {mine}", f"{hidden} is listed for a member of the first tier")
            cheap = self.call("GET", mine, query={"affordable": "true", "kind": "service"},
                              auth=member, expect=200, label="affordable services")
            if isinstance(cheap.json, dict) and "checker-yacht" in [
                    i.get("id") for i in cheap.json.get("data") or []]:
                self.fail(f"GET {mine} (affordable services)", "the yacht is affordable")
            reply = self.call("GET", mine, query={"affordable": "maybe"}, auth=member, expect=422,
                              problem="validation_failed", label="affordable=maybe")
            self.expect_field(f"GET {mine} (affordable=maybe)", reply, "affordable")
            self.call("GET", one, {"item_id": ids["item_id"]}, auth=member, expect=200)
            self.call("GET", one, {"item_id": "checker-gold-lounge"}, auth=member, expect=404,
                      problem="unknown_item", label="only for gold members")
            self.call("GET", one, {"item_id": "checker-no-such-item"}, auth=member, expect=404,
                      problem="unknown_item", label="unknown item")
        gold = f"bearer:{ids['member_token']}" if ids.get("member_token") else None
        if gold:
            # Gold has a 10% redemption discount (the PUT /v1/tiers example), rounded up.
            price = self.example("PUT", "/v1/items/{item_id}")["points_price"]
            reply = self.call("GET", one, {"item_id": ids["item_id"]}, auth=gold, expect=200,
                              label="a gold member")
            if isinstance(reply.json, dict) and reply.json.get("unit_points") != -(-price * 9 // 10):
                self.fail(f"GET {one} (a gold member)",
                          f"unit_points {reply.json.get('unit_points')}, expected 90% of {price}")
            self.call("GET", one, {"item_id": "checker-gold-lounge"}, auth=gold, expect=200,
                      label="gold-only, a gold member")

    def redeem(self, member_id: int, item_id: str, *, expect: int, problem: str | None = None,
               label: str = "", quantity: int | None = None, address: bool = False) -> Reply:
        body: dict[str, Any] = {"member_id": member_id, "item_id": item_id}
        if quantity is not None:
            body["quantity"] = quantity
        if address:
            body["shipping_address"] = self.example("POST", "/v1/redemptions")["shipping_address"]
        return self.call("POST", "/v1/redemptions", body=body, headers=self.key(), expect=expect,
                         problem=problem, label=label or item_id)

    def step(self, order_id: str | None, step: str, body: Any = NO_BODY, *, expect: int = 200,
             problem: str | None = None, state: str | None = None, label: str = "",
             auth: str | None = "admin", headers: dict[str, str] | None = None) -> Reply:
        """Takes a step of an order (through /v1/me/... for a member's cancel) and checks the state
        it ends in."""
        path = ("/v1/me/redemptions/{order_id}/" if auth and auth.startswith("bearer:")
                else "/v1/redemptions/{order_id}/") + step
        reply = self.call("POST", path, {"order_id": order_id or "RNOORDER"}, body=body,
                          headers=headers or self.key(), expect=expect, problem=problem,
                          auth=auth, label=label)
        if state:
            self.expect_state(f"POST {path}{' (' + label + ')' if label else ''}", reply, state)
        return reply

    def expect_state(self, where: str, reply: Reply, state: str) -> None:
        if reply.status in (200, 201) and isinstance(reply.json, dict) \
                and reply.json.get("state") != state:
            self.fail(where, f"state {reply.json.get('state')!r}, expected {state}")

    @staticmethod
    def order_id(reply: Reply) -> str | None:
        return reply.json.get("id") if isinstance(reply.json, dict) else None

    def walk_redemptions(self, ids: dict[str, Any], first: int, second: int) -> list[str]:
        """Redemptions on a member's behalf and their steps; answers the coupon codes the first
        member got."""
        redemptions = "/v1/redemptions"
        body = self.example("POST", redemptions)
        body.update(member_id=first, item_id=ids["item_id"])
        key = self.key()
        mug = self.call("POST", redemptions, body=body, headers=key, expect=201,
                        label="a physical item")
        self.expect_state(f"POST {redemptions}", mug, "reserved")
        self.idempotency("POST", redemptions, {}, body, mug, key, dict(body, quantity=2))
        mug_id = self.order_id(mug)
        self.redeem(first, ids["item_id"], quantity=1, address=True, expect=409,
                    problem="limit_per_member", label="the same member again the same day")
        self.redeem(first, ids["item_id"], quantity=3, address=True, expect=422,
                    problem="limit_per_order", label="more than per_order")
        self.bad_bodies("POST", redemptions, {}, body)
        reply = self.redeem(first, ids["item_id"], expect=422, problem="validation_failed",
                            label="physical without an address")
        self.expect_field(f"POST {redemptions} (physical without an address)", reply,
                          "shipping_address")
        reply = self.redeem(first, "checker-massage", address=True, expect=422,
                            problem="validation_failed", label="a service with an address")
        self.expect_field(f"POST {redemptions} (a service with an address)", reply,
                          "shipping_address")
        reply = self.redeem(first, "checker-voucher", quantity=21, expect=422,
                            problem="validation_failed", label="21 coupons")
        self.expect_field(f"POST {redemptions} (21 coupons)", reply, "quantity")
        self.redeem(first, "checker-no-such-item", expect=404, problem="unknown_item",
                    label="unknown item")
        self.redeem(999_999_999, "checker-massage", expect=404, problem="unknown_member",
                    label="unknown member")
        self.redeem(first, "checker-yacht", expect=422, problem="insufficient_points",
                    label="more points than the member has")
        for item_id, refusal in (("checker-inactive", "item_unavailable"),
                                 ("checker-gold-lounge", "item_not_eligible"),
                                 ("checker-not-yet", "item_not_yet_available"),
                                 ("checker-over", "item_no_longer_available")):
            self.redeem(first, item_id, expect=409, problem=refusal, label=refusal)

        # Stock 1: the first member gets it, the second is refused.
        lamp = self.redeem(first, "checker-lamp", address=True, expect=201, label="the last unit")
        self.redeem(second, "checker-lamp", address=True, expect=409, problem="out_of_stock",
                    label="sold out")
        first_one = self.redeem(first, "checker-first-one", expect=201, label="global limit 1")
        self.redeem(second, "checker-first-one", expect=409, problem="limit_global",
                    label="global limit reached")
        frozen = {"member_id": second}
        self.call("POST", "/v1/members/{member_id}/freeze", frozen, headers=self.key(),
                  body={"reason": "mall walk"}, expect=200, label="for the mall walk")
        self.redeem(second, "checker-massage", expect=409, problem="account_frozen",
                    label="frozen account")
        self.call("POST", "/v1/members/{member_id}/unfreeze", frozen, headers=self.key(),
                  body={"reason": "mall walk"}, expect=200, label="for the mall walk")

        # Delivered at once: coupons (within the template's per-member cap of 3), a tier.
        vouchers = self.redeem(first, "checker-voucher", quantity=2, expect=201,
                               label="two coupons")
        self.expect_state(f"POST {redemptions} (two coupons)", vouchers, "delivered")
        codes = vouchers.json.get("coupon_codes") or [] if isinstance(vouchers.json, dict) else []
        if isinstance(vouchers.json, dict) and len(codes) != 2:
            self.fail(f"POST {redemptions} (two coupons)",
                      f"expected 2 codes: {short(vouchers.json)}")
        self.redeem(first, "checker-voucher", quantity=2, expect=409,
                    problem="coupon_limit_reached", label="beyond the template's cap")
        upgrade = self.redeem(first, "checker-silver", expect=201, label="a tier upgrade")
        self.expect_state(f"POST {redemptions} (a tier upgrade)", upgrade, "delivered")
        if isinstance(upgrade.json, dict) and upgrade.json.get("tier") != "silver":
            self.fail(f"POST {redemptions} (a tier upgrade)",
                      f"tier is not silver: {short(upgrade.json)}")
        self.redeem(first, "checker-silver", expect=409, problem="tier_not_higher",
                    label="the same tier again")

        # A physical order through every step.
        order = {"order_id": mug_id}
        key = self.key()
        confirmed = self.step(mug_id, "confirm", headers=key, state="confirmed")
        self.idempotency("POST", "/v1/redemptions/{order_id}/confirm", order, NO_BODY, confirmed,
                         key, {"note": "changed"})
        self.step(mug_id, "confirm", expect=409, problem="order_state_conflict",
                  label="confirmed already")
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/fulfil", order,
                        self.example("POST", "/v1/redemptions/{order_id}/fulfil"))
        self.step(mug_id, "fulfil", self.example("POST", "/v1/redemptions/{order_id}/fulfil"),
                  state="fulfilled")
        reply = self.step(mug_id, "ship", {}, expect=422, problem="validation_failed",
                          label="no carrier")
        self.expect_field("POST /v1/redemptions/{order_id}/ship (no carrier)", reply, "carrier")
        ship = self.example("POST", "/v1/redemptions/{order_id}/ship")
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/ship", order, ship)
        shipped = self.step(mug_id, "ship", ship, state="shipped")
        if isinstance(shipped.json, dict) and shipped.json.get("tracking_number") != \
                ship["tracking_number"]:
            self.fail("POST /v1/redemptions/{order_id}/ship",
                      f"no tracking number: {short(shipped.json)}")
        self.step(mug_id, "deliver", self.example("POST", "/v1/redemptions/{order_id}/deliver"),
                  state="delivered")
        self.step(mug_id, "fail", {"reason": "too late"}, expect=409,
                  problem="order_state_conflict", label="delivered already")
        got = self.call("GET", "/v1/redemptions/{order_id}", order, expect=200)
        if isinstance(got.json, dict) and [h.get("state") for h in got.json.get("history") or []] \
                != ["reserved", "confirmed", "fulfilled", "shipped", "delivered"]:
            self.fail("GET /v1/redemptions/{order_id}", f"unexpected history: {short(got.json)}")
        self.call("GET", "/v1/redemptions/{order_id}", {"order_id": "RNOORDER"}, expect=404,
                  problem="not_found", label="unknown order")
        for step in ("payment", "confirm", "fulfil", "ship", "deliver", "cancel", "fail"):
            path = "/v1/redemptions/{order_id}/" + step
            body = self.example("POST", path)
            self.step("RNOORDER", step, body, expect=404, problem="not_found", label="unknown order")
            self.call("POST", path, order, body=body, expect=428, problem="idempotency_key_missing",
                      label="no Idempotency-Key")
        self.step(mug_id, "fulfil", expect=409, problem="order_state_conflict",
                  label="delivered already")

        # The lamp fails after it is confirmed: its unit goes back to stock.
        lamp_id = self.order_id(lamp)
        self.step(lamp_id, "confirm", state="confirmed", label="the lamp")
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/fail", {"order_id": lamp_id},
                        self.example("POST", "/v1/redemptions/{order_id}/fail"))
        self.step(lamp_id, "fail", self.example("POST", "/v1/redemptions/{order_id}/fail"),
                  state="failed", label="the lamp")
        item = self.call("GET", "/v1/items/{item_id}", {"item_id": "checker-lamp"}, expect=200,
                         label="after a failed order")
        if isinstance(item.json, dict) and item.json.get("stock_left") != 1:
            self.fail("GET /v1/items/{item_id} (after a failed order)",
                      f"the unit did not go back: {short(item.json)}")

        # A service: no shipping step.
        massage = self.redeem(second, "checker-massage", expect=201, label="a service")
        massage_id = self.order_id(massage)
        self.step(massage_id, "deliver", expect=409, problem="order_state_conflict",
                  label="not confirmed yet")
        self.step(massage_id, "confirm", NO_BODY, state="confirmed", label="a service")
        self.step(massage_id, "fulfil", state="fulfilled", label="a service")
        self.step(massage_id, "ship", {"carrier": "DHL", "tracking_number": "1"}, expect=409,
                  problem="order_state_conflict", label="a service")
        self.step(massage_id, "deliver", state="delivered", label="a service")

        # Cancelled while reserved: the global limit is free again.
        cancel = self.example("POST", "/v1/redemptions/{order_id}/cancel")
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/cancel",
                        {"order_id": self.order_id(first_one)}, cancel)
        self.step(self.order_id(first_one), "cancel", cancel, state="cancelled",
                  label="reserved")
        self.step(self.order_id(first_one), "cancel", expect=409, problem="order_state_conflict",
                  label="cancelled already")
        self.redeem(second, "checker-first-one", expect=201, label="after a cancellation")

        # Points plus cash: paid, then cancelled by the shop (the spent points go back).
        balance = "/v1/members/{member_id}/balance"
        before = self.call("GET", balance, {"member_id": first}, expect=200, label="before")
        headphones = self.redeem(first, "checker-headphones", address=True, expect=201,
                                 label="points plus cash")
        self.expect_state(f"POST {redemptions} (points plus cash)", headphones, "awaiting_payment")
        if isinstance(headphones.json, dict) and (not headphones.json.get("cash")
                                                  or not headphones.json.get("hold_expires_at")):
            self.fail(f"POST {redemptions} (points plus cash)",
                      f"expected cash and hold_expires_at: {short(headphones.json)}")
        headphones_id = self.order_id(headphones)
        self.step(headphones_id, "confirm", expect=409, problem="order_state_conflict",
                  label="not paid yet")
        payment = self.example("POST", "/v1/redemptions/{order_id}/payment")
        key = self.key()
        paid = self.step(headphones_id, "payment", payment, headers=key, state="confirmed")
        self.idempotency("POST", "/v1/redemptions/{order_id}/payment",
                         {"order_id": headphones_id}, payment, paid, key, {"note": "changed"})
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/payment",
                        {"order_id": headphones_id}, payment)
        self.step(headphones_id, "payment", expect=409, problem="order_state_conflict",
                  label="paid already")
        ids["paid_order_id"] = headphones_id
        ids["redemption_id"] = mug_id
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/deliver", order,
                        self.example("POST", "/v1/redemptions/{order_id}/deliver"))
        self.bad_bodies("POST", "/v1/redemptions/{order_id}/confirm", order,
                        self.example("POST", "/v1/redemptions/{order_id}/confirm"))

        # A coupon item with a cash part is delivered when paid.
        shipping_pass = self.redeem(second, "checker-shipping-pass", expect=201,
                                    label="a coupon item with a cash part")
        self.expect_state(f"POST {redemptions} (a coupon item with a cash part)", shipping_pass,
                          "awaiting_payment")
        paid = self.step(self.order_id(shipping_pass), "payment", state="delivered",
                         label="a coupon item")
        if isinstance(paid.json, dict) and len(paid.json.get("coupon_codes") or []) != 1:
            self.fail("POST /v1/redemptions/{order_id}/payment (a coupon item)",
                      f"expected one coupon code: {short(paid.json)}")

        # A tier upgrade with a cash part, paid after the member reached the tier meanwhile: the
        # payment is taken and the order delivered, the member keeps the tier (a note says so);
        # a new order for the tier the member is in is refused.
        self.call("POST", "/v1/items", expect=201, label="a tier upgrade with a cash part",
                  body={"id": "checker-gold-pass", "name": "Gold pass", "kind": "tier_upgrade",
                        "points_price": 10, "cash_price": {"amount": 500, "currency": "USD"},
                        "tier": "gold"})
        gold_pass = self.redeem(second, "checker-gold-pass", expect=201,
                                label="a tier upgrade with a cash part")
        self.call("POST", "/v1/members/{member_id}/tier", {"member_id": second},
                  body={"tier": "gold", "reason": "mall walk"}, headers=self.key(), expect=200,
                  label="before paying for a gold pass")
        self.step(self.order_id(gold_pass), "payment", state="delivered",
                  label="the member is gold already")
        self.redeem(second, "checker-gold-pass", expect=409, problem="tier_not_higher",
                    label="a tier upgrade to the member's tier")

        listed = "/v1/redemptions"
        page = self.call("GET", listed, query={"member_id": first, "limit": 2}, expect=200,
                         label="a member's, limit 2")
        if isinstance(page.json, dict):
            if page.json.get("next_cursor"):
                self.call("GET", listed, expect=200, label="next page",
                          query={"member_id": first, "cursor": page.json["next_cursor"]})
            else:
                self.fail(f"GET {listed} (a member's, limit 2)", "expected a next_cursor")
        held = self.call("GET", listed, query={"state": "confirmed"}, expect=200, label="confirmed")
        if isinstance(held.json, dict) and headphones_id not in [
                o.get("id") for o in held.json.get("data") or []]:
            self.fail(f"GET {listed} (confirmed)", f"{headphones_id} is not listed")
        reply = self.call("GET", listed, query={"state": "lost"}, expect=422,
                          problem="validation_failed", label="unknown state")
        self.expect_field(f"GET {listed} (unknown state)", reply, "state")
        reply = self.call("GET", listed, query={"member_id": "x"}, expect=422,
                          problem="validation_failed", label="member_id x")
        self.expect_field(f"GET {listed} (member_id x)", reply, "member_id")
        after = self.call("GET", balance, {"member_id": first}, expect=200, label="after paying")
        if isinstance(before.json, dict) and isinstance(after.json, dict) and \
                after.json.get("available") != before.json.get("available") - 1000:
            self.fail(f"GET {balance} (after paying)",
                      f"available {after.json.get('available')}, expected "
                      f"{before.json.get('available')} - 1000")
        return codes

    def walk_my_redemptions(self, ids: dict[str, Any], first: int, member: str | None,
                            second: int) -> None:
        mine = "/v1/me/redemptions"
        if not member:
            self.fail(f"POST {mine}", "no member session: the member's orders are not walked")
            return
        body = dict(self.example("POST", mine), item_id="checker-massage", quantity=1)
        key = self.key()
        created = self.call("POST", mine, body=body, headers=key, auth=member, expect=201)
        self.expect_state(f"POST {mine}", created, "reserved")
        self.idempotency("POST", mine, {}, body, created, key, dict(body, quantity=2), auth=member)
        self.bad_bodies("POST", mine, {}, body, auth=member)
        reply = self.call("POST", mine, body=dict(body, member_id=second), headers=self.key(),
                          auth=member, expect=422, problem="validation_failed",
                          label="another member's id")
        self.expect_field(f"POST {mine} (another member's id)", reply, "member_id")
        self.call("POST", mine, body={"item_id": "checker-gold-lounge"}, headers=self.key(),
                  auth=member, expect=409, problem="item_not_eligible", label="gold only")
        self.call("POST", mine, body={"item_id": "checker-no-such-item"}, headers=self.key(),
                  auth=member, expect=404, problem="unknown_item", label="unknown item")
        order_id = self.order_id(created)
        one = mine + "/{order_id}"
        self.call("GET", one, {"order_id": order_id}, auth=member, expect=200)
        listed = self.call("GET", mine, query={"state": "reserved"}, auth=member, expect=200)
        if isinstance(listed.json, dict) and order_id not in [
                o.get("id") for o in listed.json.get("data") or []]:
            self.fail(f"GET {mine}", f"{order_id} is not listed")
        page = self.call("GET", mine, query={"limit": 1}, auth=member, expect=200, label="limit 1")
        if isinstance(page.json, dict) and page.json.get("next_cursor"):
            self.call("GET", mine, query={"cursor": page.json["next_cursor"]}, auth=member,
                      expect=200, label="next page")
        self.call("GET", mine, query={"state": "lost"}, auth=member, expect=422,
                  problem="validation_failed", label="unknown state")

        # Another member's order is not found; a confirmed order is the shop's to cancel.
        theirs = self.call("GET", "/v1/redemptions", query={"member_id": second, "limit": 1},
                           expect=200, label="another member's")
        other = (theirs.json.get("data") or [{}])[0].get("id") if isinstance(theirs.json, dict) \
            else None
        if other:
            self.call("GET", one, {"order_id": other}, auth=member, expect=404,
                      problem="not_found", label="another member's order")
            self.step(other, "cancel", auth=member, expect=404, problem="not_found",
                      label="another member's order")
        self.step(ids.get("paid_order_id"), "cancel", auth=member, expect=409,
                  problem="order_state_conflict", label="paid already")
        cancel = self.example("POST", one + "/cancel")
        self.bad_bodies("POST", one + "/cancel", {"order_id": order_id}, cancel, auth=member)
        key = self.key()
        cancelled = self.step(order_id, "cancel", cancel, auth=member, headers=key,
                              state="cancelled")
        self.idempotency("POST", one + "/cancel", {"order_id": order_id}, cancel, cancelled, key,
                         {"reason": "changed"}, auth=member)
        self.step(order_id, "cancel", auth=member, expect=409, problem="order_state_conflict",
                  label="cancelled already")
        # The shop cancels the paid order: its spent points go back.
        self.step(ids.get("paid_order_id"), "cancel", {"reason": "the member asked"},
                  state="cancelled", label="paid")

    def checkout_order(self, amount: int = 5000, currency: str = "USD",
                       category: str = "kitchen") -> dict[str, Any]:
        return {"currency": currency, "amount": amount, "shipping": 499,
                "items": [{"sku": "SKU-RED-MUG", "category": category, "quantity": 2,
                           "unit_price": amount // 2}]}

    def walk_checkout(self, ids: dict[str, Any], first: int, second: int,
                      codes: list[str]) -> None:
        validate = "/v1/coupons/validate"
        if len(codes) < 2:
            self.fail(f"POST {validate}", "no coupons from the voucher item: checkout not walked")
            return
        code, other_code = codes[0], codes[1]
        body = dict(self.example("POST", validate), code=code, member_id=first)
        valid = self.call("POST", validate, body=body, expect=200)
        if isinstance(valid.json, dict) and (valid.json.get("discount") or {}).get("amount") != 500:
            self.fail(f"POST {validate}", f"expected a discount of 500: {short(valid.json)}")
        typed = code.lower().replace("-", " ")
        self.call("POST", validate, body=dict(body, code=typed), expect=200,
                  label="typed in lower case with spaces")
        self.bad_bodies("POST", validate, {}, body)
        for label, changed, status, refusal in (
                ("another member", dict(body, member_id=second), 409, "coupon_not_yours"),
                ("an order in EUR", dict(body, order=self.checkout_order(currency="EUR")), 422,
                 "coupon_wrong_currency"),
                ("below the minimum spend", dict(body, order=self.checkout_order(2000)), 422,
                 "coupon_below_minimum_spend"),
                ("unknown code", dict(body, code="NOSUCHCODE"), 422, "unknown_coupon")):
            self.call("POST", validate, body=changed, expect=status, problem=refusal, label=label)
        reply = self.call("POST", validate, body=dict(body, applied_codes=["NOSUCHCODE"]),
                          expect=422, problem="validation_failed", label="unknown applied code")
        self.expect_field(f"POST {validate} (unknown applied code)", reply, "applied_codes[0]")
        reply = self.call("POST", validate, body={"code": code, "member_id": first}, expect=422,
                          problem="validation_failed", label="no order")
        self.expect_field(f"POST {validate} (no order)", reply, "order")

        redeem = "/v1/coupons/{code}/redeem"
        params = {"code": code}
        used = dict(self.example("POST", redeem), member_id=first, order_id="checker-web-1")
        key = self.key()
        redeemed = self.call("POST", redeem, params, body=used, headers=key, expect=200)
        if isinstance(redeemed.json, dict) and (redeemed.json.get("state") != "redeemed"
                                                or (redeemed.json.get("discount") or {})
                                                .get("amount") != 500):
            self.fail(f"POST {redeem}",
                      f"expected redeemed with discount 500: {short(redeemed.json)}")
        self.idempotency("POST", redeem, params, used, redeemed, key,
                         dict(used, order_id="checker-web-2"))
        self.call("POST", redeem, params, body=dict(used, order_id="checker-web-2"),
                  headers=self.key(), expect=409, problem="coupon_used", label="used twice")
        self.call("POST", redeem, {"code": other_code}, headers=self.key(), expect=409,
                  problem="coupon_not_stackable", label="with a coupon that does not stack",
                  body=dict(used, order_id="checker-web-1", applied_codes=[code]))
        self.call("POST", redeem, {"code": "NOSUCHCODE"}, body=used, headers=self.key(),
                  expect=422, problem="unknown_coupon", label="unknown code")
        self.bad_bodies("POST", redeem, {"code": other_code}, used)
        self.call("POST", validate, body=body, expect=409, problem="coupon_used",
                  label="used already")

        release = "/v1/coupons/{code}/release"
        back = self.example("POST", release)
        back["order_id"] = used["order_id"]
        self.call("POST", release, params, body={"order_id": "checker-web-9"}, headers=self.key(),
                  expect=409, problem="coupon_not_redeemed", label="another order")
        key = self.key()
        released = self.call("POST", release, params, body=back, headers=key, expect=200)
        if isinstance(released.json, dict) and (released.json.get("state") != "issued"
                                                or released.json.get("usable") is not True):
            self.fail(f"POST {release}", f"expected issued and usable: {short(released.json)}")
        self.idempotency("POST", release, params, back, released, key,
                         {"order_id": "checker-web-3"})
        self.call("POST", release, params, body=back, headers=self.key(), expect=409,
                  problem="coupon_not_redeemed", label="released already")
        self.call("POST", release, {"code": "NOSUCHCODE"}, body=back, headers=self.key(),
                  expect=422, problem="unknown_coupon", label="unknown code")
        self.bad_bodies("POST", release, params, back)
        self.call("GET", "/v1/coupons/{code}", params, expect=200)
        self.call("GET", "/v1/coupons/{code}", {"code": typed}, expect=200, label="as typed")
        self.call("GET", "/v1/coupons/{code}", {"code": "NOSUCHCODE"}, expect=404,
                  problem="not_found", label="unknown code")
        ids["code"] = code

    def walk_coupon_issues_and_pools(self, ids: dict[str, Any], first: int, second: int) -> None:
        issues = "/v1/coupon-templates/{template_id}/issues"
        kitchen = {"template_id": "checker-kitchen-10"}
        body = {"member_ids": [first, second, second, 999_999_999]}
        key = self.key()
        issued = self.call("POST", issues, kitchen, body=body, headers=key, expect=200)
        got = issued.json if isinstance(issued.json, dict) else {}
        if [i.get("member_id") for i in got.get("issued") or []] != [first, second] or \
                [(r.get("member_id"), r.get("type")) for r in got.get("refused") or []] != \
                [(999_999_999, "unknown_member")]:
            self.fail(f"POST {issues}", f"expected two issued, one unknown_member: {short(got)}")
        again = self.call("POST", issues, kitchen, body=body, headers=key, expect=200,
                          label="retry")
        if isinstance(again.json, dict) and again.json != got:
            self.fail(f"POST {issues} (retry)",
                      f"other codes: {short(got)} then {short(again.json)}")
        if again.header("idempotent-replayed") != "true":
            self.fail(f"POST {issues} (retry)", "expected Idempotent-Replayed: true")
        self.call("POST", issues, kitchen, body={"member_ids": [first]}, headers=key, expect=422,
                  problem="idempotency_conflict", label="the same key, other members")
        self.call("POST", issues, kitchen, body=body, expect=428,
                  problem="idempotency_key_missing", label="no Idempotency-Key")
        self.call("POST", issues, {"template_id": "checker-no-such-template"}, body=body,
                  headers=self.key(), expect=404, problem="not_found", label="unknown template")
        reply = self.call("POST", issues, kitchen, body={"member_ids": []}, headers=self.key(),
                          expect=422, problem="validation_failed", label="no members")
        self.expect_field(f"POST {issues} (no members)", reply, "member_ids")
        self.bad_bodies("POST", issues, kitchen, {"member_ids": [first]})
        # The first member holds 2 of the template's coupons (per-member cap 3): one more, then
        # none.
        self.call("POST", issues, {"template_id": ids["template_id"]}, body={"member_ids": [first]},
                  headers=self.key(), expect=200, label="up to the per-member cap")
        capped = self.call("POST", issues, {"template_id": ids["template_id"]},
                           body={"member_ids": [first]}, headers=self.key(), expect=200,
                           label="beyond the per-member cap")
        refused = [r.get("type") for r in capped.json.get("refused") or []] \
            if isinstance(capped.json, dict) else ["coupon_limit_reached"]
        if refused != ["coupon_limit_reached"]:
            self.fail(f"POST {issues} (beyond the per-member cap)",
                      f"expected coupon_limit_reached: {short(capped.json)}")

        # The issued coupons at checkout: in scope, out of scope, stacked, expired, not yet valid.
        kitchen_code = (got.get("issued") or [{}])[0].get("code")
        validate = "/v1/coupons/validate"
        if kitchen_code:
            check = {"code": kitchen_code, "member_id": first, "order": self.checkout_order()}
            valid = self.call("POST", validate, body=check, expect=200, label="percent off")
            discount = (valid.json.get("discount") or {}) if isinstance(valid.json, dict) else {}
            if discount.get("amount", 500) != 500:
                self.fail(f"POST {validate} (percent off)",
                          f"expected 10% of 5000: {short(valid.json)}")
            garden = self.checkout_order(category="garden")
            self.call("POST", validate, body=dict(check, order=garden), expect=422,
                      problem="coupon_not_applicable", label="nothing in scope")
            self.call("POST", validate, body=dict(check, applied_codes=[ids["code"]]), expect=409,
                      problem="coupon_not_stackable", label="next to a coupon that does not stack")
        for template_id, refusal in (("checker-expired", "coupon_expired"),
                                     ("checker-not-yet", "coupon_not_yet_valid")):
            reply = self.call("POST", issues, {"template_id": template_id},
                              body={"member_ids": [first]}, headers=self.key(), expect=200,
                              label=template_id)
            issued_code = ((reply.json or {}).get("issued") or [{}])[0].get("code") \
                if isinstance(reply.json, dict) else None
            if issued_code:
                self.call("POST", validate, expect=409, problem=refusal, label=refusal,
                          body={"code": issued_code, "member_id": first,
                                "order": self.checkout_order()})

        # A pool: a duplicate, a bad code and an empty row are reported, not fatal.
        pool = "/v1/coupon-templates/{template_id}/pool"
        params = {"template_id": ids["template_id"]}
        csv = (b"code,batch\r\nCHECKER-0001,a\r\nchecker-0002,a\r\nCHECKER-0001,b\r\n"
               b"\"not a code!\",c\r\n,d\r\nCHECKER-0003,e\r\n")
        imported = self.call("POST", pool, params, raw=csv, content_type="text/csv", expect=200)
        if isinstance(imported.json, dict) and (
                imported.json.get("imported"), imported.json.get("duplicate_rows"),
                [r.get("reason") for r in imported.json.get("rejected") or []]) != \
                (3, 1, ["invalid_code", "empty_code"]):
            self.fail(f"POST {pool}", f"expected 3 imported, 1 duplicate, an invalid and an empty "
                                      f"code: {short(imported.json)}")
        again = self.call("POST", pool, params, raw=csv, content_type="text/csv; charset=utf-8",
                          expect=200, label="the same file again")
        if isinstance(again.json, dict) and (again.json.get("imported"),
                                             again.json.get("already_existing")) != (0, 3):
            self.fail(f"POST {pool} (the same file again)",
                      f"expected 0 imported, 3 existing: {short(again.json)}")
        self.call("POST", pool, params, body={"code": "CHECKER-0004"}, expect=415,
                  problem="unsupported_media_type", label="JSON")
        for label, raw in (("no code column", b"sku\nCHECKER-0005\n"), ("empty", b""),
                           ("an unclosed quote", b"code\n\"CHECKER-0006\n")):
            reply = self.call("POST", pool, params, raw=raw, content_type="text/csv", expect=422,
                              problem="validation_failed", label=label)
            self.expect_field(f"POST {pool} ({label})", reply, "body")
        self.call("POST", pool, {"template_id": "checker-no-such-template"}, raw=csv,
                  content_type="text/csv", expect=404, problem="not_found",
                  label="unknown template")
        # Whoever uses a pool code first holds it.
        check = {"code": "checker-0002", "member_id": second, "order": self.checkout_order()}
        self.call("POST", validate, body=check, expect=200, label="a pool code")
        used = self.call("POST", "/v1/coupons/{code}/redeem", {"code": "CHECKER-0002"},
                         body={"member_id": second, "order_id": "checker-web-4",
                               "order": self.checkout_order()},
                         headers=self.key(), expect=200, label="a pool code")
        if isinstance(used.json, dict) and (used.json.get("member_id"), used.json.get("source")) != \
                (second, "pool"):
            self.fail("POST /v1/coupons/{code}/redeem (a pool code)",
                      f"expected the second member's pool coupon: {short(used.json)}")
        self.call("POST", "/v1/coupons/{code}/redeem", {"code": "CHECKER-0003"},
                  body={"member_id": 999_999_999, "order_id": "checker-web-5",
                        "order": self.checkout_order()},
                  headers=self.key(), expect=404, problem="unknown_member",
                  label="a pool code, unknown member")
        self.call("POST", "/v1/coupons/{code}/release", {"code": "CHECKER-0003"},
                  body={"order_id": "checker-web-5"}, headers=self.key(), expect=409,
                  problem="coupon_not_redeemed", label="a pool code nobody holds")
        self.call("GET", "/v1/coupons/{code}", {"code": "CHECKER-0003"}, expect=200,
                  label="a pool code nobody holds")

    def walk_wallets(self, ids: dict[str, Any], first: int, member: str | None) -> None:
        wallet = "/v1/members/{member_id}/coupons"
        params = {"member_id": first}
        listed = self.call("GET", wallet, params, expect=200)
        if isinstance(listed.json, dict) and ids.get("code") not in [
                c.get("code") for c in listed.json.get("data") or []]:
            self.fail(f"GET {wallet}", f"{ids.get('code')} is not in the wallet")
        self.call("GET", wallet, params, query={"state": "redeemed"}, expect=200, label="redeemed")
        reply = self.call("GET", wallet, params, query={"state": "lost"}, expect=422,
                          problem="validation_failed", label="unknown state")
        self.expect_field(f"GET {wallet} (unknown state)", reply, "state")
        self.call("GET", wallet, {"member_id": 999_999_999}, expect=404, problem="unknown_member",
                  label="unknown member")
        if not member:
            return
        mine = "/v1/me/coupons"
        own = self.call("GET", mine, auth=member, expect=200)
        if isinstance(own.json, dict) and isinstance(listed.json, dict) and \
                own.json.get("data") != listed.json.get("data"):
            self.fail(f"GET {mine}", "not the member's wallet")
        page = self.call("GET", mine, query={"state": "issued", "limit": 1}, auth=member,
                         expect=200, label="issued, limit 1")
        if isinstance(page.json, dict) and page.json.get("next_cursor"):
            self.call("GET", mine, query={"state": "issued", "cursor": page.json["next_cursor"]},
                      auth=member, expect=200, label="next page")
        else:
            self.fail(f"GET {mine} (issued, limit 1)", "expected a next_cursor")
        self.call("GET", mine, query={"limit": 0}, auth=member, expect=422,
                  problem="validation_failed", label="limit 0")

    def walk_credentials_and_roles(self, ids: dict[str, Any]) -> None:
        """401 without credentials; 403 for every role outside x-roles; 200 for allowed reads."""
        params = {name: ids.get(name) for name in ("member_id", "order_id", "key_id", "operator_id",
                                                   "rule_id", "campaign_id", "task", "item_id",
                                                   "template_id", "code")}
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
            if "/redemptions/{order_id}" in path:  # a redemption order, not a purchase
                used["order_id"] = ids.get("redemption_id")
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


def create_key(binary: str, store_args: list[str], name: str, role: str) -> str:
    result = subprocess.run([binary, "apikey", "create", *store_args, "--name", name,
                             "--role", role], capture_output=True, text=True, timeout=120,
                            check=False)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"apikey create --role {role} exited {result.returncode}: "
                           f"{short(result.stdout + result.stderr)}")
    return lines[-1]


def fresh_postgres_schema(url_file: str) -> str:
    """A new schema on the test run's PostgreSQL server; the URL that works in it."""
    with open(url_file, encoding="ascii") as file:
        server_url = file.read().strip()
    schema = f"openapi_{os.getpid()}_{int(time.time() * 1000)}"
    result = subprocess.run(["psql", server_url, "-q", "-c", f"CREATE SCHEMA {schema}"],
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cannot create a schema: {short(result.stderr)}")
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{schema}"


def run_server_walk(spec: Spec, binary: str, verbose: bool, keep: bool,
                    postgres_url_file: str | None) -> tuple[list[str], int, int]:
    data_dir = tempfile.mkdtemp(prefix="pointsmall-openapi-")
    server = None
    log_path = os.path.join(data_dir, "server.log")
    try:
        store_args = ["--data-dir", data_dir]
        if postgres_url_file:
            store_args = ["--store", fresh_postgres_schema(postgres_url_file)]
        keys = {"admin": create_key(binary, store_args, "checker", "admin")}
        for role in ("merchant", "operator", "analyst"):
            keys[role] = create_key(binary, store_args, f"checker-{role}", role)
        port_file = os.path.join(data_dir, "port")
        with open(log_path, "wb") as log:
            server = subprocess.Popen([binary, "serve", *store_args, "--listen",
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
    parser.add_argument("--postgres-url-file",
                        help="run the server on a fresh schema of the PostgreSQL server whose URL "
                             "this file holds (cmake/postgres_fixture.cmake), not a data directory")
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
    failures, operations, validated = run_server_walk(spec, binary, args.verbose, args.keep,
                                                       args.postgres_url_file)
    for failure in failures:
        if failure.startswith(("serve:", "setup:")):
            print(f"FAIL {failure}")
    problems += failures
    print(f"openapi: {operations} operations checked, {validated} responses validated"
          + (f", {len(problems)} differences" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
