"""docs/asyncapi.yaml and docs/events.md are generated from kernel/events.py and committed:
they must be what the generator writes now, cover every event, and carry examples that the
producers' own schemas accept."""
import json
import os
import re

import pytest
import yaml

from kernel import asyncapi, events

SHARED_CONTRACTS = os.path.join(asyncapi.ROOT, "..", "shared", "design", "contracts.md")


def test_the_committed_documents_are_up_to_date():
    assert asyncapi.main(["--check"]) == 0, "run `make docs` and commit docs/"


def test_every_event_is_documented_with_an_example_its_schema_accepts():
    with open(asyncapi.ASYNCAPI, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    assert doc["asyncapi"].startswith("2.")
    channels = doc["channels"]
    assert set(channels) == {f"{p}.events/{t}" for p, t in events.EVENTS}
    for (producer, type_), schema_cls in events.EVENTS.items():
        channel = channels[f"{producer}.events/{type_}"]
        exchange = channel["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["type"], exchange["durable"]) == (
            f"{producer}.events", "topic", True)
        message = doc["components"]["messages"][type_]
        [example] = message["examples"]
        body = example["payload"]
        parsed = events.parse(body)  # the envelope a consumer loads
        assert parsed["type"] == type_ and parsed["producer"] == producer
        assert schema_cls().validate(body["data"]) == {}  # strict: no field outside the schema
        required = set(message["payload"]["properties"]["data"]["required"])
        assert required <= set(body["data"]), type_
        assert "phone" not in {k for k in body["data"]}  # only phone_masked, ever


def test_the_markdown_shows_the_same_examples():
    text = open(asyncapi.MARKDOWN, encoding="utf-8").read()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", text, re.S)]
    assert [(b["producer"], b["type"]) for b in blocks] == list(events.EVENTS)
    for block in blocks:
        assert block == asyncapi.example(block["producer"], block["type"])
        assert f"### {block['type']}" in text


def test_the_contract_lists_no_event_the_code_lacks():
    if not os.path.exists(SHARED_CONTRACTS):
        pytest.skip("the design documents (../shared) are not beside this checkout")
    text = open(SHARED_CONTRACTS, encoding="utf-8").read()
    section = text.split("## Events", 1)[1].split("## Configuration", 1)[0]
    named = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", section, re.M))
    contract = {name for pair in named for name in pair if name}
    assert contract == {t for _, t in set(events.EVENTS) - events.BEYOND_CONTRACT}
