"""The audit log in the console: the filtered viewer, its keyset pages, the streamed export, a user's activity."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from datetime import timedelta

from litestar import Litestar

from app.core.audit import BATCH_SIZE
from app.core.db import utcnow
from tests.audit import AT, add_entries, entry, logged
from tests.conftest import BASE_URL, AppFactory, Client, signed_in
from tests.features.admin.conftest import People
from tests.features.admin.helpers import person

N = re.compile(r'data-label="Details" class="break small">n=(\d+)<')
OLDER = re.compile(r'href="(/admin/audit\?[^"]*after=[^"]+)"')
HOSTILE = '=HYPERLINK("http://evil.example","Click")'


def shown(page: str) -> list[int]:
    """The `n` of each entry on a page, in the order shown."""
    return [int(n) for n in N.findall(page)]


async def test_admins_see_the_log_support_reads_it_but_may_not_export(app: Litestar, people: People) -> None:
    admin = await people("admin")
    support = await people("support")
    plain = await people()
    assert 'href="/admin/audit"' in (await admin.client.get("/account")).text
    assert 'href="/admin/audit"' in (await support.client.get("/account")).text  # support may read it
    page = await admin.client.get("/admin/audit")
    assert page.status_code == 200 and "/admin/audit/export?format=csv" in page.text
    read = await support.client.get("/admin/audit")
    assert read.status_code == 200 and "user.created" in read.text and "/admin/audit/export" not in read.text
    assert (await support.client.get("/admin/audit/export", params={"format": "csv"})).status_code == 403
    for path in ("/admin/audit", "/admin/audit/export"):
        assert (await plain.client.get(path)).status_code == 404
    assert await logged(app, "admin.audit_exported") == []  # the refused export left no trace of one


async def test_each_filter_narrows_the_entries(app: Litestar, people: People) -> None:
    admin = await people("admin")
    ada = await people()
    bob = await people()
    rows = [
        entry("demo.filter", AT, actor_id=uuid.UUID(ada.id), ip="203.0.113.7", data={"n": 0}),
        entry(
            "demo.filter",
            AT + timedelta(hours=1),
            actor_id=uuid.UUID(bob.id),
            target_type="user",
            target_id=ada.id,
            data={"n": 1},
        ),
        entry("demo.other", AT + timedelta(days=1), actor_id=uuid.UUID(bob.id), ip="2001:db8::1", data={"n": 2}),
        entry("demo.filter", AT + timedelta(days=2), target_type="session", target_id="s-1", data={"n": 3}),
    ]
    await add_entries(app, rows)

    async def found(**params: str) -> list[int]:
        page = await admin.client.get("/admin/audit", params=params)
        assert page.status_code == 200, page.text
        return sorted(shown(page.text))

    every = await admin.client.get("/admin/audit")
    assert '<option value="demo.filter">' in every.text and '<option value="demo.other">' in every.text
    assert await found(event="demo.filter") == [0, 1, 3]
    assert await found(actor=ada.email.upper()) == [0]  # by email, as typed
    assert await found(actor=bob.id) == [1, 2]  # or by id
    assert await found(target_type="user", target_id=ada.id) == [1]
    assert await found(target_type="session") == [3]
    assert await found(ip="2001:DB8::1") == [2]
    assert await found(event="demo.filter", **{"from": "2031-03-02", "to": "2031-03-02"}) == [0, 1]
    assert await found(event="demo.filter", **{"from": "2031-03-03"}) == [3]
    assert await found(user=ada.email) == [0, 1]  # as actor or as target
    bob_page = (await admin.client.get("/admin/audit", params={"user": bob.id})).text
    assert f'<a href="/admin/users/{bob.id}">{bob.email}</a>' in bob_page  # the actor, linked
    assert f'<a href="/admin/users/{ada.id}">{ada.email}</a>' in bob_page  # the target user, linked


async def test_pages_go_older_a_page_at_a_time_and_cover_every_entry_once(make_app: AppFactory) -> None:
    app = make_app(admin={"page_size": 5})
    admin = await person(app, "admin")
    try:
        # Three entries a second: pages end between entries of the same time, which only their id orders.
        await add_entries(app, [entry("demo.page", AT + timedelta(seconds=n // 3), data={"n": n}) for n in range(12)])
        pages = [await admin.client.get("/admin/audit", params={"event": "demo.page"})]
        while older := OLDER.findall(pages[-1].text):
            assert len(pages) < 5, "the pages never end"
            pages.append(await admin.client.get(html.unescape(older[0])))
        seen = [n for response in pages for n in shown(response.text)]
        assert [len(shown(response.text)) for response in pages] == [5, 5, 2]
        assert sorted(seen) == list(range(12)) and len(set(seen)) == 12
        assert [n // 3 for n in seen] == sorted((n // 3 for n in seen), reverse=True)  # newest first
        assert "Newest" in pages[1].text and "event=demo.page" in OLDER.findall(pages[0].text)[0]
        forged = await admin.client.get("/admin/audit", params={"event": "demo.page", "after": "garbage"})
        assert forged.status_code == 200 and "not valid" in forged.text and len(shown(forged.text)) == 5
    finally:
        await admin.client.aclose()


async def test_bad_filters_give_the_form_back_with_the_message(people: People) -> None:
    admin = await people("admin")
    cases = [
        ({"ip": "10.0.0.300"}, "Enter an IP address"),
        ({"from": "yesterday"}, "Enter a date such as 2026-01-31"),
        ({"from": "2031-03-05", "to": "2031-03-01"}, "The range ends before it starts."),
        ({"actor": "nobody-here@example.com"}, "No user has the email address nobody-here@example.com."),
        ({"actor": "not an address"}, "Enter a user&#39;s email address or id."),
        ({"target_id": "s-1"}, "Say what the target is"),
        ({"event": "x" * 61}, "Longer than any in the log: at most 60 characters."),
        ({"user": "nobody-here@example.com", "actor": "nobody-here@example.com"}, "not both"),
    ]
    for params, message in cases:
        page = await admin.client.get("/admin/audit", params=params)
        assert page.status_code == 400 and message in page.text, (params, page.text[:2000])
        assert 'aria-invalid="true"' in page.text and "Audit log" in page.text  # inline, on the form
        assert html.escape(next(iter(params.values())), quote=True) in page.text  # what was typed is kept
        refused = await admin.client.get("/admin/audit/export", params=params)
        assert refused.status_code == 400
    assert (await admin.client.get("/admin/audit/export", params={"format": "xlsx"})).status_code == 400


async def test_the_export_streams_exactly_the_filtered_rows_with_formulas_neutralised(
    app: Litestar, people: People
) -> None:
    admin = await people("admin")
    hostile = Client(app=app, base_url=BASE_URL)
    hostile.headers.update({"origin": BASE_URL, "user-agent": HOSTILE})
    email = await signed_in(hostile, None)
    await hostile.aclose()
    rows = [entry("demo.export", AT + timedelta(minutes=n), data={"n": n, "name": "-1+2"}) for n in range(3)]
    await add_entries(app, [*rows, entry("demo.elsewhere", AT)])

    as_csv = await admin.client.get("/admin/audit/export", params={"format": "csv", "event": "demo.export"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="audit-log-\d{4}-\d{2}-\d{2}\.csv"', as_csv.headers["content-disposition"]
    )
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["id"] for row in parsed] == [str(row.id) for row in rows]  # those rows, oldest first
    assert all(row["event"] == "demo.export" and json.loads(row["data"])["name"] == "-1+2" for row in parsed)

    as_jsonl = await admin.client.get("/admin/audit/export", params={"format": "jsonl", "event": "demo.export"})
    assert as_jsonl.headers["content-disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [line["id"] for line in lines] == [str(row.id) for row in rows]
    assert [line["data"] for line in lines] == [{"n": n, "name": "-1+2"} for n in range(3)]

    signed = await admin.client.get(
        "/admin/audit/export", params={"format": "csv", "event": "session.created", "actor": email}
    )
    (session_row,) = csv.DictReader(io.StringIO(signed.text))
    assert session_row["user_agent"] == "'" + HOSTILE  # a spreadsheet shows it, and runs nothing
    exported = await admin.client.get("/admin/audit/export", params={"format": "jsonl", "event": "demo.none"})
    assert exported.status_code == 200 and exported.text == ""


async def test_an_export_is_recorded_before_it_is_sent(app: Litestar, people: People) -> None:
    admin = await people("admin")
    params = {"format": "jsonl", "event": "admin.audit_exported", "from": "2026-01-01"}
    first = await admin.client.get("/admin/audit/export", params=params)
    # The export's own entry was committed before its first row was read: it is in the file.
    (line,) = [json.loads(line) for line in first.text.splitlines()]
    assert line["actor_id"] == admin.id and line["target_type"] == "audit_log"
    assert line["data"] == {
        "format": "jsonl",
        "filters": {"event": "admin.audit_exported", "since": "2026-01-01T00:00:00+00:00"},
    }
    await admin.client.get("/admin/audit/export", params={"format": "csv"})
    assert [row.data["format"] for row in await logged(app, "admin.audit_exported")] == ["jsonl", "csv"]


async def test_an_export_of_several_batches_has_every_row_once(app: Litestar, people: People) -> None:
    admin = await people("admin")
    count = 2 * BATCH_SIZE + 7
    # Ten entries a second, so that batches end between entries of the same time.
    await add_entries(app, [entry("demo.many", AT + timedelta(seconds=n // 10), data={"n": n}) for n in range(count)])
    response = await admin.client.get("/admin/audit/export", params={"format": "jsonl", "event": "demo.many"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == count and len({line["id"] for line in lines}) == count
    assert [line["data"]["n"] // 10 for line in lines] == [n // 10 for n in range(count)]  # oldest first


async def test_the_user_page_shows_recent_activity_and_links_to_all_of_it(app: Litestar, people: People) -> None:
    admin = await people("admin")
    support = await people("support")
    target = await people()
    later = utcnow() + timedelta(hours=1)  # after the entries of their sign-up, whenever the test runs
    actor, me = uuid.UUID(admin.id), uuid.UUID(target.id)
    await add_entries(
        app,
        [entry("demo.mine", later + timedelta(minutes=n), actor_id=me, data={"n": n}) for n in range(0, 12, 2)]
        + [
            entry(
                "demo.done_to",
                later + timedelta(minutes=n),
                actor_id=actor,
                target_type="user",
                target_id=str(me),
                data={"n": n},
            )
            for n in range(1, 12, 2)
        ],
    )
    page = await admin.client.get(f"/admin/users/{target.id}")
    assert "Recent activity" in page.text
    assert shown(page.text) == list(range(11, 1, -1))  # the last ten, as actor or target, newest first
    assert f'href="/admin/audit?user={target.id}"' in page.text
    everything = await admin.client.get(f"/admin/audit?user={target.id}")
    assert sorted(shown(everything.text)) == list(range(12)) and "user.created" in everything.text
    assert "Recent activity" in (await support.client.get(f"/admin/users/{target.id}")).text  # audit:list
