"""The life of a message: accepting it, and (later) its statuses, window and scenarios."""
