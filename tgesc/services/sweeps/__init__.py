"""What runs on a schedule (tgesc worker cron enqueues it, tgesc worker run executes it): the SLA and unresolved-for
sweeps, the survey sweep, the lifecycle sweep, the assignment sweep, and when each sweep next has work (for the
simulation's virtual time)."""
