"""What the sender wrote, without the quoted history and signature: the plain-text
heuristics (the HTML structure, where a client marks it, comes first: ``mail.html``).

The text is cut at the first line that starts the history in any client's shape we know
(Outlook's "-----Original Message-----" and "From:/Sent:/Subject:" block, "On <date>,
<name> wrote:" in several languages and wrapped over two lines, forwarded-message
banners), at the "-- " signature delimiter or a mobile client's "Sent from my ..." line;
">" quoted lines are dropped. If nothing is left, the whole text is kept.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

# A line on its own that opens the quoted/forwarded history.
_BANNERS = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine"
    r"|Mensaje original|Oorspronkelijk bericht|Mensagem original|Messaggio originale"
    r"|Forwarded message|Forwarded Message|Weitergeleitete Nachricht|Message transféré"
    r"|Mensaje reenviado|Doorgestuurd bericht|Mensagem encaminhada|Messaggio inoltrato)\s*-{2,}"
    r"|Begin forwarded message:|Anfang der weitergeleiteten Nachricht:"
    r"|Début du message réexpédié\s?:|Inicio del mensaje reenviado:"
    r"|_{10,}"
    r")\s*$",
    _I,
)

# "On <date>, <name> <addr> wrote:" and its translations (one or two lines joined).
_WROTE = re.compile(
    r"^\s*(?:"
    r"On\b.{4,300}\bwrote\s*:"
    r"|Am\b.{4,300}\bschrieb\b.{0,300}:"
    r"|Le\b.{4,300}\ba\s+écrit\s*:"
    r"|El\b.{4,300}\bescribió\s*:"
    r"|Op\b.{4,300}\bschreef\b.{0,300}:"
    r"|Em\b.{4,300}\bescreveu\s*:"
    r"|Il\b.{4,300}\bha\s+scritto\s*:"
    # "<name> <addr> wrote:" without a leading word: only with an address or a date in it,
    # so that "As my manager wrote:" in the sender's own words does not cut them
    r"|(?=.{0,200}(?:@|\d)).{1,200}\b(?:wrote|schrieb|a écrit|escribió|schreef|escreveu"
    r"|ha scritto)\s*:"
    r")\s*$",
    _I,
)

# Outlook's header block: "From:" then, within a few lines, "Sent:"/"Date:" and "Subject:".
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da|Fra|Från)\s?:\*?\s", _I)
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Date d'envoi|Enviado|Enviada|Fecha"
    r"|Verzonden|Inviato|Data)\s?:",
    _I,
)
_HEADER_SUBJECT = re.compile(
    r"^\s*\*?(?:Subject|Betreff|Objet|Asunto|Onderwerp|Assunto|Oggetto)\s?:", _I
)

_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(?:"
    r"Sent from my (?:iPhone|iPad|Android|BlackBerry|Samsung|Galaxy|mobile|phone|Huawei|Pixel)\b.*"
    r"|Sent from (?:Outlook|Mail) for (?:iOS|Android|Windows|Windows 10)\b.*"
    r"|Get Outlook for (?:iOS|Android)\b.*"
    r"|Sent from Yahoo Mail\b.*"
    r"|Sent from Samsung Mobile\b.*"
    r"|Sent from my Galaxy\b.*"
    r"|Sent via the Samsung Galaxy\b.*"
    r"|Sent from my Samsung Galaxy smartphone\.?"
    r"|Sent from Gmail Mobile\b.*"
    r"|Von meinem (?:iPhone|iPad|Samsung Galaxy Smartphone) gesendet\.?"
    r"|Envoyé de mon (?:iPhone|iPad|smartphone Samsung Galaxy)\.?"
    r"|Enviado desde mi (?:iPhone|iPad|smartphone Samsung Galaxy)\.?"
    r"|Verzonden (?:vanaf|met) mijn (?:iPhone|iPad|Samsung Galaxy smartphone)\.?"
    r"|Enviado do meu (?:iPhone|iPad)\.?"
    r"|Inviato da (?:iPhone|iPad)\.?"
    r")\s*$",
    _I,
)
_HEADER_WINDOW = 6
# The words an attribution starts with (a line that may continue on the next).
_LEADING = re.compile(r"^\s*(?:On|Am|Le|El|Op|Em|Il)\b", _I)


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    window = lines[index + 1 : index + 1 + _HEADER_WINDOW]
    return any(_HEADER_SENT.match(line) for line in window) and any(
        _HEADER_SUBJECT.match(line) for line in window
    )


def _wrote_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if len(line) > 400:
        return False
    if _WROTE.match(line):
        return True
    # "On Fri, 4 Dec 2026 at 10:00, Name <" / "name@example.com> wrote:" (wrapped by the client)
    if index + 1 < len(lines) and _LEADING.match(line):
        following = lines[index + 1]
        if _LEADING.match(following) and _WROTE.match(following):
            return False  # the next line is a whole attribution of its own
        joined = f"{line.rstrip()} {following.strip()}"
        return len(joined) <= 400 and _WROTE.match(joined) is not None
    return False


def history_start(lines: list[str]) -> int | None:
    """The index of the first line of the quoted history, signature or mobile footer."""
    for index, line in enumerate(lines):
        if (
            _BANNERS.match(line)
            or _SIGNATURE.match(line)
            or _MOBILE.match(line)
            or _wrote_at(lines, index)
            or _is_header_block(lines, index)
        ):
            return index
    return None


def _joined(lines: list[str]) -> str:
    result = "\n".join(line.rstrip() for line in lines if not line.lstrip().startswith(">"))
    return re.sub(r"\n{3,}", "\n\n", result.strip())


def _below_the_quote(lines: list[str]) -> str:
    """A bottom-posted answer: what follows the attribution and its ">" lines, up to the
    signature or the next attribution."""
    start = next((i for i in range(len(lines)) if _wrote_at(lines, i)), None)
    if start is None:
        return ""
    rest = lines[start + 1 :]
    if rest and start + 1 < len(lines) and _WROTE.match(f"{lines[start]} {rest[0].strip()}"):
        rest = rest[1:]  # the second line of a wrapped attribution
    end = history_start(rest)
    return _joined(rest if end is None else rest[:end])


def strip_reply(text: str) -> str:
    """The sender's own text of ``text``: above the history; when nothing is above it, a
    bottom-posted answer below the quote; the whole text when both are empty."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = history_start(lines)
    result = _joined(lines if cut is None else lines[:cut])
    if not result and cut is not None:
        result = _below_the_quote(lines[cut:])
    return result or text.strip()
