"""Rate limits per IP (app.core.ratelimit), per address for mails, per account for failed sign-ins."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.exceptions import TooManyRequestsException
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore

from app.core.client_ip import limit_key, scope_client_ip_resolver
from app.core.counters import Counters, LocalCounter, LocalLog
from app.core.ratelimit import RateLimiter
from app.settings import AppSettings, RateLimitSettings
from tests.conftest import BASE_URL, STRONG_PASSWORD, AppFactory, FrozenClock, unique_email


def client_from(app: Any, ip: str) -> httpx.AsyncClient:
    """A client whose requests arrive from `ip` (the socket peer address the app sees)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL})


async def test_sign_in_is_limited_per_ip_with_retry_after(make_app: AppFactory) -> None:
    app = make_app()
    async with client_from(app, "203.0.113.5") as client, client_from(app, "203.0.113.6") as other:
        body = {"email": unique_email(), "password": "not the password"}
        codes = [
            (await client.post("/api/auth/sign-in/email", json=body | {"email": unique_email()})).status_code
            for _ in range(30)
        ]
        assert set(codes) == {401}  # distinct accounts: only the per-IP limit can trip
        limited = await client.post("/api/auth/sign-in/email", json=body)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert limited.json() == {
            "code": "TOO_MANY_REQUESTS",
            "message": "Too many requests from your network. Wait a minute and try again.",
        }
        # A boosted form gets the refusal next to it (the notice region), and keeps what was typed.
        boosted = {"hx-request": "true", "hx-boosted": "true"}
        form = await client.post("/sign-in", data={"email": unique_email(), "password": "x"}, headers=boosted)
        assert form.status_code == 429 and form.headers["hx-retarget"] == "#notice-region"
        assert "The form is kept as it is." in form.text and "<html" not in form.text
        assert (await other.post("/api/auth/sign-in/email", json=body)).status_code == 401


async def test_sign_up_is_limited_to_ten_a_minute_per_ip(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"mail_per_address": 50})
    async with client_from(app, "203.0.113.7") as client:
        body = {"name": "A", "email": "x", "password": STRONG_PASSWORD}
        codes = [(await client.post("/api/auth/sign-up/email", json=body)).status_code for _ in range(11)]
        assert codes[:10] == [400] * 10 and codes[10] == 429


