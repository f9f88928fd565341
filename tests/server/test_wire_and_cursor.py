"""The wire helpers and the client's stream cursor, without a network."""

from __future__ import annotations

import json
import random

import pytest

from backend_client import (
    DeploymentFilter,
    DeploymentFinished,
    InvalidRequest,
    NotFound,
    ProtocolError,
    Resync,
    StepOutput,
    Unauthorized,
    Unavailable,
    wire,
)
from backend_client.http import Backoff, StreamCursor, _Gap
from backend_client.models import OutputChunk


def _out(seq: int, team: str = "T") -> StepOutput:
    return StepOutput(seq=seq, team_id=team, deployment_id="D", step_id="S", offset=0, data="x")


def _hello(instance: str = "I1", head: int = 0) -> wire.Hello:
    return wire.Hello(instance_id=instance, head_seq=head)


def test_cursor_yields_each_event_once_in_order() -> None:
    cursor = StreamCursor("T", 3, "I1")
    assert cursor.on_hello(_hello("I1", 10)) == []
    assert cursor.on_frame(_out(4)) == [_out(4)]
    assert cursor.on_frame(_out(4)) == []  # duplicate
    assert cursor.on_frame(_out(2)) == []  # replayed, older
    assert cursor.on_frame(_out(5)) == [_out(5)]
    assert cursor.last == 5


def test_cursor_takes_the_head_when_starting_from_now() -> None:
    cursor = StreamCursor("T", None, None)
    cursor.on_hello(_hello("I1", 42))
    assert cursor.last == 42
    assert cursor.on_frame(_out(43)) == [_out(43)]


def test_a_gap_asks_for_a_reconnect_then_gives_up_with_a_resync() -> None:
    cursor = StreamCursor("T", 5, "I1")
    cursor.on_hello(_hello("I1", 9))
    for _ in range(2):
        with pytest.raises(_Gap):
            cursor.on_frame(_out(8))
    items = cursor.on_frame(_out(8))
    assert isinstance(items[0], Resync) and items[0].seq == 7 and "6..7" in items[0].reason
    assert items[1] == _out(8)
    assert cursor.last == 8


def test_a_heartbeat_ahead_of_us_is_a_gap() -> None:
    cursor = StreamCursor("T", 5, "I1")
    cursor.on_hello(_hello("I1", 5))
    assert cursor.on_frame(wire.Heartbeat(seq=5)) == []
    with pytest.raises(_Gap):
        cursor.on_frame(wire.Heartbeat(seq=6))


def test_a_new_instance_is_one_resync() -> None:
    cursor = StreamCursor("T", 50, "I1")
    (resync,) = cursor.on_hello(_hello("I2", 3))
    assert isinstance(resync, Resync) and resync.seq == 3 and resync.team_id == "T"
    # The server's own resync for the same point is not given twice.
    assert cursor.on_frame(Resync(seq=3, team_id="T", reason="restarted")) == []
    assert cursor.on_frame(_out(4)) == [_out(4)]
    # A later resync from the server is passed on, even to a lower seq.
    later = Resync(seq=2, team_id="T", reason="behind")
    assert cursor.on_frame(later) == [later]
    assert cursor.last == 2


def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(1))
    delays = [backoff.delay(n) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(30.0, 0.5 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30.0 and delays[-1] >= 15.0
    again = Backoff(0.5, 30.0, random.Random(1))
    assert [again.delay(n) for n in range(1, 12)] == delays


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1]",
        '{"kind": "step.output", "seq": "x"}',
        '{"kind": "hello"}',
        json.dumps({"kind": "step.output", "data": "x" * (wire.MAX_FRAME_BYTES + 1)}),
    ],
)
def test_bad_frames_are_frame_errors(text: str) -> None:
    with pytest.raises(wire.FrameError):
        wire.parse_frame(text)


def test_unknown_frames_are_told_apart() -> None:
    with pytest.raises(wire.UnknownFrame) as info:
        wire.parse_frame('{"kind": "deployment.deleted", "seq": 7}')
    assert info.value.kind == "deployment.deleted" and info.value.seq == 7


def test_event_frames_round_trip() -> None:
    event = _out(9)
    assert wire.parse_frame(wire.encode_event(event)) == event


def test_errors_round_trip_with_their_message() -> None:
    for error in (DeploymentFinished("done already"), NotFound("nope"), Unauthorized("who")):
        back = wire.decode_error(error.http_status, wire.encode_error(error))
        assert type(back) is type(error) and back.message == error.message
    assert isinstance(wire.decode_error(404, b"<html>"), NotFound)
    assert isinstance(wire.decode_error(503, b""), Unavailable)
    assert isinstance(wire.decode_error(418, b"teapot"), ProtocolError)
    refused = wire.error_from_close(401, {wire.HEADER_ERROR_CODE: "unauthorized"})
    assert isinstance(refused, Unauthorized)


def test_list_queries_round_trip() -> None:
    flt = DeploymentFilter.of(
        site_id="S1", statuses=["failed", "cancelled"], types=["clone_site"], text=" shop "
    )
    params = wire.list_query_params(flt, "01HZZZZZZZZZZZZZZZZZZZZZZZ", 20)
    query = wire.parse_list_query(params)
    assert query.filter == flt
    assert query.before == "01HZZZZZZZZZZZZZZZZZZZZZZZ" and query.limit == 20
    assert wire.parse_list_query([]).limit == 50
    with pytest.raises(InvalidRequest):
        wire.parse_list_query([("limit", "-1")])


def test_output_headers_round_trip() -> None:
    chunk = OutputChunk(offset=5, data=b"abc", total_size=100, truncated=True, complete=False)
    assert wire.output_chunk_from_headers(wire.output_headers(chunk), b"abc") == chunk
    with pytest.raises(ProtocolError):
        wire.output_chunk_from_headers({}, b"")


def test_backend_urls_are_checked_and_normalised() -> None:
    from backend_client.http import HttpBackend

    for url, base in [
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/api/v1", "http://127.0.0.1:8765"),
        ("https://deploy.example.com/prefix/", "https://deploy.example.com/prefix"),
    ]:
        assert HttpBackend(url, "t").base_url == base
    for bad in ["http://", "ftp://host", "http://[::1", "not a url"]:
        with pytest.raises(InvalidRequest, match="invalid backend URL"):
            HttpBackend(bad, "t")


def test_openapi_query_parameters_are_the_ones_the_server_accepts() -> None:
    from backend_server.openapi import openapi_schema

    paths = openapi_schema()["paths"]

    def query(route: str, method: str = "get") -> set[str]:
        params = paths[wire.API_PREFIX + route][method]["parameters"]
        return {p["name"] for p in params if p["in"] == "query"}

    assert query(wire.Routes.DEPLOYMENTS) == {
        wire.Q_SITE,
        wire.Q_STATUS,
        wire.Q_TYPE,
        wire.Q_TEXT,
        wire.Q_BEFORE,
        wire.Q_LIMIT,
    }
    assert query(wire.Routes.OUTPUT) == {wire.Q_OFFSET, wire.Q_LIMIT}
    assert query(wire.Routes.EVENTS) == {wire.Q_SINCE, wire.Q_INSTANCE}
