"""The web inbox: Jinja2 templates, vendored htmx, live updates over Server-Sent Events."""
