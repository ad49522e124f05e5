"""Process entry points (bot, run, cron, up) and RQ job functions."""
