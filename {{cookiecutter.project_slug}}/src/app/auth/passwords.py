"""Password hashing and the password policy.

Argon2id (argon2-cffi) at OWASP's minimum recommended profile by default: m=19 MiB, t=2, p=1.
On the 2-vCPU machines this template targets, that costs ≈ 36 ms per hash instead of ≈ 235 ms
for argon2-cffi's defaults (64 MiB, t=3, p=4): sign-in stays interactive and a burst of
sign-in attempts cannot monopolise the CPU, while every OWASP-recommended profile offers the
same resistance to GPU cracking. Parameters are settings (AUTH_ARGON2_*); hashes made with
older parameters, and imported bcrypt hashes, are re-hashed on the next successful sign-in.
Hashing runs in worker threads so the event loop keeps serving requests, at most one per CPU at
a time: a hundred sign-ins at once hash in turn rather than in forty threads that leave the event
loop (and the database transactions it drives) waiting for a core.
"""

from __future__ import annotations

import os
from functools import lru_cache

import anyio
import anyio.to_thread
import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.settings import AuthSettings

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# Hashes computed at once: the CPUs this process may use (a container's quota shows in its affinity).
HASHING_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PasswordPolicyError(ValueError):
    """The password is refused; the message says why in words a user understands."""


class Passwords:
    """Hashes and verifies passwords with the configured Argon2id parameters."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified when the email is unknown, so that path costs exactly one hash as well.
        self._dummy_hash = self.hasher.hash("not a real password: enumeration guard")
        self._threads: anyio.CapacityLimiter | None = None  # made on first use, in the event loop

    def _limiter(self) -> anyio.CapacityLimiter:
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(max(1, HASHING_THREADS))
        return self._threads

    async def hash(self, password: str) -> str:
        """Hash a new password off the event loop."""
        return await anyio.to_thread.run_sync(self.hasher.hash, password, limiter=self._limiter())

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; with no stored hash, burn the same time and return False."""
        return await anyio.to_thread.run_sync(self._verify, stored_hash, password, limiter=self._limiter())

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        if stored_hash is None:
            self._verify_argon2(self._dummy_hash, password)
            return False
        if stored_hash.startswith(BCRYPT_PREFIXES):
            try:
                return bcrypt.checkpw(password.encode()[:72], stored_hash.encode())
            except ValueError:
                return False
        return self._verify_argon2(stored_hash, password)

    def _verify_argon2(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True for bcrypt imports and Argon2 hashes made with other parameters."""
        if stored_hash.startswith(BCRYPT_PREFIXES):
            return True
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def check_policy(self, password: str, email: str) -> None:
        """Length 8..128, not a common password, not containing the email's local part."""
        if len(password) < self.settings.password_min_length:
            raise PasswordPolicyError(f"Use at least {self.settings.password_min_length} characters.")
        if len(password) > self.settings.password_max_length:
            raise PasswordPolicyError(f"Use at most {self.settings.password_max_length} characters.")
        lowered = password.lower()
        if lowered in common_passwords():
            raise PasswordPolicyError("This password is too common; choose one that is harder to guess.")
        local_part = email.split("@", 1)[0].lower()
        if len(local_part) >= 3 and local_part in lowered:
            raise PasswordPolicyError("The password must not contain your email address.")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords that zxcvbn ships (loaded once)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
