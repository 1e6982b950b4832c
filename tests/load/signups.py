"""A crowd against a served project: run with the baked project's interpreter (it has httpx).

    python signups.py BASE_URL [--sign-ups 1000] [--sign-ins 200] [--same 50] [--concurrency 100]

Sends the sign-ups (distinct addresses), then the sign-ins of the first ones, then `--same`
sign-ups of one address, each phase at most `--concurrency` at a time, and prints one JSON object:
per phase the count of each status (or transport error) and the distinct answer shapes, and the
addresses that answered 200 to their sign-up. A 5xx or a dropped connection is what the caller checks.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import uuid
from collections import Counter
from typing import Any

import httpx

PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a test account's


class NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Every request is another person: no session cookie is kept from one answer to the next."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--sign-ups", type=int, default=1000)
    parser.add_argument("--sign-ins", type=int, default=200)
    parser.add_argument("--same", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    gate = asyncio.Semaphore(args.concurrency)
    # A kept-alive connection is dropped by the client after 1 s idle, well before uvicorn's 5 s:
    # otherwise the server may close it just as the next phase sends on it (a ReadError that
    # says nothing about the app, seen on a loaded machine between the sign-up and sign-in phases).
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency, keepalive_expiry=1.0
    )
    headers = {"origin": args.base_url}
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(
        base_url=args.base_url, headers=headers, timeout=120, limits=limits
    ) as client:
        client.cookies.jar.set_policy(NoCookies())

        async def post(path: str, body: dict[str, str]) -> tuple[str, str]:
            async with gate:
                try:
                    answer = await client.post(path, json=body)
                except httpx.HTTPError as error:
                    return type(error).__name__, ""
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            return str(answer.status_code), json.dumps(sorted(answer.json()) if is_json else [])

        async def phase(name: str, path: str, bodies: list[dict[str, str]]) -> list[str]:
            results = await asyncio.gather(*(post(path, body) for body in bodies))
            report[name] = {
                "statuses": dict(Counter(status for status, _ in results)),
                "shapes": sorted({shape for _, shape in results}),
            }
            return [status for status, _ in results]

        emails = [f"crowd-{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(args.sign_ups)]
        statuses = await phase(
            "sign-ups",
            "/api/auth/sign-up/email",
            [{"name": "Crowd", "email": e, "password": PASSWORD} for e in emails],
        )
        report["signed_up"] = [e for e, status in zip(emails, statuses, strict=True) if status == "200"]
        await phase(
            "sign-ins",
            "/api/auth/sign-in/email",
            [{"email": e, "password": PASSWORD} for e in emails[: args.sign_ins]],
        )
        same = f"same-{uuid.uuid4().hex[:8]}@example.com"
        report["same_address"] = same
        await phase(
            "same-address",
            "/api/auth/sign-up/email",
            [{"name": "Same", "email": same, "password": PASSWORD}] * args.same,
        )
    print(json.dumps(report))  # noqa: T201 - the caller reads it


if __name__ == "__main__":
    asyncio.run(main())
