"""The scopes an API key can hold. Add yours here, then require them on a route with `require_scope`.

A key is created with some of these scopes and can call only the routes whose scopes it holds
(see app.auth.credentials). A scope removed from this list stops being granted at once, by
every key that was created with it. The key description is what the API keys page shows.
"""

SCOPES: dict[str, str] = {
    "read": "Read your data",
    "write": "Create, change and delete your data",
}
