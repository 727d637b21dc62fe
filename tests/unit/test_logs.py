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


def test_an_expected_error_is_not_logged_again_with_its_traceback():
    """nameko logs an expected error at WARNING with its traceback; the worker's own line has
    said it at INFO, so nameko's becomes a DEBUG line without the traceback."""
    try:
        raise ValueError("wrong code")
    except ValueError:
        import sys
        exc_info = sys.exc_info()
    line = logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                             "(expected) error handling worker %s: %s",
                             ("<worker>", "wrong code"), exc_info)
    logger = logging.getLogger("nameko.containers")
    kept = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert not logs.ExpectedErrors().filter(line)  # not shown at INFO
    finally:
        logger.setLevel(kept)
    assert line.levelno == logging.DEBUG and line.exc_info is None
    unexpected = logging.LogRecord("nameko.containers", logging.ERROR, __file__, 1,
                                   "error handling worker %s: %s", ("<worker>", "boom"),
                                   exc_info)
    assert logs.ExpectedErrors().filter(unexpected) and unexpected.exc_info is exc_info


def test_an_access_line_keeps_its_http_fields_as_an_object():
    line = record("POST %s 200", ("/api/v1/attempts",))
    line.http = {"method": "POST", "status": 200, "duration_ms": 12.5}
    line.correlation_id = "ux-trace-0001"
    entry = json.loads(logs.formatter("json").format(line))
    assert entry["http"] == {"method": "POST", "status": 200, "duration_ms": 12.5}
    assert entry["correlation_id"] == "ux-trace-0001"


def test_warnings_are_logged_once_logging_is_configured():
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            logging.captureWarnings(False)  # an earlier test's formatter captured them
            logs.formatter("json")  # what nameko's LOGGING config calls
            captured = []
            handler = logging.Handler()
            handler.emit = captured.append
            logging.getLogger("py.warnings").addHandler(handler)
            try:
                warnings.warn("a library's warning", UserWarning)
            finally:
                logging.getLogger("py.warnings").removeHandler(handler)
    finally:
        logging.captureWarnings(False)
    assert [r.levelname for r in captured] == ["WARNING"]
    assert "a library's warning" in captured[0].getMessage()
