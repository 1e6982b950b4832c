"""Typed settings, one group per concern, read from the environment and `.env`.

Every setting is documented in `.env.example`. `load_settings()` validates all groups and the
production rules at once and raises `SettingsError` listing every problem; the entry points
print that list and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EXAMPLE_SECRET = "generate"  # noqa: S105 - the placeholder in .env.example, never valid in production
ARGON2_MIN_MEMORY_KIB = 19456  # OWASP's minimum recommended Argon2id profile: m=19 MiB, t=2, p=1
ARGON2_MIN_TIME_COST = 2


class Environment(StrEnum):
    """Where the app runs; production turns on the strict checks."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class _Group(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)


class AppSettings(_Group):
    """APP_*: identity, environment and the trust boundaries of the web server."""

    model_config = SettingsConfigDict(env_prefix="APP_")

    name: str = "My App"
    env: Environment = Environment.DEVELOPMENT
    debug: bool = False
    base_url: str = "http://localhost:8000"
    trusted_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _split_lists = field_validator("trusted_origins", "trusted_proxies", mode="before")(_split)

    @field_validator("base_url", "trusted_origins")
    @classmethod
    def _absolute_urls(cls, value: Any) -> Any:
        for url in value if isinstance(value, list) else [value]:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return value

    @cached_property
    def origin(self) -> str:
        """The scheme://host[:port] of the base URL."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_production(self) -> bool:
        """True when the strict production rules apply."""
        return self.env is Environment.PRODUCTION


class SecretSettings(_Group):
    """SECRET_KEY signs and encrypts; SECRET_KEY_FALLBACKS still verify during a rotation."""

    secret_key: str = EXAMPLE_SECRET
    secret_key_fallbacks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    _split_lists = field_validator("secret_key_fallbacks", mode="before")(_split)


class DatabaseSettings(_Group):
    """DATABASE_*: SQLite by default, PostgreSQL through asyncpg."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: str = "sqlite+aiosqlite:///./app.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    # Seconds a request waits for a connection (on SQLite: for its turn) before answering 503.
    pool_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class RedisSettings(_Group):
    """REDIS_*: the store several instances share (rate limits, budgets, kept forms); memory when
    REDIS_URL is empty. While Redis is away, each process counts for itself (app.core.stores)."""

    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: str = ""
    # Seconds Redis has to answer a command (or to accept a connection) before it counts as away.
    timeout: float = Field(default=0.5, gt=0, le=30)
    # While Redis is away, seconds between two tries; meanwhile counts stay in each process.
    retry_seconds: float = Field(default=5.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class MailSettings(_Group):
    """MAIL_*: the console backend prints mails; smtp sends them with aiosmtplib."""

    model_config = SettingsConfigDict(env_prefix="MAIL_")

    backend: str = Field(default="console", pattern="^(console|smtp)$")
    from_address: str = "My App <no-reply@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = Field(default="starttls", pattern="^(none|starttls|tls)$")
    smtp_timeout: float = Field(default=10.0, gt=0)


class AuthSettings(_Group):
    """AUTH_*: sessions, tokens, passwords and sign-in policy (durations in seconds)."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    session_max_age: int = Field(default=7 * 86400, ge=300)
    session_update_age: int = Field(default=86400, ge=60)
    session_absolute_max_age: int = Field(default=30 * 86400, ge=300)
    fresh_age: int = Field(default=15 * 60, ge=30)
    cookie_cache: bool = False
    cookie_cache_max_age: int = Field(default=300, ge=5, le=3600)
    allow_unverified_sign_in: bool | None = None
    verification_ttl: int = Field(default=3600, ge=60)
    reset_ttl: int = Field(default=3600, ge=60)
    password_min_length: int = Field(default=8, ge=8, le=64)
    password_max_length: int = Field(default=128, ge=64, le=1024)
    # OWASP's minimum (19 MiB, t=2) is the floor everywhere but APP_ENV=test (see Settings.policy_problems).
    argon2_memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=8)
    argon2_time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)


class RateLimitSettings(_Group):
    """RATE_LIMIT_*: requests per minute per client IP, plus per-address and per-account budgets."""

    model_config = SettingsConfigDict(env_prefix="RATE_LIMIT_")

    enabled: bool = True
    general: int = Field(default=600, ge=1)
    sign_in: int = Field(default=30, ge=1)
    sign_up: int = Field(default=10, ge=1)
    mail_per_address: int = Field(default=3, ge=1)
    failed_sign_in_budget: int = Field(default=10, ge=1)
    failed_sign_in_window: int = Field(default=900, ge=60)


class AuditSettings(_Group):
    """AUDIT_*: how long the audit log keeps its entries; `app audit prune` deletes the older ones."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_")

    # Days an entry is kept; 0 (or empty) keeps every entry forever.
    retention_days: int = Field(default=0, ge=0, le=36500)

    @field_validator("retention_days", mode="before")
    @classmethod
    def _empty_is_forever(cls, value: Any) -> Any:
        return 0 if isinstance(value, str) and not value.strip() else value


class FeatureSettings(_Group):
    """The base of an optional feature's settings class (`Feature.settings`).

    A subclass sets `group` (its key in `load_settings` overrides, e.g. "webhooks") and its own
    `env_prefix`. It is read and validated with the core groups, and `problems` adds the rules
    between its fields and the rest of the settings (reported with everything else, at once).
    """

    group: ClassVar[str]

    def problems(self, settings: Settings) -> list[str]:
        """Rules between this group's fields and the other settings; none by default."""
        del settings
        return []


