import csv
import json

import pytest
from sqlalchemy import func, select

from db import migrate
from db.models import Customer, Event
from db.session import make_engine
from services.container import Services
from services.domain import CustomerDraft
from services.errors import InvalidInput
from services.imports import ImportReport, RejectedRow, import_customers_csv, import_events_csv

CUSTOMER_HEADER = [
    "externalId",
    "name",
    "email",
    "phone",
    "region",
    "acquisitionChannel",
    "referredByExternalId",
    "attributes",
    "attr.age",
    "attr.vip",
]
EVENT_HEADER = [
    "externalId",
    "type",
    "occurredAt",
    "amount",
    "currency",
    "category",
    "score",
    "channel",
    "direction",
    "reason",
    "payload",
    "idempotencyKey",
]


@pytest.fixture
async def import_services(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'imports.db'}")
    await migrate.upgrade(engine)
    yield Services.build(engine)
    await engine.dispose()


def _write(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _customer_row(i, **overrides):
    row = {
        "externalId": f"c-{i}",
        "name": f"Cliente {i}",
        "email": f"c{i}@example.com",
        "phone": "",
        "region": "Madrid",
        "acquisitionChannel": "WORD_OF_MOUTH",
        "referredByExternalId": "",
        "attributes": "",
        "attr.age": str(20 + i % 50),
        "attr.vip": "true" if i % 7 == 0 else "false",
    }
    row.update(overrides)
    return [row[column] for column in CUSTOMER_HEADER]


async def _count(services, model):
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_bad_customer_rows_are_reported_by_line_and_good_ones_stored(
    import_services, tmp_path
):
    rows = [_customer_row(i) for i in range(1, 31)]
    rows[4] = _customer_row(5, email="not-an-email")  # line 6
    rows[9] = _customer_row(10, name="Multi\nline\nname")  # line 11, spans 3 lines
    rows[10] = _customer_row(11, acquisitionChannel="TELEPATHY")  # line 14
    rows[19] = _customer_row(20, attributes="{broken")  # line 23
    rows[24] = _customer_row(25, referredByExternalId="nobody")  # line 28
    rows[25] = _customer_row(26, referredByExternalId="c-3")  # referrer from an earlier batch
    path = _write(tmp_path / "customers.csv", CUSTOMER_HEADER, rows)
    report = await import_customers_csv(import_services, path, batch_size=8)
    assert report.rejected == (
        RejectedRow(6, "email", "'not-an-email' is not an email address"),
        RejectedRow(14, "acquisitionChannel", report.rejected[1].reason),
        RejectedRow(23, "attributes", report.rejected[2].reason),
        RejectedRow(28, "referredByExternalId", "no customer with externalId 'nobody'"),
    )
    assert report.accepted == 26
    assert await _count(import_services, Customer) == 26
    stored = await import_services.customers.get_by_external_id("c-10")
    assert stored.name == "Multi\nline\nname"
    assert stored.attributes == {"age": 30, "vip": False}
    referred = await import_services.customers.get_by_external_id("c-26")
    assert referred.referred_by_id == (await import_services.customers.get_by_external_id("c-3")).id


async def test_empty_cells_keep_stored_values_and_later_rows_win(import_services, tmp_path):
    await import_services.customers.upsert_many(
        [CustomerDraft("c-1", name="Ana", region="Galicia")]
    )
    rows = [
        _customer_row(1, name="", region="", **{"attr.age": "", "attr.vip": ""}),
        _customer_row(2, region="Córdoba"),
        _customer_row(2, region="Mendoza"),
    ]
    report = await import_customers_csv(
        import_services, _write(tmp_path / "c.csv", CUSTOMER_HEADER, rows)
    )
    assert report == ImportReport(accepted=3, duplicates=0, rejected=())
    first = await import_services.customers.get_by_external_id("c-1")
    assert (first.name, first.region) == ("Ana", "Galicia")
    assert (await import_services.customers.get_by_external_id("c-2")).region == "Mendoza"


async def test_unknown_or_missing_column_rejects_the_whole_file(import_services, tmp_path):
    unknown = _write(tmp_path / "unknown.csv", ["externalId", "nickname"], [["c-1", "Anita"]])
    with pytest.raises(InvalidInput) as caught:
        await import_customers_csv(import_services, unknown)
    assert caught.value.field == "nickname"
    missing = _write(tmp_path / "missing.csv", ["name"], [["Ana"]])
    with pytest.raises(InvalidInput) as caught:
        await import_customers_csv(import_services, missing)
    assert caught.value.field == "externalId"
    events = _write(tmp_path / "events.csv", ["externalId", "type", "occurredAt", "colour"], [])
    with pytest.raises(InvalidInput) as caught:
        await import_events_csv(import_services, events)
    assert caught.value.field == "colour"
    assert await _count(import_services, Customer) == 0


def _event_row(i, **overrides):
    row = dict.fromkeys(EVENT_HEADER, "")
    row.update(
        {
            "externalId": f"c-{i % 5}",
            "type": "PURCHASE",
            "occurredAt": f"2025-03-{1 + i % 28:02d}T10:00:00Z",
            "amount": f"{10 + i}.50",
            "currency": "EUR",
            "category": "seguros hogar",
            "idempotencyKey": f"evt-{i}",
        }
    )
    row.update(overrides)
    return [row[column] for column in EVENT_HEADER]


async def test_events_across_batches_with_bad_rows_and_duplicate_keys(import_services, tmp_path):
    customers = _write(tmp_path / "c.csv", ["externalId"], [[f"c-{i}"] for i in range(5)])
    await import_customers_csv(import_services, customers)
    rows = [_event_row(i) for i in range(2500)]
    rows[2] = _event_row(2, amount="doce")  # line 4
    rows[100] = _event_row(100, occurredAt="2025-03-01T10:00:00")  # line 102
    rows[1200] = _event_row(1200, payload="[1, 2]")  # line 1202
    rows[1300] = _event_row(
        1300, type="SURVEY", amount="", currency="", category="", score="11"
    )  # 1302
    rows[1400] = _event_row(1400, idempotencyKey="evt-5")  # duplicate key
    rows[1401] = _event_row(1401, externalId="ghost")  # line 1403
    rows[2400] = _event_row(
        2400,
        type="CONTACT",
        amount="",
        currency="",
        category="",
        channel="CHAT",
        direction="INBOUND",
        payload=json.dumps({"note": "llamó\npor factura"}),
    )
    path = _write(tmp_path / "events.csv", EVENT_HEADER, rows)
    batches = []
    report = await import_events_csv(
        import_services, path, batch_size=1000, progress=batches.append
    )
    assert [(r.line, r.field) for r in report.rejected] == [
        (4, "amount"),
        (102, "occurredAt"),
        (1202, "payload"),
        (1302, "score"),
        (1403, "externalId"),
    ]
    assert len(batches) == 3 and batches == sorted(batches) and batches[-1] == 2500  # rows read
    assert report.duplicates == 1
    assert report.accepted == 2500 - 5 - 1
    assert await _count(import_services, Event) == report.accepted
    again = await import_events_csv(import_services, path, batch_size=1000)
    assert (again.accepted, again.duplicates) == (0, report.accepted + 1)
    assert await _count(import_services, Event) == report.accepted


async def test_events_may_name_customers_imported_just_before(import_services, tmp_path):
    customers = _write(
        tmp_path / "c.csv", CUSTOMER_HEADER, [_customer_row(i) for i in range(1, 1201)]
    )
    assert (await import_customers_csv(import_services, customers, batch_size=500)).accepted == 1200
    rows = [_event_row(i, externalId=f"c-{i}", idempotencyKey="") for i in range(1, 1201)]
    report = await import_events_csv(
        import_services, _write(tmp_path / "e.csv", EVENT_HEADER, rows), batch_size=500
    )
    assert report == ImportReport(accepted=1200, duplicates=0, rejected=())
