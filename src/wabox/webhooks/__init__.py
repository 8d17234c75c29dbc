"""Webhooks: the payloads, the durable outbox's dispatcher, signing and verification."""
