"""The application package: see `app.asgi.create_app` for how it is assembled."""
