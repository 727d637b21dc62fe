"""The event documentation, generated from kernel/events.py so it cannot drift from the code:
`docs/asyncapi.yaml` (AsyncAPI 2.6) and `docs/events.md`.

    python -m kernel.asyncapi          # rewrite both (make docs)
    python -m kernel.asyncapi --check  # exit 1 if either is out of date

Each event has a sentence on when it is published and an example body, which the tests
validate against the producer's own schema.
"""
from __future__ import annotations

import json
import os
import sys

import yaml
from marshmallow import fields

from kernel import events

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASYNCAPI = os.path.join(ROOT, "docs", "asyncapi.yaml")
MARKDOWN = os.path.join(ROOT, "docs", "events.md")

CAMPAIGN = "5d0c6f8e-4b1a-4c55-9a43-2f1f0c9e7a10"
MEMBER = "8f14e45f-ceea-467f-a0e6-7c1d3b2e9a55"
RUN = "c9f0f895-fb98-4b91-8f2e-1a2b3c4d5e6f"
ATTEMPT = "45c48cce-2e2d-4fbd-b7a1-9e8d7c6b5a40"
SNAPSHOT = "d3d94468-02a4-43a8-8a5f-6b7c8d9e0f11"
AWARD = "6512bd43-d9ca-4e5e-8f3a-4b5c6d7e8f90"
LEVEL = {"number": 1, "title": "第1关", "theme": "党的十九大报告",
         "opens_at": "2018-03-11T16:00:00.000+00:00", "time_limit_s": 300, "draw_count": 20}

