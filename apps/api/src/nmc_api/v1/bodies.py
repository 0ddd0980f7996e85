"""JSON request bodies: read once, before a handler's parameters, within limits a client can see.

Left to Litestar, bytes that are not UTF-8 (UnicodeDecodeError) and deep nesting (RecursionError)
escape its decoder as 500s; here they are 400s, like any other body that is not JSON.
"""

from __future__ import annotations

from litestar.exceptions import ClientException, SerializationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from nmc_api.deps import AnyRequest

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "depth", "read_json_body"]

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB; a catalog item at its longest is a few kilobytes
# Objects and arrays, the outermost counting as one. Deeper is a 400, not a 422: such a document
# is refused before anything in it is read, as a request we do not parse, not a field at fault.
MAX_DEPTH = 32


def depth(document: object, limit: int = MAX_DEPTH) -> int:
    """How deeply objects and arrays nest in a decoded document; stops counting past `limit`."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending and deepest <= limit:
        node, level = pending.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


async def read_json_body(request: AnyRequest) -> None:
    """Before a handler that takes a body: decode it (Litestar reuses the result) or answer 400.

    Runs after the guard, so a stranger's body is never read; the router's request size limit
    (413) applies while it is.
    """
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return  # a body nobody asked for stays unread
    try:
        if not await request.body():
            raise ClientException("the body is empty; this route reads a JSON document")
        document = await request.json()
    except RequestEntityTooLarge:
        raise RequestEntityTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes") from None
    except (SerializationException, UnicodeDecodeError) as exc:
        raise ClientException(f"the body is not JSON in UTF-8: {exc}") from None
    except RecursionError:
        raise ClientException(_too_deep()) from None
    if depth(document) > MAX_DEPTH:
        raise ClientException(_too_deep())


def _too_deep() -> str:
    return f"the body nests objects and arrays more than {MAX_DEPTH} levels deep"
