"""TwiML answers are well-formed XML whatever the tenant's profile holds."""

from __future__ import annotations

from xml.etree import ElementTree

from nmc_api.twiml import DIAL_STATUS_PATH, dial


def parse(text: str) -> ElementTree.Element:
    return ElementTree.fromstring(text.encode())  # noqa: S314 (our own output, not untrusted input)


def test_forward_to_number_is_escaped_and_the_document_parses() -> None:
    hostile = "+14155550123</Number><Hangup/><Number>&amp;"

    text = str(dial(hostile, 18).content)

    assert "<Hangup/>" not in text
    assert "&lt;/Number&gt;&lt;Hangup/&gt;" in text
    assert "&amp;amp;" in text
    root = parse(text)
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Dial"]
    dialled = root.find("Dial")
    assert dialled is not None
    assert (dialled.get("timeout"), dialled.get("action")) == ("18", DIAL_STATUS_PATH)
    assert [n.text for n in dialled.findall("Number")] == [hostile]


def test_an_ordinary_number_is_unchanged() -> None:
    text = str(dial("+14155550123", 25).content)

    assert "<Number>+14155550123</Number>" in text
    assert parse(text).findtext("Dial/Number") == "+14155550123"
