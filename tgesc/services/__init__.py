"""Use cases: each function takes the database, a clock and ports as arguments."""
