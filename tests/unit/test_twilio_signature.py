"""Tests for the Twilio webhook signature validator, incl. cross-checks against the SDK."""

import hashlib
from collections.abc import Sequence
from urllib.parse import urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from nmc_adapters.twilio.signature import TwilioSignature

# Vectors from twilio-python's tests/unit/test_request_validator.py.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS: list[tuple[str, str]] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
URL_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
EXPECTED_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="  # signature over URL_443
HTTP_URL = "http://mycompany.com/myapp.php?foo=1&bar=2"
EXPECTED_HTTP_80 = "0ZXoZLH/DfblKGATFgpif+LLRf4="  # signature over the http URL with :80
HTTP_URL_1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2"
EXPECTED_HTTP_1234 = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="  # signature over HTTP_URL_1234
DUPLICATE_PARAMS = [
    ("Sid", "CA123"),
    ("SidAccount", "AC123"),
    ("Digits", "5678"),
    ("Digits", "1234"),
]
DUPLICATE_EXPECTED = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
URL_WITH_BODY = URL + "&bodySHA256=" + BODY_HASH
BODY_EXPECTED = "a9nBmqA0ju/hNViExpshrM61xv4="


@pytest.fixture
def sig() -> TwilioSignature:
    return TwilioSignature(TOKEN)


