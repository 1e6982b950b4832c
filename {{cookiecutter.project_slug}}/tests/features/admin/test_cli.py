"""`app users promote EMAIL`: the first admin, from the server's shell."""

from __future__ import annotations

from pathlib import Path

from tests.cli import run_app


def test_operators_promote_a_user_to_admin(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/promote.db", "APP_ENV": "test"}
    assert run_app("db", "upgrade", env=env).returncode == 0
    password = {"APP_NEW_USER_PASSWORD": "correct horse battery staple 42"}
    assert run_app("users", "create", "--email", "ada@example.com", "--name", "Ada", env=env | password).returncode == 0
    promoted = run_app("users", "promote", "Ada@Example.com", env=env)
    assert (
        promoted.returncode == 0 and "ada@example.com" in promoted.stdout.lower() and "now an admin" in promoted.stdout
    )
    again = run_app("users", "promote", "ada@example.com", env=env)
    assert again.returncode == 0 and "already an admin" in again.stdout
    unknown = run_app("users", "promote", "nobody@example.com", env=env)
    assert unknown.returncode != 0 and "No user has the email" in unknown.stderr
    # The auth core's commands are still there, beside the feature's.
    assert "ban" in run_app("users", "--help", env=env).stdout
