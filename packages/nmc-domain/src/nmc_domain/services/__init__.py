"""Use cases: each runs in one unit of work and talks to the world only through ports."""
