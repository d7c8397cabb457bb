"""Schemathesis checks of our own, loaded by dev/fuzz (SCHEMATHESIS_HOOKS).

Beside schemathesis' built-in checks (no 5xx, answers as documented, invalid
data refused), two invariants of the contract the OpenAPI document cannot say:
every error is an RFC 9457 problem+json naming its status, and an event is
accepted (202) only if the contract's own rules hold for it.
"""

import json
import re
from datetime import datetime

import schemathesis

MAX_ID_BYTES = 256
MAX_SECONDS = 2**31 - 1
MILLIS_THRESHOLD = 100_000_000_000
MAX_EXTRA_NESTING = 32
KNOWN_FIELDS = ("id", "name", "body", "timestamp")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _header(response, name):
    values = response.headers.get(name.lower()) or [""]
    return values[0] if isinstance(values, list) else values


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    """Every 4xx and 5xx is application/problem+json with its own status."""
    if response.status_code < 400:
        return None
    content_type = _header(response, "content-type")
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as {content_type!r}, not application/problem+json"
        )
    problem = json.loads(response.content)
    if problem.get("status") != response.status_code:
        raise AssertionError(f"problem says status {problem.get('status')}, response is {response.status_code}")
    for field in ("type", "title", "detail"):
        if not isinstance(problem.get(field), str):
            raise AssertionError(f"problem lacks a string {field!r}: {problem}")
    return None


def _time_violation(value):
    if isinstance(value, bool) or value is None:
        return "timestamp is not a time"
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, int):
        seconds = value // 1000 if abs(value) >= MILLIS_THRESHOLD else value
        return None if 0 <= seconds <= MAX_SECONDS else f"timestamp {value} out of range"
    if isinstance(value, str) and RFC3339.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            # Python rejects some RFC 3339 forms (leap seconds) the service may take.
            return None
        seconds = int(parsed.timestamp())
        return None if 0 <= seconds <= MAX_SECONDS else f"timestamp {value} out of range"
    return f"timestamp {value!r} is not RFC 3339 or epoch seconds/milliseconds"


def _nesting(value):
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    return 0


def contract_violation(body):
    """Why `body` breaks the event contract, or None."""
    if not isinstance(body, dict):
        return "body is not an object"
    event_id = body.get("id")
    if not isinstance(event_id, str) or not event_id:
        return "id missing or not a non-empty string"
    if len(event_id.encode()) > MAX_ID_BYTES:
        return "id longer than 256 bytes"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in event_id):
        return "id holds a control character"
    for field in ("name", "body"):
        if not isinstance(body.get(field), str):
            return f"{field} missing or not a string"
    if "timestamp" not in body:
        return "timestamp missing"
    text = json.dumps(body)
    if "\\u0000" in text.replace("\\\\", ""):
        return "holds U+0000"
    for key, value in body.items():
        if key not in KNOWN_FIELDS and _nesting(value) > MAX_EXTRA_NESTING:
            return f"unknown field {key!r} nests deeper than {MAX_EXTRA_NESTING}"
    return _time_violation(body["timestamp"])


@schemathesis.check
def accepts_only_valid_events(ctx, response, case):
    """A 202 means the event met every rule of the contract."""
    if case.method.upper() != "POST" or response.status_code != 202:
        return None
    violation = contract_violation(case.body)
    if violation:
        raise AssertionError(f"accepted an invalid event ({violation}): {case.body!r}")
    return None