# type -> (when it is published, an example `data`)
DOCS = {
    "member_registered": ("A member was added to the roster (a sheet import or an edit).", {
        "member_id": MEMBER, "name": "张伟", "org_path": ["system", "federation", "unit-education"],
        "category": "party_member", "participation": "required", "status": "active",
        "phone_masked": "138****0001", "unit_name": "省教科文卫工会"}),
    "member_updated": ("A member's name, place, category, participation or status changed.", {
        "member_id": MEMBER, "name": "张伟", "org_path": ["system", "federation", "branch-1"],
        "category": "party_member", "participation": "required", "status": "active",
        "phone_masked": "138****0001", "unit_name": "机关第一党支部"}),
    "member_deactivated": ("A member left the roster (inactive): off the boards from now.",
                           {"member_id": MEMBER}),
    "member_reinstated": ("A disqualification was lifted (R20): back on the boards and in the "
                          "awards.", {"member_id": MEMBER}),
    "member_disqualified": ("R20: a member lost award eligibility; named in the notice.", {
        "member_id": MEMBER, "reason": "代他人答题", "decided_at": "2018-06-02T02:15:00.000+00:00",
        "decided_by": "b948cd51-bb05-4a5e-b15d-a2b816a84290"}),
    "role_granted": ("An administrator role was granted (a sheet, an appointment or a role "
                     "change; added to v1 after contracts.md). `by`: the acting member.", {
                         "member_id": MEMBER, "role": "unit_admin",
                         "org_unit_id": "unit-education",
                         "by": "b948cd51-bb05-4a5e-b15d-a2b816a84290"}),
    "role_revoked": ("An administrator role was removed (a unit's administrator replaced, or "
                     "a role change; added to v1 after contracts.md).", {
                         "member_id": MEMBER, "role": "unit_admin",
                         "org_unit_id": "unit-education",
                         "by": "b948cd51-bb05-4a5e-b15d-a2b816a84290"}),
    "campaign_published": ("A campaign and its level schedule were published.", {
        "campaign_id": CAMPAIGN, "name": "2018年“每月一关”学习答题闯关",
        "time_zone": "Asia/Shanghai", "starts_at": "2018-03-11T16:00:00.000+00:00",
        "ends_at": "2018-10-31T15:59:59.999+00:00", "levels": [LEVEL],
        "organisation_id": "federation"}),
    "level_updated": ("A level's settings changed (the whole campaign, as published).", {
        "campaign_id": CAMPAIGN, "name": "2018年“每月一关”学习答题闯关",
        "time_zone": "Asia/Shanghai", "starts_at": "2018-03-11T16:00:00.000+00:00",
        "ends_at": "2018-10-31T15:59:59.999+00:00", "levels": [dict(LEVEL, time_limit_s=360)],
        "organisation_id": "federation"}),
    "run_started": ("A member began a run at level 1 (their first, or a restart under R14).", {
        "run_id": RUN, "member_id": MEMBER, "campaign_id": CAMPAIGN, "run_number": 1,
        "started_at": "2018-03-12T01:30:02.114+00:00"}),
    "attempt_started": ("A timed attempt began; the deadline is the server's: start + the "
                        "level's limit, or the campaign's end if that comes first.", {
        "attempt_id": ATTEMPT, "member_id": MEMBER, "campaign_id": CAMPAIGN, "run_id": RUN,
        "level": 1, "started_at": "2018-03-12T01:30:02.114+00:00",
        "deadline": "2018-03-12T01:35:02.114+00:00"}),
    "attempt_passed": ("A member answered all 20 right in time: the level is passed. "
                       "`run_levels_passed` and `run_total_ms` are the run's score after it. "
                       "An attempt nobody submitted is submitted at its deadline with the "
                       "answers its member saved: `submitted_at` is the deadline, "
                       "`duration_ms` runs to the last save.", {
        "attempt_id": ATTEMPT, "member_id": MEMBER, "campaign_id": CAMPAIGN, "run_id": RUN,
        "run_number": 1, "level": 1, "started_at": "2018-03-12T01:30:02.114+00:00",
        "submitted_at": "2018-03-12T01:31:07.412+00:00", "duration_ms": 65298,
        "run_levels_passed": 1, "run_total_ms": 65298,
        "question_ids": ["q-0001", "q-0002"], "wrong_question_ids": []}),
    "attempt_failed": ("An attempt did not pass: wrong answers (submitted, or saved and "
                       "submitted at the deadline), submitted after the deadline and grace "
                       "with nothing saved (`timeout`), or never submitted with nothing saved "
                       "(`expired`).", {
        "attempt_id": ATTEMPT, "member_id": MEMBER, "campaign_id": CAMPAIGN, "run_id": RUN,
        "run_number": 1, "level": 2, "started_at": "2018-04-01T12:00:00.000+00:00",
        "submitted_at": "2018-04-01T12:04:31.250+00:00", "duration_ms": 271250,
        "run_levels_passed": 1, "run_total_ms": 65298, "question_ids": ["q-0101", "q-0102"],
        "wrong_question_ids": ["q-0102"], "correct": 19, "total": 20,
        "reason": "wrong_answers"}),
    "attempt_flagged": ("R20: play worth a look (never a punishment by itself): `fast_pass` or "
                        "`bank_exposure`.", {
        "attempt_id": ATTEMPT, "member_id": MEMBER, "reason": "fast_pass",
        "detail": {"duration_ms": 21000, "floor_ms": 30000, "questions": 20, "level": 1},
        "flag_id": 41}),
    "attempt_regraded": ("R12: a closed attempt graded again after a bank administrator "
                         "corrected or voided one of its questions (`question_id`); a failure "
                         "that now passes counts at its original `submitted_at`, and "
                         "`run_passes` then replaces the run's pass records (R13). A pass is "
                         "never taken away.", {
        "regrade_id": "a87ff679-a2f3-4c71-9b0e-1d2c3b4a5f60", "question_id": "q-0102",
        "attempt_id": ATTEMPT, "member_id": MEMBER, "campaign_id": CAMPAIGN, "run_id": RUN,
        "run_number": 1, "level": 2, "started_at": "2018-04-01T12:00:00.000+00:00",
        "submitted_at": "2018-04-01T12:04:31.250+00:00", "duration_ms": 271250,
        "question_ids": ["q-0101", "q-0102"], "wrong_before": ["q-0102"], "wrong_after": [],
        "passed_before": False, "passed_after": True, "level_attempt_number": 1,
        "run_passes": [
            {"levels": 1, "total_ms": 65298, "at": "2018-03-12T01:31:07.412+00:00",
             "attempt_id": "1679091c-5a88-4faf-8b1e-2c3d4e5f6a70"},
            {"levels": 2, "total_ms": 336548, "at": "2018-04-01T12:04:31.250+00:00",
             "attempt_id": ATTEMPT}]}),
    "flag_reviewed": ("R20: an administrator reviewed a flag: `cleared` (nothing wrong; the "
                      "member's held awards become payable once none of their flags is open) "
                      "or `upheld` (a disqualification, if any, follows as "
                      "member_disqualified).", {
        "flag_id": 41, "attempt_id": ATTEMPT, "member_id": MEMBER, "outcome": "cleared",
        "reviewed_by": "b1e4c1d2-7f7e-4a55-9f57-0c1d2e3f4a5b",
        "reviewed_at": "2018-05-21T02:30:00.000+00:00"}),
    "month_closed": ("R15: a month was closed at its cutoff (23:59:59.999 campaign-local on its "
                     "last day): its boards are frozen in a snapshot.", {
        "campaign_id": CAMPAIGN, "month": "2018-05", "cutoff": "2018-05-31T15:59:59.999+00:00",
        "snapshot_id": SNAPSHOT, "ranked_members": 96,
        "tops": [{"scope_id": "system", "depth": 300, "total": 96, "entries": [{
            "member_id": MEMBER, "position": 1, "levels": 3, "total_ms": 184000,
            "name": "张三", "unit_name": "省总工会机关", "phone_masked": "138****0003",
            "disqualified": False, "active": True, "participation": "required",
            "bank_admin": False, "passed_in_month": True}]}]}),
    "campaign_closed": ("The campaign's last month was closed: its final standings.", {
        "campaign_id": CAMPAIGN, "final_snapshot_id": SNAPSHOT}),
    "award_granted": ("R16/R17/R18: an award. A member's (`member_id`) or an organisation's "
                      "(`org_unit_id`); `amount_cny` is null for titles without money. "
                      "`held`: the member has a flag under review (R20), so the award is not "
                      "payable until `award_released` (or is revoked).", {
        "award_id": AWARD, "campaign_id": CAMPAIGN, "period": "2018-05",
        "kind": "monthly_prize", "rank": 1, "amount_cny": 300, "member_id": MEMBER,
        "held": False}),
    "award_revoked": ("An award was withdrawn (a disqualification, or a place or amount that "
                      "changed); the next eligible member gets their own `award_granted`.", {
        "award_id": AWARD, "reason": "member disqualified: 代他人答题"}),
    "award_held": ("R20: an award is held for review (not payable): its member has a flag "
                   "open or upheld.", {
        "award_id": AWARD, "campaign_id": CAMPAIGN, "period": "2018-05",
        "reason": "flag 41 (fast_pass)", "member_id": MEMBER}),
    "award_released": ("R20: a held award is payable again: every flag of its member was "
                       "cleared.", {
        "award_id": AWARD, "campaign_id": CAMPAIGN, "period": "2018-05",
        "reason": "flag 41 cleared", "member_id": MEMBER}),
    "annual_results_published": ("R17/R18: the champion and the excellent units and organ "
                                 "branches of the year.", {
        "campaign_id": CAMPAIGN, "champion_member_id": MEMBER,
        "excellent_units": ["unit-education"], "excellent_branches": ["branch-1"]}),
}

