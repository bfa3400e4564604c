"""SQL LIKE in Polars expressions both engines run (cudf-polars takes no ``(?s)`` regex)."""

from __future__ import annotations

import re

import polars as pl

#: Any one character, newlines included, in a regex both Polars and cuDF take (cuDF refuses
#: the ``(?s)`` flag that would make ``.`` do it).
_ANY_CHAR = r"[\s\S]"


def _like_tokens(pattern: str, escape: str) -> list[str]:
    """The pattern as literal characters and the wildcards ``%`` / ``_`` (as ``None``-free
    markers ``"%%"`` and ``"__"``, which no single literal character equals)."""
    tokens = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            tokens.append(pattern[i + 1])
            i += 2
            continue
        tokens.append({"%": "%%", "_": "__"}.get(ch, ch))
        i += 1
    return tokens


def like(x: pl.Expr, pattern: str, escape: str) -> pl.Expr:
    """SQL LIKE: prefix, suffix and substring tests where the pattern allows (cudf-polars runs
    them, and they are cheaper than a regex on either engine), else an anchored regex."""
    tokens = _like_tokens(pattern, escape)
    if "__" not in tokens:
        pieces = [""]
        for token in tokens:
            if token == "%%":
                pieces.append("")
            else:
                pieces[-1] += token
        if len(pieces) == 1:
            return x == pl.lit(pieces[0])
        if len(pieces) == 2 and not pieces[1]:
            return x.str.starts_with(pieces[0])
        if len(pieces) == 2 and not pieces[0]:
            return x.str.ends_with(pieces[1])
        if len(pieces) == 3 and not pieces[0] and not pieces[2]:
            return x.str.contains(pieces[1], literal=True)
        if len(pieces) == 2:
            head, tail = pieces
            width = len(head.encode()) + len(tail.encode())  # the two may not overlap
            return (
                x.str.starts_with(head)
                & x.str.ends_with(tail)
                & (x.str.len_bytes() >= pl.lit(width, dtype=pl.UInt32))
            )
    out = []
    for token in tokens:
        out.append({"%%": _ANY_CHAR + "*", "__": _ANY_CHAR}.get(token) or re.escape(token))
    body = "".join(out)
    head = "" if body.startswith(_ANY_CHAR + "*") else "^"
    tail = "" if body.endswith(_ANY_CHAR + "*") and len(tokens) > 1 else "$"
    body = body.removeprefix(_ANY_CHAR + "*") if not head else body
    body = body.removesuffix(_ANY_CHAR + "*") if not tail else body
    return x.str.contains(head + body + tail)
