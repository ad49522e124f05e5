"""Use cases, one package per noun, stacked in the order they drive each other (top to bottom):

    telegram/  sweeps/     what reacts to Telegram updates; what runs on a schedule
    tickets/               a ticket's whole life: store, actions, ingest, reactions, escalation, surveys, threads
    clocks/    outbox/     SLA clocks, once-only markers, calendars; outbound messages as outbox rows
    config/                the escalation configuration: stored, applied, edited, parsed for the hot paths

A package imports only from packages below it (import-linter contracts in pyproject.toml). Each use case takes
the database, the current instant (or a clock) and ports as arguments.
"""
