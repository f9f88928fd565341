"""The OpenAPI 3.1 description of the wire protocol, served at ``/api/v1/openapi.json``.

Paths are written by hand from :mod:`backend_client.wire`; schemas come from the pydantic
models themselves (JSON Schema 2020-12, which OpenAPI 3.1 uses), so they cannot drift.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from backend_client import wire
from backend_client.contract import DEFAULT_PAGE_SIZE, MAX_OUTPUT_READ, MAX_PAGE_SIZE
from backend_client.events import event_adapter
from backend_client.models import (
    PIPELINE_TYPES,
    Deployment,
    DeploymentPage,
    DeploymentStatus,
    Me,
)

__all__ = ["openapi_schema"]

_REF = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS: dict[str, str] = {
    "400": "Bad query, body or argument (code invalid_request)",
    "401": "Missing or unknown bearer token",
    "403": "The caller's role may not do this",
    "404": "No such thing, or another team's",
    "409": "Conflicts with the current state (deployment_finished)",
    "413": "Request body too large",
}


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


_TEAM = _param("team_id", "path", {"type": "string"}, "A team the caller belongs to")
_DEPLOYMENT = _param("deployment_id", "path", {"type": "string"}, "A deployment id (ULID)")
_STEP = _param("step_id", "path", {"type": "string"}, "A step id of that deployment")


@cache
def openapi_schema() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once)."""
    models: list[tuple[type[BaseModel], Any]] = [
        (Me, "serialization"),
        (wire.SitesResponse, "serialization"),
        (DeploymentPage, "serialization"),
        (Deployment, "serialization"),
        (wire.TriggerRequest, "validation"),
        (wire.CancelRequest, "validation"),
        (ErrorBody, "serialization"),
        (wire.Hello, "serialization"),
        (wire.Heartbeat, "serialization"),
    ]
    _, top = models_json_schema(models, ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    event_schema = event_adapter.json_schema(ref_template=_REF, mode="serialization")
    schemas.update(event_schema.pop("$defs", {}))
    schemas["Event"] = event_schema
    auth: list[dict[str, list[str]]] = [{"bearer": []}]
    list_params = [
        _TEAM,
        _param(wire.Q_SITE, "query", {"type": "string"}, "Only this site's deployments"),
        {
            **_param(
                wire.Q_STATUS,
                "query",
                {"type": "array", "items": {"enum": [s.value for s in DeploymentStatus]}},
                "Only these statuses (repeat, or comma-separate)",
            ),
            "style": "form",
            "explode": True,
        },
        {
            **_param(
                wire.Q_TYPE,
                "query",
                {"type": "array", "items": {"type": "string", "examples": list(PIPELINE_TYPES)}},
                "Only these pipeline types (repeat, or comma-separate)",
            ),
            "style": "form",
            "explode": True,
        },
        _param(
            wire.Q_TEXT,
            "query",
            {"type": "string", "maxLength": wire.MAX_QUERY_VALUE},
            "Case-insensitive text in operation, type, site, user or id",
        ),
        _param(wire.Q_BEFORE, "query", {"type": "string"}, "Cursor: next_before of the last page"),
        _param(
            wire.Q_LIMIT,
            "query",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": DEFAULT_PAGE_SIZE,
            },
            "Page size",
        ),
    ]
    int_header = {"schema": {"type": "integer", "minimum": 0}}
    flag_header = {"schema": {"type": "string", "enum": ["0", "1"]}}
    paths: dict[str, Any] = {
        wire.Paths.healthz(): {
            "get": {
                "summary": "Liveness",
                "operationId": "healthz",
                "security": [],
                "responses": {"200": _json_response("Up", {"type": "object"})},
            }
        },
        wire.Paths.openapi(): {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": _json_response("OpenAPI 3.1", {"type": "object"})},
            }
        },
        wire.Paths.me(): {
            "get": {
                "summary": "The caller and their teams",
                "operationId": "me",
                "responses": {"200": _json_response("The caller", _ref("Me")), **_errors("401")},
            }
        },
        wire.API_PREFIX + wire.Routes.SITES: {
            "get": {
                "summary": "The team's sites",
                "operationId": "listSites",
                "parameters": [_TEAM],
                "responses": {
                    "200": _json_response("Sites by domain", _ref("SitesResponse")),
                    **_errors("401", "404"),
                },
            }
        },
        wire.API_PREFIX + wire.Routes.DEPLOYMENTS: {
            "get": {
                "summary": "A page of the team's deployments, newest first (steps without output)",
                "operationId": "listDeployments",
                "parameters": list_params,
                "responses": {
                    "200": _json_response("A page", _ref("DeploymentPage")),
                    **_errors("400", "401", "404"),
                },
            },
            "post": {
                "summary": "Trigger a pipeline on a site (operators only)",
                "operationId": "triggerDeployment",
                "parameters": [_TEAM],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("TriggerRequest")}},
                },
                "responses": {
                    "201": _json_response("The new, queued deployment", _ref("Deployment")),
                    **_errors("400", "401", "403", "404", "413"),
                },
            },
        },
        wire.API_PREFIX + wire.Routes.DEPLOYMENT: {
            "get": {
                "summary": "One deployment with its steps (output read by range)",
                "operationId": "getDeployment",
                "parameters": [_DEPLOYMENT],
                "responses": {
                    "200": _json_response("The deployment", _ref("Deployment")),
                    **_errors("401", "404"),
                },
            }
        },
        wire.API_PREFIX + wire.Routes.CANCEL: {
            "post": {
                "summary": "Cancel a queued or running deployment (operators only)",
                "operationId": "cancelDeployment",
                "parameters": [_DEPLOYMENT],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("CancelRequest")}},
                },
                "responses": {
                    "200": _json_response("The cancelled deployment", _ref("Deployment")),
                    **_errors("400", "401", "403", "404", "409", "413"),
                },
            }
        },
        wire.API_PREFIX + wire.Routes.OUTPUT: {
            "get": {
                "summary": "A byte range of a step's output, raw",
                "operationId": "readOutput",
                "parameters": [
                    _DEPLOYMENT,
                    _STEP,
                    _param(wire.Q_OFFSET, "query", {"type": "integer", "minimum": 0}, "First byte"),
                    _param(
                        wire.Q_LIMIT,
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_READ},
                        "Most bytes to return",
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "The bytes (fewer at the end of the output)",
                        "headers": {
                            wire.HEADER_OFFSET: int_header,
                            wire.HEADER_TOTAL_SIZE: int_header,
                            wire.HEADER_TRUNCATED: flag_header,
                            wire.HEADER_COMPLETE: flag_header,
                        },
                        "content": {
                            "application/octet-stream": {
                                "schema": {
                                    "type": "string",
                                    "contentMediaType": "application/octet-stream",
                                }
                            }
                        },
                    },
                    **_errors("400", "401", "404"),
                },
            }
        },
        wire.API_PREFIX + wire.Routes.EVENTS: {
            "get": {
                "summary": "WebSocket: the team's events after `since`, then live ones",
                "description": (
                    "Upgrade to a WebSocket. Frames are JSON text: first `Hello`, then `Event`"
                    " frames in `seq` order (a `resync` event when the stream cannot be"
                    " gap-free) and `Heartbeat` frames when idle. A refused handshake answers"
                    f" with the error status and `{wire.HEADER_ERROR_CODE}` /"
                    f" `{wire.HEADER_ERROR_MESSAGE}` headers."
                ),
                "operationId": "streamEvents",
                "parameters": [
                    _TEAM,
                    _param(
                        wire.Q_SINCE,
                        "query",
                        {"type": "integer", "minimum": 0},
                        "Last seq the client applied (e.g. DeploymentPage.seq); omit for now",
                    ),
                    _param(
                        wire.Q_INSTANCE,
                        "query",
                        {"type": "string"},
                        "Instance id the client's seq came from; another one means resync",
                    ),
                ],
                "responses": {
                    "101": {"description": "Switching to the WebSocket protocol"},
                    **_errors("400", "401", "404"),
                },
            }
        },
    }
    responses = {
        f"E{status}": _json_response(text, _ref("ErrorBody")) for status, text in _ERRORS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "deploytop backend",
            "version": "1.0.0",
            "description": "Deployments, their steps and output, and a live event stream.",
        },
        "servers": [{"url": "/"}],
        "security": auth,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
