"""The auth flows, each a module of functions on the AuthKit: routes (JSON), views (HTML) and the
CLI call them with an open database session and the request's RequestMeta (`flows.sign_in.sign_in(
auth, db, meta, ...)`). A flow commits its own transaction, in which its events (and so the audit
log) and the hooks of `app/hooks.py` run.
"""

from app.auth.flows import account, email, password, sign_in, sign_up

__all__ = ["account", "email", "password", "sign_in", "sign_up"]
