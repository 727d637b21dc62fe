"""JSON log lines with the service and the correlation id of the worker that wrote them."""
import json
import logging

from kernel import logs


def record(message="hello %s", args=("there",), exc_info=None):
    return logging.LogRecord("services.ranking", logging.WARNING, __file__, 1, message, args,
                             exc_info)


def test_a_json_line_with_the_workers_correlation_id():
    logs._current.service, logs._current.correlation_id = "ranking", "req-12345678"
    try:
        line = record()
        assert logs.CorrelationFilter().filter(line)
        entry = json.loads(logs.formatter("json").format(line))
    finally:
        logs._current.service = logs._current.correlation_id = None
    assert entry["message"] == "hello there" and entry["level"] == "WARNING"
    assert entry["service"] == "ranking" and entry["correlation_id"] == "req-12345678"
    assert entry["logger"] == "services.ranking" and entry["time"].endswith("+00:00")


def test_outside_a_worker_there_is_no_id_and_exceptions_are_kept():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        line = record("failed", (), sys.exc_info())
    logs.CorrelationFilter().filter(line)
    entry = json.loads(logs.formatter("json").format(line))
    assert "correlation_id" not in entry and "ValueError: boom" in entry["exception"]
    text = logs.formatter("text").format(line)
    assert "failed" in text and "[None None]" in text


def test_request_ids_from_outside_are_kept_only_when_sane():
    assert logs.new_id("abc-123_DEF.456") == "abc-123_DEF.456"
    for bad in (None, "", "short", "has space in it", 'quote"d-id-123', "x" * 200):
        made = logs.new_id(bad)
        assert made != bad and len(made) == 32
