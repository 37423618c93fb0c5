"""Making vendor and user text safe for Slack mrkdwn, and fitting text into Slack's limits.

Slack treats `<…>` as mentions and links (`<!channel>`, `<@U123>`, `<http://x|y>`) and `&`
as the start of an entity. Every string that did not come from stockdrift's own templates
(SKU names, locations, vendor error messages, evidence) goes through `mrkdwn()` so a SKU
named `<!channel>` pings nobody. Truncation happens *after* escaping and never splits an
entity like `&amp;`, so a cut string is still valid mrkdwn.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")  # an unfinished &amp; / &lt; / &gt; at the cut


def mrkdwn(text: object) -> str:
    """Escape the three characters Slack reserves in mrkdwn (and in the `text` fallback)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: object) -> str:
    """Inline code for identifiers (SKUs); a backtick inside would end the span early."""
    return "`" + mrkdwn(text).replace("`", "ˋ") + "`"


def url(link: str) -> str:
    """A URL inside `<url|label>`: only http(s); `|` and `>` would end the link early."""
    if not link.startswith(("http://", "https://")):
        return ""
    return link.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link(target: str, label: str) -> str:
    """`<url|label>` with both parts escaped, or the bare label when the URL is unusable."""
    safe = url(target)
    return f"<{safe}|{mrkdwn(label)}>" if safe else mrkdwn(label)


def fit(text: str, limit: int) -> str:
    """Shorten already-escaped text to at most `limit` characters.

    Cuts at a line break or space when one is near the end, never inside an entity or a
    `<…>` token we generated, and marks the cut with an ellipsis.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS) - 1, 0)]  # 1 spare for a closing backtick
    cut = _ENTITY_TAIL.sub("", cut)
    open_token = cut.rfind("<")
    if open_token > cut.rfind(">"):
        cut = cut[:open_token]  # a half link or mention would render as garbage
    boundary = max(cut.rfind("\n"), cut.rfind(" "))
    if boundary >= len(cut) - 40 and boundary > 0:
        cut = cut[:boundary]
    return _balance_code(cut.rstrip()) + ELLIPSIS


def fit_plain(text: str, limit: int) -> str:
    """Shorten plain_text (header): no entities there, just a word boundary and an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    boundary = cut.rfind(" ")
    if boundary >= len(cut) - 30 and boundary > 0:
        cut = cut[:boundary]
    return cut.rstrip() + ELLIPSIS


def _balance_code(text: str) -> str:
    # An odd number of backticks would turn the rest of the message into code.
    return text + "`" if text.count("`") % 2 else text
