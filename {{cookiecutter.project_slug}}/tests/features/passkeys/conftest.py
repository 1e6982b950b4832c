"""The passkey tests. test_second_factor.py needs the core's second-factor gate (app.auth.second_factor):
until that lands next to this feature it is not collected. Remove this condition once it has."""

from importlib.util import find_spec

collect_ignore = [] if find_spec("app.auth.second_factor") else ["test_second_factor.py"]
