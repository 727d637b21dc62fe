"""The shared kernel: what every service needs once.

settings, clock, database, event envelope, outbox, inbox (idempotency), errors,
the embedded bus transport and migrations. Nothing here knows a rule of the challenge.
"""
