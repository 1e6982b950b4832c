"""Refuse bad answers before anything is written: one sentence per problem, exit 1.

Cookiecutter renders this file with Jinja before running it; the answers arrive as one JSON
string so that names with quotes or accents cannot break the Python around them.
"""

import json
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | jsonify | tojson }})
sys.path.insert(0, str(Path({{ template_root | tojson }}) / "hooks"))

from rules import problems  # noqa: E402

found = problems(ANSWERS)
if found:
    for sentence in found:
        print(f"ERROR: {sentence}", file=sys.stderr)
    sys.exit(1)
