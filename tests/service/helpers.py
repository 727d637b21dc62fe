"""Helpers for service tests: feed a container the events it consumes, read its outbox."""
import json

from sqlalchemy import create_engine, select
from nameko.testing.services import entrypoint_hook

from kernel import clock, events


def deliver(container, handler, producer, type_, data):
    """Run `handler` with a contract envelope, as the bus would deliver it; returns the body."""
    body = events.build(producer, type_, data, clock.current().now())
    with entrypoint_hook(container, handler) as hook:
        hook(body)
    return body


def outbox_events(config, service, type_=None):
    from importlib import import_module

    table = import_module(f"services.{service}.models").outbox
    engine = create_engine(config[f"{service.upper()}_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.body).order_by(table.c.id)).all()
    engine.dispose()
    bodies = [json.loads(row.body) for row in rows]
    return [b for b in bodies if type_ is None or b["type"] == type_]


def call(container, method, *args, **kwargs):
    with entrypoint_hook(container, method) as hook:
        return hook(*args, **kwargs)


def publish_campaign(bank, year=2018, organisation_id="federation"):
    """A year's template sheet (the seed's pattern) imported and published through the
    question_bank container `bank`, as the demo and `challenge campaign` do."""
    from services.question_bank.campaign_sheet import keyed, template_rows

    report = call(bank, "import_campaign", None, organisation_id,
                  keyed(template_rows(year)))
    assert not report["errors"], report["errors"]
    return call(bank, "publish_campaign", None, report["campaign"]["campaign_id"])
