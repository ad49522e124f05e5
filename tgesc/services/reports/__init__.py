"""Reports: what the desk did over a period, as numbers, tables and an HTML page with charts."""
