"""Twilio adapters: signatures, SMS sending."""