async def test_general_limit_applies_to_every_route(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"general": 5})
    async with client_from(app, "203.0.113.8") as client:
        codes = [(await client.get("/api/auth/get-session")).status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        assert (await client.get("/health")).status_code == 200  # probes are never limited


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(make_app: AppFactory) -> None:
    body = {"email": unique_email(), "password": "not the password"}
    untrusted = make_app(rate_limit={"sign_in": 2})
    async with client_from(untrusted, "203.0.113.9") as client:
        codes = [
            (
                await client.post("/api/auth/sign-in/email", json=body, headers={"x-forwarded-for": f"198.51.100.{i}"})
            ).status_code
            for i in range(3)
        ]
        assert codes == [401, 401, 429]
    trusted = make_app(rate_limit={"sign_in": 2}, app={"trusted_proxies": ["10.0.0.0/8"]})
    async with client_from(trusted, "10.1.2.3") as proxy:
        codes = [
            (
                await proxy.post("/api/auth/sign-in/email", json=body, headers={"x-forwarded-for": f"198.51.100.{i}"})
            ).status_code
            for i in range(3)
        ]
        assert codes == [401, 401, 401]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.1.2.3", "198.51.100.7", "198.51.100.7"),  # a trusted proxy: its client
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # not a proxy of ours: the header is ignored
        ("10.1.2.3", "198.51.100.7, 10.9.9.9", "198.51.100.7"),  # the nearest untrusted hop
        ("10.1.2.3", "192.0.2.1, 198.51.100.7, 10.9.9.9", "198.51.100.7"),  # never what a client wrote first
        ("10.1.2.3", "2001:DB8:0:0::1", "2001:db8::1"),  # one spelling per address (one rate-limit key)
        # IPv4-mapped is not in the IPv4 network (Python writes it ::ffff:a00:1 or ::ffff:10.0.0.1)
        ("10.1.2.3", "::ffff:10.0.0.1", str(ipaddress.ip_address("::ffff:10.0.0.1"))),
        ("10.1.2.3", "198.051.100.7", "10.1.2.3"),  # leading zeros: not an address, the proxy counts
        ("10.1.2.3", "not an address", "10.1.2.3"),
        ("10.1.2.3", "", "10.1.2.3"),
        ("11.1.2.3", "198.51.100.7", "11.1.2.3"),  # just outside 10.0.0.0/8
        ("::1", "198.51.100.7", "198.51.100.7"),  # an IPv6 proxy
    ],
)
def test_the_client_ip_comes_from_trusted_proxies_only(peer: str, forwarded: str, expected: str) -> None:
    settings = AppSettings(trusted_proxies=["10.0.0.0/8", "::1"])
    client_ip = scope_client_ip_resolver(settings)
    scope: Any = {"client": (peer, 40000), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    assert client_ip(scope) == expected
    assert client_ip(scope) == expected  # the same from the cache


def test_several_forwarded_for_lines_read_as_one_list() -> None:
    client_ip = scope_client_ip_resolver(AppSettings(trusted_proxies=["10.0.0.0/8"]))
    lines = [(b"x-forwarded-for", b"192.0.2.1, 198.51.100.7"), (b"host", b"x"), (b"x-forwarded-for", b"10.9.9.9")]
    scope: Any = {"client": ("10.1.2.3", 40000), "headers": lines}
    assert client_ip(scope) == "198.51.100.7"
    no_header: Any = {"client": ("10.1.2.3", 40000), "headers": [(b"host", b"x")]}
    assert client_ip(no_header) == "10.1.2.3"
    no_peer: Any = {"client": None, "headers": []}
    assert client_ip(no_peer) == "unknown"


async def test_reset_mails_are_limited_per_address(make_app: AppFactory) -> None:
    app = make_app()
    async with client_from(app, "203.0.113.10") as client, client_from(app, "203.0.113.11") as other:
        email = unique_email()
        codes = [
            (await client.post("/api/auth/request-password-reset", json={"email": email})).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 200]
        limited = await other.post("/api/auth/request-password-reset", json={"email": email})
        assert limited.status_code == 429  # per address, whatever the IP
        assert int(limited.headers["retry-after"]) > 0
        assert (await other.post("/api/auth/request-password-reset", json={"email": unique_email()})).status_code == 200
    await app.state.mailer.drain()


async def test_parallel_wrong_passwords_get_no_more_tries_than_the_budget(make_app: AppFactory) -> None:
    """Each attempt spends its unit before its hash runs: eight guesses at once, three checked."""
    app = make_app(rate_limit={"failed_sign_in_budget": 3})
    email = unique_email()
    async with client_from(app, "203.0.113.21") as client:
        await client.post("/api/auth/sign-up/email", json={"name": "V", "email": email, "password": STRONG_PASSWORD})
    attackers = [client_from(app, f"198.51.100.{i + 10}") for i in range(8)]
    try:
        guesses = [
            attacker.post("/api/auth/sign-in/email", json={"email": email, "password": f"guess number {i}"})
            for i, attacker in enumerate(attackers)
        ]
        codes = sorted(response.status_code for response in await asyncio.gather(*guesses))
    finally:
        for attacker in attackers:
            await attacker.aclose()
    assert codes == [401, 401, 401, 429, 429, 429, 429, 429]
    async with client_from(app, "198.51.100.99") as owner:
        response = await owner.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 429
    await app.state.mailer.drain()


async def test_right_passwords_give_their_unit_back(make_app: AppFactory) -> None:
    """Only wrong passwords count: a right one (here before a second factor or a block) costs nothing."""
    app = make_app(rate_limit={"failed_sign_in_budget": 2})
    budget = app.state.auth.failed_sign_ins
    email = unique_email()
    assert await budget.spend(email) == await budget.spend(email) == 0  # two failures so far
    await budget.take_back(email)
    assert await budget.spend(email) == 0  # the unit given back is spent again: two
    assert await budget.spend(email) > 0  # and the budget is used up: the seconds to wait
    await budget.reset(email)
    assert await budget.spend(email) == 0
    await budget.take_back(email)
    await budget.take_back(email)  # never below zero
    assert [await budget.spend(email) > 0 for _ in range(3)] == [False, False, True]


async def test_failed_sign_in_budget_holds_across_ips(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"failed_sign_in_budget": 3})
    email = unique_email()
    async with client_from(app, "203.0.113.20") as client:
        await client.post("/api/auth/sign-up/email", json={"name": "V", "email": email, "password": STRONG_PASSWORD})
    for i in range(3):
        async with client_from(app, f"198.51.100.{i + 1}") as attacker:
            response = await attacker.post(
                "/api/auth/sign-in/email", json={"email": email, "password": "guess-" + str(i) * 8}
            )
            assert response.status_code == 401
    async with client_from(app, "198.51.100.99") as owner:
        response = await owner.post("/api/auth/sign-in/email", json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 429
        assert response.json()["code"] == "TOO_MANY_REQUESTS"
    await app.state.mailer.drain()


async def test_responses_carry_the_rate_limit_headers(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"general": 50, "sign_in": 4})
    async with client_from(app, "203.0.113.30") as client:
        first = await client.get("/api/auth/get-session")
        second = await client.get("/api/auth/get-session")
        assert first.headers["ratelimit-policy"] == '"general";q=50;w=60'
        assert re.fullmatch(r'"general";r=49;t=\d+', first.headers["ratelimit"])
        assert re.fullmatch(r'"general";r=48;t=\d+', second.headers["ratelimit"])
        assert 0 < int(first.headers["ratelimit"].rsplit("=", 1)[1]) <= 60
        signing_in = await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 12})
        # the tighter of the two rules that apply
        assert signing_in.headers["ratelimit-policy"] == '"sign_in";q=4;w=60'
        assert signing_in.headers["ratelimit"].startswith('"sign_in";r=3;t=')
        assert "ratelimit" not in (await client.get("/health")).headers
        assert len(first.headers.get_list("ratelimit")) == len(first.headers.get_list("ratelimit-policy")) == 1


