"""What an inbound text asks of us before anything else: stop, start again, or help.

CTIA and the FCC's 2025 revocation rules: the opt-out words in any case, with surrounding
spaces and punctuation ignored, alone or leading a longer text ("Stop please", "STOP!!",
"opt out"), revoke consent. START, UNSTOP and YES opt back in; HELP and INFO ask who we are.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["Keyword", "keyword_of"]


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
_OPT_IN = ("START", "UNSTOP", "YES")
_HELP = ("HELP", "INFO")
_WORDS = re.compile(r"[A-Za-z]+")


def keyword_of(text: str) -> Keyword | None:
    """The keyword the text leads with, if any; opting out wins over everything else.

    Only the first word counts, and "opt out" is two words. An opt-in word may lead a longer
    text too; it only means something from a number that opted out (the caller decides: "yes,
    Tuesday works" from anyone else answers our question). HELP and INFO must stand alone:
    "Help, my pipe burst!" is a job, not a question about us.
    """
    words = [word.upper() for word in _WORDS.findall(text)]
    if not words:
        return None
    first = words[0]
    if first in _OPT_OUT or words[:2] == ["OPT", "OUT"]:
        return Keyword.OPT_OUT
    if first in _OPT_IN:
        return Keyword.OPT_IN
    if len(words) == 1 and first in _HELP:
        return Keyword.HELP
    return None