# Every event about a member names them as another agency needs (kernel.events.MemberDisplay);
# award_revoked says whose award it was too.
WHO = {"name": "张伟", "phone_masked": "138****0001", "unit_id": "unit-education",
       "unit_name": "省教科文卫工会", "branch_id": None, "branch_name": None}
for _type in ("member_registered", "member_updated", "member_deactivated", "member_reinstated",
              "member_disqualified", "role_granted", "role_revoked", "award_granted",
              "award_revoked", "award_held", "award_released"):
    DOCS[_type][1].update({"member_id": MEMBER, "member": WHO})


def example(producer: str, type_: str) -> dict:
    """A whole example body, checked by the producer's own schema on the way."""
    from datetime import datetime

    data = events.data_schema(producer, type_)().load(DOCS[type_][1])  # strict: no extras
    body = events.build(producer, type_, data,
                        datetime.fromisoformat("2018-05-31T15:59:58.201+00:00"))
    body["event_id"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
    return body


def _schema(field) -> dict:
    if isinstance(field, fields.Nested):
        out = _object(field.nested if isinstance(field.nested, type) else type(field.nested))
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": _schema(field.inner)}
    elif isinstance(field, fields.AwareDateTime):
        out = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.Int):
        out = {"type": "integer"}
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
    elif isinstance(field, fields.UUID):
        out = {"type": "string", "format": "uuid"}
    else:
        out = {"type": "string"}
    for check in getattr(field, "validators", []) or []:
        if hasattr(check, "choices"):
            out["enum"] = list(check.choices)
        if hasattr(check, "regex"):
            out["pattern"] = check.regex.pattern
    if field.allow_none:
        out["type"] = [out["type"], "null"]
    return out


def _object(schema_cls) -> dict:
    schema = schema_cls()
    return {"type": "object",
            "required": sorted(n for n, f in schema.fields.items() if f.required),
            "properties": {name: _schema(f) for name, f in schema.fields.items()}}