FeatureSettingsT = TypeVar("FeatureSettingsT", bound=FeatureSettings)


class SettingsError(Exception):
    """Raised with every problem found, so they can be fixed in one go."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings:
    """All groups together; build it with `load_settings()` (or directly in tests)."""

    def __init__(
        self,
        app: AppSettings,
        secrets: SecretSettings,
        database: DatabaseSettings,
        redis: RedisSettings,
        mail: MailSettings,
        auth: AuthSettings,
        rate_limit: RateLimitSettings,
        audit: AuditSettings | None = None,
        features: Sequence[FeatureSettings] = (),
    ) -> None:
        self.app = app
        self.secrets = secrets
        self.database = database
        self.redis = redis
        self.mail = mail
        self.auth = auth
        self.rate_limit = rate_limit
        self.audit = audit or AuditSettings()
        self.features: Mapping[type[FeatureSettings], FeatureSettings] = {type(group): group for group in features}

    def feature(self, kind: type[FeatureSettingsT]) -> FeatureSettingsT:
        """The settings of the feature whose settings class is `kind`."""
        try:
            group = self.features[kind]
        except KeyError:
            raise LookupError(f"{kind.__name__} was not loaded: load_settings(features=...) must list it") from None
        assert isinstance(group, kind)
        return group

    def replace(self, **groups: Any) -> Settings:
        """A copy with some core groups replaced (e.g. `database=...`); the feature groups are kept."""
        current = {name: getattr(self, name) for name in GROUPS}
        return Settings(**(current | groups), features=list(self.features.values()))

    @property
    def allow_unverified_sign_in(self) -> bool:
        """Off in production unless set; on in development and test so a new user can try the app."""
        if self.auth.allow_unverified_sign_in is not None:
            return self.auth.allow_unverified_sign_in
        return not self.app.is_production

    def policy_problems(self) -> list[str]:
        """The rules between settings: the hashing floor (lifted only for tests, whose hashes
        protect nothing and would otherwise be most of their time) and production's rules."""
        found = []
        weak = self.auth.argon2_memory_kib < ARGON2_MIN_MEMORY_KIB or self.auth.argon2_time_cost < ARGON2_MIN_TIME_COST
        if weak and self.app.env is not Environment.TEST:
            found.append(
                f"AUTH_ARGON2_MEMORY_KIB must be at least {ARGON2_MIN_MEMORY_KIB} and AUTH_ARGON2_TIME_COST at "
                f"least {ARGON2_MIN_TIME_COST} (OWASP's minimum); lower values are for APP_ENV=test only."
            )
        found += self.production_problems()
        for group in self.features.values():
            found += group.problems(self)
        return found

    def production_problems(self) -> list[str]:
        """The rules that only production enforces."""
        if not self.app.is_production:
            return []
        found = []
        secret = self.secrets.secret_key
        if secret == EXAMPLE_SECRET or len(secret.encode()) < 32:
            found.append("SECRET_KEY must be at least 32 bytes and not the example value in production.")
        if not self.app.base_url.startswith("https://"):
            found.append("APP_BASE_URL must use https in production.")
        if self.app.debug:
            found.append("APP_DEBUG must be off in production.")
        if self.auth.session_update_age >= self.auth.session_max_age:
            found.append("AUTH_SESSION_UPDATE_AGE must be shorter than AUTH_SESSION_MAX_AGE.")
        return found


GROUPS: dict[str, type[_Group]] = {
    "app": AppSettings,
    "secrets": SecretSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "mail": MailSettings,
    "auth": AuthSettings,
    "rate_limit": RateLimitSettings,
    "audit": AuditSettings,
}


def _describe(group: type[BaseSettings], error: ValidationError) -> list[str]:
    prefix = str(group.model_config.get("env_prefix", ""))
    lines = []
    for item in error.errors():
        if not item["loc"]:  # a rule across fields names them itself
            lines.append(item["msg"].removeprefix("Value error, "))
            continue
        field = ".".join(str(part) for part in item["loc"])
        lines.append(f"{(prefix + field).upper()}: {item['msg']}")
    return lines


def load_settings(features: Sequence[type[FeatureSettings]] = (), **overrides: dict[str, Any]) -> Settings:
    """Read and validate every core group and the given features' groups, then the rules between
    them; `overrides` maps a group's name (or a feature group's `group`) to field values (tests).

    Every problem found is raised at once in a SettingsError.
    """
    unknown = set(overrides) - set(GROUPS) - {kind.group for kind in features}
    if unknown:
        raise ValueError(f"no settings group named {sorted(unknown)}")
    problems: list[str] = []
    built: dict[str, Any] = {}
    for name, group in GROUPS.items():
        try:
            built[name] = group(**overrides.get(name, {}))
        except ValidationError as error:
            problems.extend(_describe(group, error))
    loaded: list[FeatureSettings] = []
    for kind in features:
        try:
            loaded.append(kind(**overrides.get(kind.group, {})))
        except ValidationError as error:
            problems.extend(_describe(kind, error))
    if problems:
        raise SettingsError(problems)
    settings = Settings(**built, features=loaded)
    problems = settings.policy_problems()
    if problems:
        raise SettingsError(problems)
    return settings
