"""Pure rules of the escalation desk: standard library only, no I/O, time passed in."""