def envelope_schema(data: dict) -> dict:
    return {"type": "object", "required": ["event_id", "type", "version", "occurred_at",
                                           "producer", "data"],
            "properties": {
                "event_id": {"type": "string", "format": "uuid",
                             "description": "dedupe on this: delivery is at least once"},
                "type": {"type": "string"}, "version": {"type": "integer", "const": 1},
                "occurred_at": {"type": "string", "format": "date-time"},
                "producer": {"type": "string"}, "data": data}}


def document() -> dict:
    channels, messages = {}, {}
    for (producer, type_), schema_cls in events.EVENTS.items():
        when, _ = DOCS[type_]
        messages[type_] = {
            "name": type_, "title": type_, "summary": when, "contentType": "application/json",
            "payload": envelope_schema(_object(schema_cls)),
            "examples": [{"name": type_, "payload": example(producer, type_)}],
            # AMQP properties: message_id = event_id, type, timestamp = occurred_at (whole
            # seconds), app_id = the producer (docs/events.md, "AMQP properties")
            "bindings": {"amqp": {"deliveryMode": 2, "contentEncoding": "utf-8",
                                  "messageType": type_, "bindingVersion": "0.2.0"}},
        }
        channels[f"{producer}.events/{type_}"] = {
            "description": f"Exchange `{producer}.events` (topic, durable), routing key "
                           f"`{type_}`. {when}",
            "bindings": {"amqp": {
                "is": "routingKey", "bindingVersion": "0.2.0",
                "exchange": {"name": f"{producer}.events", "type": "topic", "durable": True,
                             "autoDelete": False}}},
            "subscribe": {"operationId": f"on_{type_}", "summary": when,
                          "message": {"$ref": f"#/components/messages/{type_}"}},
        }
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "每月一关 · One level a month: events", "version": "1.0.0",
                 "description": "What the platform publishes for other systems. Bind a durable "
                                "queue of your own to `<producer>.events` with the event type "
                                "as the routing key. Delivery is at least once (dedupe on "
                                "`event_id`); order is not guaranteed across producers. "
                                "See docs/events.md."},
        "defaultContentType": "application/json",
        "servers": {"production": {"url": "rabbitmq.example.org:5672", "protocol": "amqp",
                                   "protocolVersion": "0.9.1",
                                   "description": "the platform's RabbitMQ; ask its operators "
                                                  "for a user with read access"}},
        "channels": channels,
        "components": {"messages": messages},
    }


def render_yaml() -> str:
    header = ("# Generated by `python -m kernel.asyncapi` from kernel/events.py: do not edit.\n")
    return header + yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100)