class _MultiDict(dict[str, list[str]]):
    """Just enough of a multidict for the SDK's get_values(): it calls getall() if present."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def _multi(pairs: Sequence[tuple[str, str]]) -> _MultiDict:
    grouped = _MultiDict()
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


# --- Known answers -------------------------------------------------------------------------


def test_compute_known_answer(sig: TwilioSignature) -> None:
    assert sig.compute(URL, PARAMS) == EXPECTED


def test_is_valid_known_answer(sig: TwilioSignature) -> None:
    assert sig.is_valid(URL, PARAMS, EXPECTED)


def test_param_order_does_not_matter(sig: TwilioSignature) -> None:
    assert sig.compute(URL, list(reversed(PARAMS))) == EXPECTED
    assert sig.is_valid(URL, list(reversed(PARAMS)), EXPECTED)


def test_compute_over_explicit_port_known_answer(sig: TwilioSignature) -> None:
    assert sig.compute(URL_443, PARAMS) == EXPECTED_443
    assert sig.compute(HTTP_URL_1234, PARAMS) == EXPECTED_HTTP_1234


def test_url_written_with_443_accepts_signature_without_port(sig: TwilioSignature) -> None:
    assert sig.is_valid(URL_443, PARAMS, EXPECTED)


def test_url_without_port_accepts_signature_over_443(sig: TwilioSignature) -> None:
    assert sig.is_valid(URL, PARAMS, EXPECTED_443)
    assert sig.is_valid(URL, PARAMS, sig.compute(URL_443, PARAMS))


def test_http_url_without_port_accepts_signature_over_80(sig: TwilioSignature) -> None:
    assert sig.is_valid(HTTP_URL, PARAMS, EXPECTED_HTTP_80)


def test_http_url_does_not_accept_443_signature(sig: TwilioSignature) -> None:
    # The default port added is the scheme's own: http gets :80, never :443.
    assert not sig.is_valid(HTTP_URL, PARAMS, EXPECTED_443)


def test_non_default_port_is_also_stripped_like_the_sdk(sig: TwilioSignature) -> None:
    # The SDK strips *any* port (its test "removes_port_on_https" uses :1234).
    assert sig.is_valid(URL.replace(".com", ".com:1234"), PARAMS, EXPECTED)
    assert sig.is_valid(HTTP_URL_1234, PARAMS, EXPECTED_HTTP_1234)


def test_port_variants_do_not_cross_hosts(sig: TwilioSignature) -> None:
    assert not sig.is_valid("https://mycompany.co:443/myapp.php?foo=1&bar=2", PARAMS, EXPECTED)


def test_repeated_names_known_answer(sig: TwilioSignature) -> None:
    assert sig.compute(URL, DUPLICATE_PARAMS) == DUPLICATE_EXPECTED
    assert sig.is_valid(URL, DUPLICATE_PARAMS, DUPLICATE_EXPECTED)


def test_repeated_values_are_sorted_not_kept_in_order(sig: TwilioSignature) -> None:
    swapped = [("Digits", "1234"), ("Sid", "CA123"), ("Digits", "5678"), ("SidAccount", "AC123")]
    assert sig.compute(URL, swapped) == DUPLICATE_EXPECTED


def test_exact_duplicate_pair_counts_once_like_the_sdk(sig: TwilioSignature) -> None:
    # Surprising but faithful: the SDK sorts set(values), so a repeated identical pair
    # does not change the signature.
    doubled = [*PARAMS, ("Digits", "1234")]
    assert sig.compute(URL, doubled) == EXPECTED
    assert RequestValidator(TOKEN).compute_signature(URL, _multi(doubled)) == EXPECTED


def test_name_value_boundary_is_not_signed(sig: TwilioSignature) -> None:
    # Faithful to Twilio's scheme: name+value is concatenated with no separator.
    assert sig.compute(URL, [("Digits", "1234")]) == sig.compute(URL, [("Digits1", "234")])


def test_blank_value_contributes_its_name(sig: TwilioSignature) -> None:
    with_blank = [*PARAMS, ("Zzz", "")]
    assert sig.compute(URL, with_blank) != EXPECTED
    sdk_params = {**dict(PARAMS), "Zzz": ""}
    assert sig.compute(URL, with_blank) == RequestValidator(TOKEN).compute_signature(
        URL, sdk_params
    )


# --- Mutations: everything below must be rejected ------------------------------------------


def _replace_value(index: int) -> list[tuple[str, str]]:
    mutated = list(PARAMS)
    name, value = mutated[index]
    mutated[index] = (name, value + "0")
    return mutated


def _drop(index: int) -> list[tuple[str, str]]:
    return [pair for i, pair in enumerate(PARAMS) if i != index]


PARAM_MUTATIONS = {
    **{f"change-{PARAMS[i][0]}": _replace_value(i) for i in range(len(PARAMS))},
    **{f"drop-{PARAMS[i][0]}": _drop(i) for i in range(len(PARAMS))},
    "add-param": [*PARAMS, ("Extra", "1")],
    "add-blank-param": [*PARAMS, ("Extra", "")],
    "add-repeat-with-new-value": [*PARAMS, ("Digits", "9")],
    "rename-param": [("callSid", "CA1234567890ABCDE"), *PARAMS[1:]],
    "empty": [],
}


@pytest.mark.parametrize("params", PARAM_MUTATIONS.values(), ids=PARAM_MUTATIONS.keys())
def test_param_mutation_rejected(sig: TwilioSignature, params: list[tuple[str, str]]) -> None:
    assert params != PARAMS
    assert not sig.is_valid(URL, params, EXPECTED)


URL_MUTATIONS = {
    "path": "https://mycompany.com/myapp2.php?foo=1&bar=2",
    "query-value": "https://mycompany.com/myapp.php?foo=2&bar=2",
    "query-order": "https://mycompany.com/myapp.php?bar=2&foo=1",
    "query-dropped": "https://mycompany.com/myapp.php",
    "query-added": URL + "&baz=3",
    "scheme": HTTP_URL,
    "host": "https://evil.com/myapp.php?foo=1&bar=2",
    "subdomain": "https://www.mycompany.com/myapp.php?foo=1&bar=2",
    "trailing-slash": "https://mycompany.com/myapp.php/?foo=1&bar=2",
    "host-case": "https://MyCompany.com/myapp.php?foo=1&bar=2",
}


@pytest.mark.parametrize("url", URL_MUTATIONS.values(), ids=URL_MUTATIONS.keys())
def test_url_mutation_rejected(sig: TwilioSignature, url: str) -> None:
    assert not sig.is_valid(url, PARAMS, EXPECTED)


def test_other_auth_token_rejected() -> None:
    assert not TwilioSignature("12346").is_valid(URL, PARAMS, EXPECTED)
    assert not TwilioSignature("").is_valid(URL, PARAMS, EXPECTED)
    assert TwilioSignature("12346").compute(URL, PARAMS) != EXPECTED


SIGNATURE_MUTATIONS = {
    "none": None,
    "empty": "",
    "truncated-padding": EXPECTED[:-1],
    "truncated-half": EXPECTED[: len(EXPECTED) // 2],
    "first-char": "S" + EXPECTED[1:],
    "last-data-char": EXPECTED[:-2] + "9=",
    "lowercased": EXPECTED.lower(),
    "extended": EXPECTED + "A",
    "whitespace": EXPECTED + " ",
    "non-ascii": "RSOYDt4T1cUTdK1PDd93/VVr8B8\u00e9",
    "lone-surrogate": EXPECTED[:-1] + "\ud800",
    "other-request": DUPLICATE_EXPECTED,
}


@pytest.mark.parametrize("signature", SIGNATURE_MUTATIONS.values(), ids=SIGNATURE_MUTATIONS.keys())
def test_signature_mutation_rejected(sig: TwilioSignature, signature: str | None) -> None:
    assert not sig.is_valid(URL, PARAMS, signature)


GARBAGE_URLS = {
    "bad-port": "https://mycompany.com:notaport/myapp.php",
    "port-out-of-range": "https://mycompany.com:99999/myapp.php",
    "empty": "",
    "no-scheme": "mycompany.com/myapp.php",
    "lone-surrogate": "https://mycompany.com/\ud800",
    "bad-ipv6": "https://[::1/myapp.php",
}


@pytest.mark.parametrize("url", GARBAGE_URLS.values(), ids=GARBAGE_URLS.keys())
def test_garbage_url_is_invalid_not_an_error(sig: TwilioSignature, url: str) -> None:
    assert sig.is_valid(url, PARAMS, EXPECTED) is False


def test_garbage_params_are_invalid_not_an_error(sig: TwilioSignature) -> None:
    assert sig.is_valid(URL, [("Body", "\udcff")], EXPECTED) is False
    assert sig.is_valid(URL, [("Body", None)], EXPECTED) is False  # type: ignore[list-item]
    assert sig.is_valid(URL, [("Body",)], EXPECTED) is False  # type: ignore[list-item]


def test_garbage_body_is_invalid_not_an_error(sig: TwilioSignature) -> None:
    body_str = BODY.decode()
    assert sig.is_valid(URL_WITH_BODY, [], BODY_EXPECTED, body_str) is False  # type: ignore[arg-type]


def test_ipv6_port_handling(sig: TwilioSignature) -> None:
    # Port stripping must not mangle a bracketed IPv6 host (the SDK's split(":") would).
    signed = sig.compute("https://[::1]/hook", PARAMS)
    assert sig.is_valid("https://[::1]:443/hook", PARAMS, signed)
    assert sig.is_valid("https://[::1]/hook", PARAMS, sig.compute("https://[::1]:443/hook", PARAMS))


# --- JSON bodies (bodySHA256) --------------------------------------------------------------


def test_body_vector_hash_is_sha256_hex() -> None:
    assert hashlib.sha256(BODY).hexdigest() == BODY_HASH


def test_body_signature_known_answer(sig: TwilioSignature) -> None:
    assert sig.compute(URL_WITH_BODY, []) == BODY_EXPECTED
    assert sig.is_valid(URL_WITH_BODY, [], BODY_EXPECTED, BODY)


def test_body_signature_accepted_with_explicit_port(sig: TwilioSignature) -> None:
    assert sig.is_valid(URL_WITH_BODY.replace(".com", ".com:443"), [], BODY_EXPECTED, BODY)


def test_body_signature_ignores_params(sig: TwilioSignature) -> None:
    # Form pairs parsed from a JSON body are noise; only the URL is signed.
    assert sig.is_valid(URL_WITH_BODY, PARAMS, BODY_EXPECTED, BODY)


@pytest.mark.parametrize(
    "body",
    [
        b'{"property": "value", "boolean": false}',
        BODY + b" ",
        BODY[:-1],
        b"",
        None,
    ],
    ids=["altered", "appended", "truncated", "empty", "missing"],
)
def test_altered_body_rejected(sig: TwilioSignature, body: bytes | None) -> None:
    assert not sig.is_valid(URL_WITH_BODY, [], BODY_EXPECTED, body)


def test_body_hash_mismatch_rejected_even_with_valid_url_signature(sig: TwilioSignature) -> None:
    # The URL signature is genuine for this URL; only the body/hash binding is wrong.
    other_body = b'{"evil": true}'
    assert sig.is_valid(URL_WITH_BODY, [], sig.compute(URL_WITH_BODY, []), BODY)
    assert not sig.is_valid(URL_WITH_BODY, [], sig.compute(URL_WITH_BODY, []), other_body)
    forged_url = URL + "&bodySHA256=" + "0" * 64
    assert not sig.is_valid(forged_url, [], sig.compute(forged_url, []), BODY)


def test_body_hash_compare_is_case_sensitive_like_the_sdk(sig: TwilioSignature) -> None:
    upper_url = URL + "&bodySHA256=" + BODY_HASH.upper()
    assert not sig.is_valid(upper_url, [], sig.compute(upper_url, []), BODY)
    assert not RequestValidator(TOKEN).validate(
        upper_url, BODY.decode(), RequestValidator(TOKEN).compute_signature(upper_url, {})
    )


def test_url_signature_alone_not_enough_for_form_when_no_body_hash(sig: TwilioSignature) -> None:
    # Without bodySHA256 the params are signed, so a URL-only signature must not pass.
    assert not sig.is_valid(URL, PARAMS, sig.compute(URL, []), BODY)


# --- Property tests against the official SDK -----------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)
_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    min_size=1,
    max_size=12,
)
_url_chars = st.text(alphabet="abcXYZ019-._~%/=&+:;@", max_size=12)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(st.sampled_from(["example.com", "mycompany.com", "a.b.example.org", "127.0.0.1"]))
    port = draw(st.sampled_from(["", ":443", ":80", ":8080", ":1234"]))
    path = "/" + draw(_url_chars)
    query = draw(st.one_of(st.just(""), _url_chars.map(lambda q: "?" + q)))
    return f"{scheme}://{host}{port}{path}{query}"


def _port_variants(url: str) -> list[str]:
    # The URL with its port removed, or with each default port added.
    host_start = url.index("://") + 3
    host_end = url.index("/", host_start)
    host, _, port = url[host_start:host_end].partition(":")
    prefix, suffix = url[:host_start], url[host_end:]
    if port:
        return [prefix + host + suffix]
    return [f"{prefix}{host}:443{suffix}", f"{prefix}{host}:80{suffix}"]


@settings(max_examples=100, deadline=None)
@given(url=_urls(), params=st.dictionaries(_names, _text, max_size=8), token=_names)
def test_compute_matches_sdk(url: str, params: dict[str, str], token: str) -> None:
    sdk_signature = RequestValidator(token).compute_signature(url, params)
    assert TwilioSignature(token).compute(url, list(params.items())) == sdk_signature


@settings(max_examples=100, deadline=None)
@given(
    url=_urls(),
    pairs=st.lists(st.tuples(st.sampled_from(["A", "a", "B", "Ä", "AA"]), _text), max_size=8),
)
def test_repeated_names_match_sdk_multidict(url: str, pairs: list[tuple[str, str]]) -> None:
    sdk_signature = RequestValidator(TOKEN).compute_signature(url, _multi(pairs))
    assert TwilioSignature(TOKEN).compute(url, pairs) == sdk_signature


@settings(max_examples=100, deadline=None)
@given(url=_urls(), signed_url=_urls(), params=st.dictionaries(_names, _text, max_size=8))
def test_is_valid_agrees_with_sdk_validate(
    url: str, signed_url: str, params: dict[str, str]
) -> None:
    sdk = RequestValidator(TOKEN)
    ours = TwilioSignature(TOKEN)
    pairs = list(params.items())
    literal_signature = sdk.compute_signature(url, params)
    # A signature over the literal URL is always accepted. The SDK itself only tries
    # urlparse(url).geturl() forms, so it rejects e.g. a genuine signature over ".../?".
    assert ours.is_valid(url, pairs, literal_signature)
    # Otherwise (port variants, an unrelated URL) accept exactly when the SDK accepts.
    for candidate in [*_port_variants(url), signed_url]:
        signature = sdk.compute_signature(candidate, params)
        sdk_accepts = sdk.validate(url, params, signature)
        assert ours.is_valid(url, pairs, signature) == (
            sdk_accepts or signature == literal_signature
        )


def test_literal_url_accepted_where_sdk_normalises_it_away(sig: TwilioSignature) -> None:
    url = "https://example.com/hook?"
    signature = sig.compute(url, PARAMS)
    assert sig.is_valid(url, PARAMS, signature)
    assert not RequestValidator(TOKEN).validate(url, dict(PARAMS), signature)


@settings(max_examples=100, deadline=None)
@given(url=_urls(), body=_text, hash_matches=st.booleans(), other_hash=st.text("0123456789abcdef"))
def test_body_validation_agrees_with_sdk(
    url: str, body: str, hash_matches: bool, other_hash: str
) -> None:
    body_hash = hashlib.sha256(body.encode()).hexdigest() if hash_matches else other_hash
    separator = "&" if "?" in url else "?"
    signed_url = f"{url}{separator}bodySHA256={body_hash}"
    sdk = RequestValidator(TOKEN)
    # Sign the geturl() form: the SDK never tries the literal URL (see the test above).
    signature = sdk.compute_signature(urlparse(signed_url).geturl(), {})
    expected = sdk.validate(signed_url, body, signature) if body_hash else None
    ours = TwilioSignature(TOKEN).is_valid(signed_url, [], signature, body.encode())
    if expected is None:
        # Empty bodySHA256 is "absent" for the SDK too, which then can't take a str body;
        # for us it is an ordinary form request whose (empty) params the signature covers.
        assert ours
    else:
        assert ours == expected
        assert ours == (hash_matches or other_hash == hashlib.sha256(body.encode()).hexdigest())
