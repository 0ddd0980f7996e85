"""Google Calendar: OAuth 2.0 and the Calendar API v3 over httpx (events, watch, free/busy)."""