async def test_rate_limits_can_be_switched_off(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"enabled": False, "general": 1})
    async with client_from(app, "203.0.113.31") as client:
        responses = [await client.get("/api/auth/get-session") for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 200]
        assert "ratelimit" not in responses[0].headers and "ratelimit-policy" not in responses[0].headers


async def test_a_new_window_starts_from_zero(clock: FrozenClock) -> None:
    counter = LocalCounter()
    assert await counter.hit(["a", "b"], 60) == [1, 1]
    assert await counter.hit(["a"], 60) == [2]
    clock.advance(60)  # the next minute
    assert await counter.hit(["a", "b"], 60) == [1, 1]


def test_counters_keep_the_stores_sharing() -> None:
    counters = Counters(MemoryStore())
    assert isinstance(counters.window(), LocalCounter) and isinstance(counters.log(60), LocalLog)
    with pytest.raises(TypeError, match="memory or Redis"):
        Counters(FileStore(Path("unused")))


async def test_local_counters_take_back_and_clear(clock: FrozenClock) -> None:
    counter = LocalCounter()
    assert await counter.hit(["a", "a", "b"], 60) == [1, 2, 1]
    await counter.take_back("a", 60)
    await counter.clear("b", 60)
    assert await counter.hit(["a", "b"], 60) == [2, 1]
    clock.advance(60)
    await counter.take_back("a", 60)  # a new window: nothing of the last one to give back
    assert await counter.hit(["a"], 60) == [1]