INTRO = """# Events for subscribers

<!-- Generated by `python -m kernel.asyncapi` from kernel/events.py: do not edit by hand. -->

The platform publishes what happens (a pass, a closed month, an award) as events on RabbitMQ,
for other agencies' systems to subscribe to. This page and the AsyncAPI document
[`asyncapi.yaml`](asyncapi.yaml) are generated from the schemas the producers validate every
event with, so they say exactly what is sent. `examples/subscriber.py` is a runnable
subscriber with a plain AMQP client (pika).

## Where events are

Each producing service has a **topic exchange** `<producer>.events` (durable, not
auto-deleted); the **routing key** is the event type. These five exchanges exist from the
moment the platform starts, before their first event: `roster.events`,
`question_bank.events`, `attempts.events`, `ranking.events`, `awards.events` (each producer
declares its own when it starts). **Bind, do not declare** them: a passive declare is enough
to check one is there.

Bind a durable queue of your own (one per subscribing system, named after it) to the
exchanges and keys you want, for example `attempts.events` / `attempt_passed`. A queue keeps
events while your system is down; an event published before your queue was bound is not in
it (ask for a replay, below). The virtual host is the operators' to tell you, with an AMQP
user that may declare and read its own queues; quorum queues (`x-queue-type: quorum`)
survive the loss of a broker node.

## The envelope

Every body is JSON (`content_type: application/json`, persistent):

| field | type | meaning |
|---|---|---|
| `event_id` | string (uuid) | unique per event: **dedupe on it** |
| `type` | string | the event type (also the routing key) |
| `version` | integer | 1; a change of meaning is a new version, announced in CHANGELOG.md |
| `occurred_at` | string (ISO 8601, offset) | when the producer committed it |
| `producer` | string | the service: `roster`, `question_bank`, `attempts`, `ranking`, `awards` |
| `data` | object | by type, below |

**Times: one rule.** Every time in every message (`occurred_at` and every time in `data`,
a month's `cutoff` included) is ISO 8601 in UTC with the offset written `+00:00`, to the
millisecond: `2018-05-31T15:59:59.999+00:00` is 23:59:59.999 in Shanghai (the campaign's
`time_zone` says which zone to show it in). No event carries a full phone number (only
`phone_masked`) or an answer key. New optional fields may appear in `data` within a version:
ignore fields you do not know.

## AMQP properties

Every event is published with these properties (the body is the same in every case):

| property | value |
|---|---|
| `message_id` | the envelope's `event_id` |
| `type` | the event type (as the routing key) |
| `timestamp` | `occurred_at`, in whole seconds since the epoch (UTC) |
| `app_id` | the producing service (the envelope's `producer`) |
| `content_type` / `content_encoding` | `application/json` / `utf-8` |
| `delivery_mode` | 2 (persistent) |

## Who an event is about

Every event about a member (roster's member and role events, `award_granted` and
`award_revoked`) carries `member`, who they are as another agency names them, the same
object everywhere (optional within v1: absent when the producer has not learnt it yet):

| field | type | meaning |
|---|---|---|
| `name` | string | the member's name |
| `phone_masked` | string or null | `138****0001`: never the full phone |
| `unit_id`, `unit_name` | string or null | their unit (the nearest unit at or above their place) |
| `branch_id`, `branch_name` | string or null | their branch, when they sit in one |

attempts' events carry the `member_id` only (they are many: a month's end sends tens of
thousands); name their member from roster's events, or ask the roster read API for agencies
([agencies.md](agencies.md): the current roster with the same fields, for a late subscriber).

## Delivery guarantees

- **At least once.** A producer writes an event in the same database transaction as the change
  it describes (a transactional outbox) and publishes it with publisher confirms afterwards; a
  crash between the two publishes it again later. So an event is never lost once the change is
  committed, and it may arrive twice: keep the `event_id`s you have handled (in the same
  transaction as your own work) and skip repeats.
- **Acknowledge after your work is done**, not before: a message you have not acknowledged is
  delivered again if your consumer stops. Use a prefetch (10–50) rather than unlimited.
- **Order** is the producer's commit order on one exchange, but not guaranteed across
  producers or after a redelivery: use `occurred_at` and the data (for example a run's
  `run_levels_passed`) rather than arrival order.
- **Replays.** After a fault on our side the operators may replay events; you will see the same
  `event_id` again. Failures in your own consumer stay on your side: dead-letter what you
  cannot handle.
- **Backfill for a late subscriber.** Each producer keeps the events it has sent for
  `OUTBOX_KEEP_DAYS` (400 days by default: a whole campaign). Bind your queue, then ask the
  operators for a replay of an exchange since a time, optionally of one type
  (`challenge events replay --exchange awards.events --since 2018-03-01T00:00:00+00:00
  --type award_granted --to-queue <your queue>`, or a system administrator's
  `POST /api/v1/admin/events/replay`). The events arrive in their original order with their
  original body and `event_id`, straight into your queue only (the default exchange, routing
  key = your queue): other subscribers do not see them again. Dedupe on `event_id` as always.

## Events

| exchange | routing key | published when |
|---|---|---|
"""


def _type_name(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {_type_name(schema['items'])}"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def render_markdown() -> str:
    parts = [INTRO]
    for (producer, type_) in events.EVENTS:
        parts.append(f"| `{producer}.events` | [`{type_}`](#{type_}) | {DOCS[type_][0]} |\n")
    for (producer, type_), schema_cls in events.EVENTS.items():
        when, _ = DOCS[type_]
        data = _object(schema_cls)
        parts.append(f"\n### {type_}\n\nExchange `{producer}.events`, routing key `{type_}`. "
                     f"{when}\n\n| field | type | required |\n|---|---|---|\n")
        for name, field in data["properties"].items():
            extra = f"; one of {', '.join(field['enum'])}" if "enum" in field else ""
            parts.append(f"| `{name}` | {_type_name(field)}{extra} | "
                         f"{'yes' if name in data['required'] else 'no'} |\n")
        body = json.dumps(example(producer, type_), ensure_ascii=False, indent=2)
        parts.append(f"\nExample:\n\n```json\n{body}\n```\n")
    return "".join(parts)


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for path, text in ((ASYNCAPI, render_yaml()), (MARKDOWN, render_markdown())):
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(os.path.relpath(path, ROOT))
            if not check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    if check and stale:
        print(f"out of date: {', '.join(stale)} (run `make docs`)", file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
