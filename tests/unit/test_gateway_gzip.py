"""gzip where every response leaves the gateway (issue 21 item 4): JSON, pages and scripts of
1 KiB or more when the client takes gzip; small bodies, downloads and clients without gzip
as they are; always `Vary: Accept-Encoding`."""
import gzip
import json

from werkzeug.wrappers import Response

from gateway.entrypoints import gzipped, json_response

TAKES_GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
BOARD = {"entries": [{"rank": i, "name": "郭平建", "unit_name": "机关第一党支部",
                      "levels": 3, "total_ms": 120000 + i} for i in range(30)]}


def test_json_and_pages_are_gzipped_for_a_client_that_takes_it():
    response = gzipped(TAKES_GZIP, json_response(BOARD))
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert json.loads(gzip.decompress(response.get_data())) == BOARD
    page = gzipped(TAKES_GZIP, Response("<!doctype html>" + "<p>每月一关</p>" * 200,
                                        mimetype="text/html"))
    assert page.headers["Content-Encoding"] == "gzip"
    assert len(page.get_data()) * 5 < len(("<p>每月一关</p>" * 200).encode())


def test_small_bodies_downloads_and_other_clients_are_left_as_they_are():
    small = gzipped(TAKES_GZIP, json_response({"status": "ok"}))
    assert "Content-Encoding" not in small.headers and small.get_json() == {"status": "ok"}
    plain = gzipped({}, json_response(BOARD))
    assert "Content-Encoding" not in plain.headers and plain.get_json() == BOARD
    assert "Accept-Encoding" in plain.headers["Vary"]
    sheet = Response(b"PK\x03\x04" + b"x" * 4096, mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert "Content-Encoding" not in gzipped(TAKES_GZIP, sheet).headers


def test_a_large_export_is_compressed_outside_the_event_loop_and_reads_back(monkeypatch):
    from eventlet import tpool

    from gateway import entrypoints

    calls = []
    real = tpool.execute
    monkeypatch.setattr(tpool, "execute", lambda fn, *args: calls.append(fn) or real(fn, *args))
    rows = {"items": [{"question_id": f"q{i}", "stem": "题干" * 40} for i in range(3000)]}
    response = gzipped(TAKES_GZIP, json_response(rows))
    assert len(json.dumps(rows)) > entrypoints.GZIP_OFF_LOOP_BYTES and calls == [gzip.compress]
    assert json.loads(gzip.decompress(response.get_data())) == rows
    gzipped(TAKES_GZIP, json_response(BOARD))
    assert calls == [gzip.compress]  # a board's few KiB on the loop, as before