async def test_a_burst_across_the_end_of_a_minute_gets_no_more_than_the_limit(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    """Sign-in is limited in a sliding window: 20 attempts at the end of a minute and 15 at the
    start of the next are 35 within seconds; a fixed window let them all through."""
    app = make_app()  # 30 sign-in attempts a minute per IP
    async with client_from(app, "203.0.113.40") as client:

        async def attempts(count: int) -> list[int]:  # each at another account: only the per-IP rule counts
            body = {"password": "not the password"}
            return [
                (await client.post("/api/auth/sign-in/email", json=body | {"email": unique_email()})).status_code
                for _ in range(count)
            ]

        clock.advance(58)  # the last seconds of a minute
        assert await attempts(20) == [401] * 20
        clock.advance(3)  # the next minute
        assert await attempts(15) == [401] * 10 + [429] * 5
        refused = await client.post("/api/auth/sign-in/email", json={"email": unique_email(), "password": "x" * 9})
        assert refused.headers["retry-after"] == "57"  # when the 20 attempts leave the window
        clock.advance(57)
        assert await attempts(20) == [401] * 20


async def test_sign_up_slides_too(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app(rate_limit={"mail_per_address": 50})  # 10 sign-ups a minute per IP
    async with client_from(app, "203.0.113.41") as client:
        body = {"name": "A", "email": "x", "password": STRONG_PASSWORD}  # refused at once: only the limit counts
        clock.advance(58)
        assert [(await client.post("/api/auth/sign-up/email", json=body)).status_code for _ in range(6)] == [400] * 6
        clock.advance(3)
        codes = [(await client.post("/api/auth/sign-up/email", json=body)).status_code for _ in range(6)]
        assert codes == [400] * 4 + [429] * 2


async def test_mails_to_one_address_slide(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app()  # 3 mails a minute per address
    email = unique_email()
    async with client_from(app, "203.0.113.42") as client:
        clock.advance(58)
        for _ in range(3):
            assert (await client.post("/api/auth/request-password-reset", json={"email": email})).status_code == 200
        clock.advance(3)
        limited = await client.post("/api/auth/request-password-reset", json={"email": email})
        assert limited.status_code == 429 and limited.headers["retry-after"] == "57"
    await app.state.mailer.drain()


async def test_failed_sign_ins_of_an_account_slide(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app(rate_limit={"failed_sign_in_budget": 3})  # 3 failures per account in 15 minutes
    email = unique_email()
    async with client_from(app, "203.0.113.43") as client:
        await client.post("/api/auth/sign-up/email", json={"name": "V", "email": email, "password": STRONG_PASSWORD})
        for _ in range(3):
            wrong = await client.post("/api/auth/sign-in/email", json={"email": email, "password": "a wrong guess"})
            assert wrong.status_code == 401
        right = {"email": email, "password": STRONG_PASSWORD}
        clock.advance(899)
        locked = await client.post("/api/auth/sign-in/email", json=right)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "1"
        clock.advance(1)
        assert (await client.post("/api/auth/sign-in/email", json=right)).status_code == 200
    await app.state.mailer.drain()


def _scope(path: str, method: str, rule: str | None, ip: str) -> Any:
    opt = {"rate_limit": rule} if rule else {}
    return {"path": path, "method": method, "client": (ip, 40000), "headers": [], "route_handler": Handler(opt)}


@dataclass(frozen=True)
class Handler:
    """What the limiter reads of a route handler."""

    opt: dict[str, str]


async def test_a_strict_rule_counts_every_method_of_its_route() -> None:
    settings = RateLimitSettings(sign_in=2)
    limiter = RateLimiter(settings, scope_client_ip_resolver(AppSettings()), MemoryStore())
    for method in ("GET", "POST"):  # a GET that starts a sign-in (a provider's redirect) counts too
        await limiter(_scope(f"/start-{method}", method, "sign_in", "203.0.113.44"))
    with pytest.raises(TooManyRequestsException) as refused:
        await limiter(_scope("/start", "HEAD", "sign_in", "203.0.113.44"))
    assert refused.value.headers is not None and int(refused.value.headers["Retry-After"]) > 0
    await limiter(_scope("/page", "GET", None, "203.0.113.44"))  # a route without the rule: the general limit only


async def test_ipv6_clients_count_by_their_64(make_app: AppFactory) -> None:
    app = make_app(rate_limit={"sign_in": 2})
    body = {"email": unique_email(), "password": "not the password"}

    async def sign_in_from(ip: str) -> int:
        async with client_from(app, ip) as client:
            return (await client.post("/api/auth/sign-in/email", json=body)).status_code

    assert [await sign_in_from("2001:db8:1:2::1"), await sign_in_from("2001:db8:1:2:ffff:0:0:5")] == [401, 401]
    assert await sign_in_from("2001:db8:1:2:abcd::9") == 429  # the same /64: one subscriber
    assert await sign_in_from("2001:db8:1:3::1") == 401  # the next /64


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # an IPv4 client seen through IPv6: its own address
        ("::1", "::/64"),
        ("unknown", "unknown"),
        ("not:an:address", "not:an:address"),
    ],
)
def test_the_rate_limit_key_of_an_address(address: str, key: str) -> None:
    assert limit_key(address) == key
