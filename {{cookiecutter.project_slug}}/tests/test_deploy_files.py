"""The deployment files say what the app needs: checked by reading them, since CI may have no Docker."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "compose-test-secret-" + "s" * 32
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    return data


def _interpolate(value: str, env: dict[str, str]) -> str:
    """What Compose makes of a value, given the variables of `.env`; `$$` is a literal `$`."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if name in env:
            return env[name]
        if operator and operator.endswith("-"):
            return str(argument)
        raise AssertionError(f"compose.yaml requires the variable {name}: {argument}")

    return INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def _app_environment(env: dict[str, str]) -> dict[str, str]:
    raw = _compose()["services"]["app"]["environment"]
    assert isinstance(raw, dict), "write the app's environment as a mapping"
    return {key: _interpolate(str(value), env) for key, value in raw.items()}


def _dockerfile() -> list[str]:
    """The instructions of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in _dockerfile() if line.split(None, 1)[0].upper() == name]


def test_compose_has_the_app_and_its_services_with_healthchecks() -> None:
    services = _compose()["services"]
    assert {"app", "db", "redis", "mail"} <= set(services)
    for name in ("db", "redis", "mail"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mail"]["image"].startswith("axllent/mailpit")


def test_app_waits_for_healthy_database_and_redis() -> None:
    depends_on = _compose()["services"]["app"]["depends_on"]
    for name in ("db", "redis"):
        assert depends_on[name]["condition"] == "service_healthy"


def test_app_talks_to_the_compose_services() -> None:
    env = _app_environment({"SECRET_KEY": SECRET})
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["MAIL_BACKEND"] == "smtp"
    assert env["MAIL_SMTP_HOST"] == "mail"
    db = _compose()["services"]["db"]["environment"]
    user, password = env["DATABASE_URL"].split("://", 1)[1].split("@", 1)[0].split(":", 1)
    assert user == db["POSTGRES_USER"]
    assert password == _interpolate(db["POSTGRES_PASSWORD"], {})
    assert env["DATABASE_URL"].endswith("/" + db["POSTGRES_DB"])


def test_compose_requires_a_secret_key() -> None:
    with pytest.raises(AssertionError, match="SECRET_KEY"):
        _app_environment({})


def test_compose_environment_is_a_valid_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    for key, value in _app_environment({"SECRET_KEY": SECRET}).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.allow_unverified_sign_in is False, "verification should be required, as in production"


def test_dockerfile_is_multi_stage_on_the_projects_python() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    version = pyproject["project"]["requires-python"].removeprefix(">=")
    args = dict(arg.split("=", 1) for arg in _instructions("ARG") if "=" in arg)
    assert args.get("PYTHON_VERSION") == version
    stages = _instructions("FROM")
    assert len(stages) >= 2, "expected a builder and a runtime stage"
    assert stages[-1].startswith("python:${PYTHON_VERSION}-slim")
    assert any("--from=builder" in copy for copy in _instructions("COPY"))


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    lines = _dockerfile()
    users = [i for i, line in enumerate(lines) if line.upper().startswith("USER ")]
    assert users, "no USER instruction: the app would run as root"
    last_stage = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    assert users[-1] > last_stage, "USER must be set in the runtime stage"
    user = lines[users[-1]].split(None, 1)[1].split(":")[0]
    assert user not in ("root", "0")


def test_dockerfile_healthcheck_serves_and_migrates() -> None:
    assert _instructions("EXPOSE") == ["8000"]
    (healthcheck,) = _instructions("HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"], "the slim image has no curl"
    compile(command[2], "<healthcheck>", "exec")
    assert "/health" in command[2]
    (cmd,) = _instructions("CMD")
    shell = " ".join(json.loads(cmd))
    assert "app db upgrade" in shell
    assert "--factory app.asgi:create_app" in shell
    assert "--no-proxy-headers" in shell, "client IPs are resolved by the app from APP_TRUSTED_PROXIES"


def test_dockerfile_installs_the_locked_versions_without_the_dev_tools() -> None:
    """Dependencies from uv.lock in a layer of their own, then the app: a code change reuses that layer."""
    lines = _dockerfile()
    syncs = [i for i, line in enumerate(lines) if line.startswith("RUN ") and "uv sync" in line]
    assert len(syncs) == 2, "expected one `uv sync` for the dependencies, then one for the app"
    for i in syncs:
        assert "--locked" in lines[i] or "--frozen" in lines[i], "the image must get uv.lock's versions"
        assert "--extra" not in lines[i] and "--all-extras" not in lines[i], "the dev tools stay out"
    assert "--no-install-project" in lines[syncs[0]]
    assert "--no-editable" in lines[syncs[1]], "the runtime stage has the venv, not the sources"
    copies = {i: line.split()[1:] for i, line in enumerate(lines) if line.startswith("COPY ")}
    lock = min(i for i, paths in copies.items() if "uv.lock" in paths)
    src = min(i for i, paths in copies.items() if "src" in paths)
    assert lock < syncs[0] < src < syncs[1]


def test_dockerfile_pins_the_uv_of_the_makefile() -> None:
    (pinned,) = re.findall(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text("utf-8"), re.MULTILINE)
    assert any(f"uv=={pinned}" in run.split() for run in _instructions("RUN"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    minimum = pyproject["tool"]["uv"]["required-version"].removeprefix(">=")
    assert [int(part) for part in pinned.split(".")] >= [int(part) for part in minimum.split(".")]


def test_docker_build_context_leaves_secrets_out() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "the build context should be an allowlist"
    assert not any(rule.startswith("!") and ".env" in rule for rule in rules)
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!src/"} <= set(rules), "what the Dockerfile copies"


def test_pre_commit_hooks_use_the_projects_own_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert all(repo["repo"] == "local" for repo in config["repos"]), "remote hooks need the network"
    assert {"ruff-check", "ruff-format", "mypy"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system"
        assert hook["entry"].startswith(".venv/bin/")
