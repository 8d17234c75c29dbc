"""The web UI: Jinja2 templates and static files, no CDN (the inbox arrives with its issue)."""
