"""HTTP routes only: each handler decodes, calls one domain function, encodes."""
