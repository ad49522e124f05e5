"""Time on tickets: the SLA clocks (sla), the once-only markers of what fired (once), business-hours calendars."""
