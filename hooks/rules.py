"""Validation rules for the template's answers, shared by cookiecutter's hook and copier.yml.

Stdlib only: it runs under whatever Python runs cookiecutter or copier. ``hooks/sync_copier.py``
turns the same patterns into copier validators, so both tools refuse the same answers with the
same sentence.
"""

from __future__ import annotations

import re
from typing import Any

SLUG_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
DOMAIN_PATTERN = r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$"
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
LICENSES = ("MIT", "BSD-3-Clause", "Apache-2.0", "Proprietary")
DATABASES = ("sqlite", "postgresql")
RESERVED_SLUGS = ("app", "test", "tests", "src", "site", "string", "typing", "types")

# One sentence per rule; copier.yml is generated with the same words.
MESSAGES = {
    "project_name": "project_name must not be empty.",
    "project_slug": (
        "project_slug must be lowercase letters, digits and single underscores, starting with a "
        "letter (e.g. my_app), and must not be a reserved name (app, test, tests, src, site, string, typing, types)."
    ),
    "author_email": "author_email must be an email address such as you@example.com.",
    "domain_name": "domain_name must be a lowercase host name such as example.com, without scheme or path.",
    "python_version": "python_version must be one of 3.11, 3.12, 3.13.",
    "open_source_license": "open_source_license must be one of MIT, BSD-3-Clause, Apache-2.0, Proprietary.",
    "database": "database must be sqlite or postgresql.",
}


def problems(answers: dict[str, Any]) -> list[str]:
    """Return one sentence per invalid answer, in question order; empty when all are valid."""
    found: list[str] = []
    if not str(answers.get("project_name", "")).strip():
        found.append(MESSAGES["project_name"])
    slug = str(answers.get("project_slug", ""))
    if not re.fullmatch(SLUG_PATTERN, slug) or slug in RESERVED_SLUGS:
        found.append(f"{MESSAGES['project_slug']} Got {slug!r}.")
    email = str(answers.get("author_email", ""))
    if len(email) > 254 or not re.fullmatch(EMAIL_PATTERN, email):
        found.append(f"{MESSAGES['author_email']} Got {email!r}.")
    domain = str(answers.get("domain_name", ""))
    if not re.fullmatch(DOMAIN_PATTERN, domain):
        found.append(f"{MESSAGES['domain_name']} Got {domain!r}.")
    for key, allowed in (
        ("python_version", PYTHON_VERSIONS),
        ("open_source_license", LICENSES),
        ("database", DATABASES),
    ):
        value = str(answers.get(key, ""))
        if value not in allowed:
            found.append(f"{MESSAGES[key]} Got {value!r}.")
    for key, value in answers.items():
        if key.startswith("use_") and not isinstance(value, bool):
            found.append(f"{key} must be yes or no (y/n, true/false). Got {value!r}.")
    return found
