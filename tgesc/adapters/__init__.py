"""The outside world: Telegram (only `telegram.py` imports pyrogram), RQ queues, Redis."""
