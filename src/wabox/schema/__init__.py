"""msgspec Structs for every request, response and webhook payload; data only, no I/O."""
