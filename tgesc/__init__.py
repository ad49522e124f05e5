"""tgesc: a Telegram customer-service escalation desk (tickets, SLA clocks, L1→L2→L3, surveys)."""

__version__ = "0.1.0"
