"""`/api/v1/docs`: the OpenAPI document as one readable page, rendered on the server (no script, no
CDN: it works on a network without the internet). Every value comes from the document, escaped."""

from __future__ import annotations

import html
import json
from typing import Any

from empowerment.api.problems import ALL_KINDS

_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2a27}
h1{color:#1f6f5c}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}code,pre{background:#f3f5f4;border-radius:4px}
pre{padding:.7rem;overflow-x:auto;font-size:13px}.op{border:1px solid #d5dcd9;border-radius:8px;padding:.2rem 1rem;
margin:1rem 0}.m{font-weight:700;color:#fff;border-radius:4px;padding:.1rem .45rem;margin-right:.4rem}
.get{background:#2f6fb1}.post{background:#1f6f5c}table{border-collapse:collapse}td,th{border:1px solid #ddd;
padding:.25rem .6rem;text-align:left;vertical-align:top}"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _inline(text: str) -> str:
    """`code` and **bold** of the descriptions, after escaping."""
    import re

    escaped = _e(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)


def _description(text: str) -> str:
    blocks, items = [], []
    for line in text.strip().splitlines():
        stripped = line.strip()
        if stripped.startswith("* "):
            items.append(stripped[2:])
        elif items and stripped and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            if items:
                blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
                items = []
            if stripped:
                blocks.append(f"<p>{_inline(stripped)}</p>")
    if items:
        blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    return "".join(blocks)


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else schema.get("type", "object")


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> str:
    target = components.get(_schema_name(schema), schema)
    properties = target.get("properties", {})
    if not properties:
        return ""
    required = set(target.get("required", []))
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code>{' *' if name in required else ''}</td>"
        f"<td>{_e(_type_of(spec))}</td><td>{_inline(spec.get('description', ''))}</td></tr>"
        for name, spec in properties.items())
    return f"<table><tr><th>Field</th><th>Type</th><th>About</th></tr>{rows}</table>"


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return _schema_name(spec)
    if "anyOf" in spec:
        return " or ".join(_type_of(s) for s in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    return str(spec.get("type", "any"))


def render(document: dict[str, Any]) -> str:
    components = document.get("components", {}).get("schemas", {})
    info = document.get("info", {})
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(info.get('title'))}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(info.get('title'))} <small>{_e(info.get('version'))}</small></h1>",
             _description(info.get("description", "")),
             "<p>The machine-readable document: <a href='/api/v1/openapi.json'><code>/api/v1/openapi.json</code></a>.</p>",
             "<h2>Endpoints</h2>"]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(f"<div class='op'><h3><span class='m {method}'>{method.upper()}</span>"
                         f"<code>/api/v1{_e(path)}</code> · {_e(operation.get('summary', ''))}</h3>")
            parts.append(_description(operation.get("description", "")))
            parameters = operation.get("parameters", [])
            if parameters:
                parts.append("<p><b>Parameters</b></p><table><tr><th>Name</th><th>In</th><th>About</th></tr>" + "".join(
                    f"<tr><td><code>{_e(p['name'])}</code>{' *' if p.get('required') else ''}</td><td>{_e(p.get('in'))}</td>"
                    f"<td>{_inline(p.get('description', ''))}</td></tr>" for p in parameters) + "</table>")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                parts.append(f"<p><b>Body</b> ({_e(_schema_name(body))})</p>{_fields(body, components)}")
            answers = ", ".join(f"{_e(status)} {_e(r.get('description', ''))}"
                                for status, r in operation.get("responses", {}).items())
            parts.append(f"<p><b>Answers</b>: {answers}</p></div>")
    parts.append("<h2>Problem codes</h2><table><tr><th>Code</th><th>HTTP</th><th>Meaning</th></tr>")
    seen = set()
    for kind in ALL_KINDS:
        if kind.code in seen:
            continue
        seen.add(kind.code)
        parts.append(f"<tr id='problem-{_e(kind.code)}'><td><code>{_e(kind.code)}</code></td>"
                     f"<td>{kind.status}</td><td>{_e(kind.title)}</td></tr>")
    example = {"type": "/api/v1/docs#problem-scope-missing", "title": "The token lacks the scope for this",
               "status": 403, "code": "scope-missing",
               "detail": "This token may not log, undo and decide gestures: it lacks the 'log' scope."}
    parts.append(f"</table><p>An error looks like this:</p><pre>{_e(json.dumps(example, indent=2))}</pre>")
    parts.append("</body></html>")
    return "".join(parts)
