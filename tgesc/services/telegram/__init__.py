"""Telegram as the desk sees it: each update dispatched to the customer or staff side (dispatch), staff commands,
the outbox delivered within Telegram's limits (delivery), and updates kept when handling them failed for good."""
