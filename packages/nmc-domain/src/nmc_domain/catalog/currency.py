"""Currencies: the ISO 4217 codes a price may be written in."""

from __future__ import annotations

from nmc_domain.shared.errors import InvalidInput

__all__ = ["ISO_4217", "check_currency"]

# ISO 4217 List One as of late 2026: every currency that is legal tender somewhere, national or
# regional (XAF, XCD, XCG, XOF, XPF). Left out on purpose: funds and accounting units (BOV, CHE,
# CHW, CLF, COU, MXV, USN, UYI, UYW, XAD, XDR, XSU, XUA, XBA-XBD), precious metals (XAG, XAU, XPD,
# XPT), the test and "no currency" codes (XTS, XXX) and withdrawn codes (ANG -> XCG in 2025,
# BGN -> EUR in 2026, CUC, HRK, SLL, ZWL): nobody quotes a plumbing job in them.
ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN
    BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK
    DJF DKK DOP DZD
    EGP ERN ETB EUR
    FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK
    JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD
    OMR
    PAB PEN PGK PHP PKR PLN PYG
    QAR
    RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS
    VED VES VND VUV
    WST
    XAF XCD XCG XOF XPF
    YER
    ZAR ZMW ZWG
    """.split()
)


def check_currency(value: str, field: str = "currency") -> str:
    """The code upper-cased ("usd" -> "USD"); InvalidInput naming `field` if ISO 4217 lacks it."""
    code = value.strip().upper()
    if code not in ISO_4217:
        raise InvalidInput(field, f"unknown currency {value.strip()!r}")
    return code
