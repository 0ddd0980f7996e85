"""A vivid 10DLC submission, valid in every field, as a client posts it."""

from __future__ import annotations

from typing import Any

__all__ = ["ACME_REGISTRATION"]

ACME_REGISTRATION: dict[str, Any] = {
    "brand": {
        "legal_name": "ACME Plumbing & Heating LLC",
        "tax_id": "123456789",
        "address": {
            "street": "1200 Congress Ave",
            "city": "Austin",
            "region": "tx",
            "postal_code": "78701",
            "country": "us",
        },
        "website": "https://acme-plumbing.example.com",
        "contact": {
            "name": "Rosa Delgado",
            "email": "rosa@acme-plumbing.example.com",
            "phone": "+15125550147",
        },
    },
    "campaign": {
        "use_case": "CUSTOMER_CARE",
        "description": "Texts back callers whose call we missed, to book plumbing repairs.",
        "sample_messages": [
            "Hi, this is ACME Plumbing. Sorry we missed your call! How can we help?",
            "Your water heater flush is booked for Tue 10:00. Reply STOP to opt out.",
        ],
        "consent_description": "Customers call our business number first; we only text back "
        "the number that called, and every text says how to opt out (STOP).",
    },
}
