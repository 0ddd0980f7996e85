"""Billing: the Stripe subscription mirror and what a lapsed plan means for texting."""
