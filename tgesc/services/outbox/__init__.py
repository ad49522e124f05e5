"""Outbound Telegram messages as outbox rows, written in the transaction of the change that causes them."""
