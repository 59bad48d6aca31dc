"""Reading a decision typed in a card's thread the way people write it.

Approvers and finance answer cards in their own words: "Approved.", "rejected - they paid
yesterday" ("refused" reads as a rejection too), "Thanks, confirmed", "Not received :(",
"partial 500". A thread is also where people
talk, so this reader sorts every line into one of three answers:

- :class:`Taken`: the line is a decision and nothing else (any case, trailing punctuation or
  emoji, past tense, a courtesy word around it, a reason after ``because``, ``:``, ``-`` or a
  comma). Only these ever change the ledger, and only after the workflow's own role checks.
- :class:`Doubtful`: the line starts like a decision but cannot be taken safely (a question,
  a hedge or a condition, more words than a decision, a change of mind, an amount outside
  ``partial``). The card's command answers with what it understood and how to say it.
- ``None``: discussion ("did they pay already?", "the customer approved the quote"). No reply.

The rule for discussion is positional: a decision word counts only at the start of the line
(after courtesy words, hedges like "maybe" or "I'd", or a subject "I"). A decision word later
in a sentence ("the customer approved the quote") is talk, never a decision.

Pure text in, value out: which card the line answers, who typed it and what the claim was are
the handlers' business (commands.handlers.decide_cmd and confirm_cmd)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from commands.parsing.text import clean_text


class Verdict(Enum):
    APPROVE = "approve"
    REJECT = "reject"
    CONFIRM = "confirm"
    NOT_RECEIVED = "not received"
    PARTIAL = "partial"


APPROVAL_VERDICTS = frozenset({Verdict.APPROVE, Verdict.REJECT})
PAYMENT_VERDICTS = frozenset({Verdict.CONFIRM, Verdict.NOT_RECEIVED, Verdict.PARTIAL})


@dataclass(frozen=True)
class Taken:
    """A decision to hand to the workflow. ``note`` is the reason as typed (its case and
    spacing kept); ``amount`` is an amount as typed after ``partial`` or ``confirm``."""

    verdict: Verdict
    note: str | None = None
    amount: str | None = None


@dataclass(frozen=True)
class Doubtful:
    """Looks like a decision but is not taken: ``why`` finishes "I did not take it because ..."."""

    verdict: Verdict | None
    why: str


Reading = Taken | Doubtful | None

QUESTION = "it reads like a question"
HEDGED = "it sounds unsure, negated or conditional"
EXTRA = "it has more words than a decision, and I can't tell a condition from a reason"
CHANGE = "what follows the decision sounds like a condition or a change of mind"
PAYMENT_NOTE = "what follows it mentions an amount, a part or something still pending"
LOOSE_AMOUNT = "an amount is only taken after `partial`"

_SEP = r"[\s,.;:!\-\u2013\u2014]"
_COURTESY = (
    r"(?:ok(?:ay)?|kk?|yes|yep|yeah|yup|sure|alright|great|perfect|cool|fine|good|all\s+good|"
    r"pls|plz|please|many\s+thanks|thanks(?:\s+(?:a\s+lot|so\s+much|all|team))?|"
    r"thank\s+you(?:\s+(?:so\s+much|all))?|thx|ty|tks|cheers|hi|hello|hey|@[\w.\-]+)"
)
_SIGN_OFF = r"(?:thanks(?:\s+(?:a\s+lot|so\s+much|all|team))?|thank\s+you(?:\s+all)?|thx|ty|cheers|pls|please)"
_CURRENCY = r"(?:usd|cad|aud|nzd|eur|gbp|chf|mxn)"
AMOUNT = (
    rf"(?:{_CURRENCY}\s?|us\$|[$\u20ac\u00a3])?\s?-?(?:\d[\d.,]*\d|\d)[km]?"
    rf"(?:\s?(?:{_CURRENCY}|\u20ac|\u00a3))?(?!\w)"
)
_SUBJECT = r"(?:(?:i|we)(?:'ve|\s+have)?\s+)?"
_OBJECT = (
    r"(?:\s+(?:this\s+one|that\s+one|the\s+request|this\s+request|the\s+payment|this\s+payment|"
    r"the\s+funds|the\s+money|it|this|that))?"
)
_END = rf"(?=$|{_SEP}|\?)"

_APPROVE = rf"{_SUBJECT}(?:approved?|approving){_OBJECT}"
_REJECT = rf"{_SUBJECT}(?:reject(?:ed|ing)?|refus(?:e|ed|ing)|declin(?:e|ed|ing)|den(?:y|ied|ying)){_OBJECT}"
_NOT_RECEIVED = (
    rf"{_SUBJECT}(?:not[\s-]?received|nothing\s+(?:received|arrived|came\s+in)|never\s+(?:received|arrived|came\s+in)"
    r"|(?:(?:it|the\s+payment|payment)\s+)?(?:did\s+not|didn't)\s+(?:receive|arrive|come\s+in)"
    r"|(?:(?:the\s+)?(?:payment|funds|money|it)\s+)(?:(?:was|has|is)\s+)?(?:not|never)\s+(?:received|arrived|came\s+in)"
    rf"|no\s+(?:payment|funds|money)\s+(?:received|arrived)){_OBJECT}"
)
_CONFIRM = (
    rf"{_SUBJECT}(?:(?:confirm(?:ed|ing)?){_OBJECT}(?:\s+(?:received|in\s+full))?"
    r"|received(?:\s+(?:it|in\s+full|the\s+payment|the\s+funds|the\s+money|everything|all\s+of\s+it))*"
    r"|(?:(?:the\s+)?(?:payment|funds|money|it|all|everything)\s+)(?:(?:is|was|has|have)\s+)?"
    r"(?:received|arrived|cleared|landed|came\s+in)(?:\s+in\s+full)?"
    r"|(?:it's|(?:the\s+)?(?:payment|funds|money)\s+is)\s+in|fully\s+received|arrived|cleared)"
    rf"(?:\s*(?P<confirm_amount>{AMOUNT}))?"
)
_PARTIAL = (
    r"partial(?:ly)?(?:\s+(?:payment|receipt|amount))?(?:\s+(?:received|arrived|paid))?"
    rf"(?:\s*(?:of|:|-|\u2013|\u2014|=)?\s*(?P<partial_amount>{AMOUNT})"
    r"(?:\s+(?:received|arrived|only|came\s+in|so\s+far))?)?"
)

_DECISION = re.compile(
    rf"(?P<not_received>{_NOT_RECEIVED}){_END}|(?P<approve>{_APPROVE}){_END}|(?P<reject>{_REJECT}){_END}"
    rf"|(?P<partial>{_PARTIAL}){_END}|(?P<confirm>{_CONFIRM}){_END}",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(rf"{_COURTESY}(?:{_SEP}+|$)", re.IGNORECASE)
_HEDGE = re.compile(
    r"(?:not\s+sure|unsure|maybe|probably|perhaps|likely|i\s+think|i\s+guess|i\s+suppose|hmm+|well|just"
    r"|i'd|i\s+would|i'll|i\s+will|i\s+can|i\s+could|i\s+should|i'm|i\s+am|going\s+to|gonna|about\s+to"
    r"|we\s+(?:should|can|could|will|would|might)|we'll|we'd|should\s+(?:i|we)|can\s+(?:i|we)|could\s+(?:i|we)"
    r"|shall\s+(?:i|we)|let's|lets|let\s+me|ok\s+to|okay\s+to|fine\s+to|happy\s+to|want\s+to|like\s+to|rather"
    r"|would|should|will|can|could|might|may|don't|do\s+not|can't|cannot|won't|wouldn't|shouldn't|not|no|never"
    r"|haven't|have\s+not|hasn't|has\s+not|didn't|did\s+not|i|to)"
    rf"(?:{_SEP}+|$)",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"(?:don't|do\s+not|can't|cannot|won't|wouldn't|shouldn't|not(?!\s+sure)|no|never"
    r"|haven't|have\s+not|hasn't|has\s+not|didn't|did\s+not)\b",
    re.IGNORECASE,
)
_REASON_LEAD = re.compile(r"\s*(?:(?P<because>because|bc|b/c)\b|[:\-\u2013\u2014,;.!\n])\s*", re.IGNORECASE)
_ONLY_COURTESY = re.compile(rf"{_SEP}*(?:{_COURTESY}(?:{_SEP}+|$))+", re.IGNORECASE)
_TRAILING_SIGN_OFF = re.compile(rf"(?:[\s,.;!\-\u2013\u2014]+{_SIGN_OFF})+[\s,.;!]*$", re.IGNORECASE)
# A reason that opens like this is a condition or a change of mind, not a reason.
_CHANGE_OF_MIND = re.compile(
    r"(?:wait|actually|no\s+wait|no,|scratch|never\s*mind|oops|sorry|hmm+|just\s+kidding|jk|kidding|lol|but|if|unless"
    r"|once|when|until|pending|provided|subject\s+to|only\s+if|maybe|probably|not\s+yet|hold\s+off)\b",
    re.IGNORECASE,
)
_APPROVAL_WORDS = re.compile(r"\b(?:approv\w*|reject\w*|refus\w*|declin\w*|den(?:y|ied|ying))\b", re.IGNORECASE)
# In a payment answer nothing after the decision is kept, so anything that could change its
# meaning (an amount, a part, a doubt, the customer's side of the story) makes it doubtful.
_PAYMENT_DOUBT = re.compile(
    r"\d|\b(?:partial\w*|part|only|some|half|short|less|more|pending|clearing|check\w*|yet|later|tomorrow|maybe"
    r"|probably|but|if|unless|wait|actually|not|never|no|sent|send\w*|said|says|told"
    r"|claim\w*|promis\w*|expect\w*|should|will|won't|kidding|jk|lol)\b",
    re.IGNORECASE,
)
_LOOSE_AMOUNT = re.compile(
    rf"(?:(?:we|i)\s+)?(?:only\s+)?(?:got|have|received\s+only|only\s+received|only)\s+{AMOUNT}", re.IGNORECASE
)
_EMOTICON = re.compile(r"(?<!\S)(?:[:;=]-?[()\[\]DPpOo/\\|3*]+|<3|\^\^)(?!\S)|:[a-z0-9_+'\-]+:")


def read(text: str) -> Reading:
    """What a line typed in a card's thread says: a decision, a doubtful one, or talk (None)."""
    line = _normalized(text)
    if not line:
        return None
    strict = _strict(line)
    if strict is not None:
        return strict
    if "?" in line:
        return _question(line)
    return _started_like_a_decision(line)


def _normalized(text: str) -> str:
    """Cleaned text with emoji and emoticons blanked (same length, so a reason is cut from the
    text as typed), curly apostrophes made plain, and closing dots, bangs and blanks dropped."""
    line = clean_text(text).replace("\u2019", "'").replace("\u2018", "'")
    line = _EMOTICON.sub(lambda m: " " * len(m.group()), line)
    line = "".join(" " if _is_pictograph(ch) else ch for ch in line)
    return line.strip().rstrip(".! \t\n").strip()


def _is_pictograph(ch: str) -> bool:
    """Emoji, their joiners and variation selectors, and backticks (people copy `approve`)."""
    return unicodedata.category(ch) in ("So", "Sk") or ch in "\ufe0e\ufe0f\u200d"


def _lead_in(line: str, start: int = 0, *, hedges: bool = False) -> tuple[int, bool, bool]:
    """Where the words that matter begin: after courtesy words (and, with ``hedges``, after
    "maybe", "I'd", "not sure" and the like). Also says whether a hedge and whether a
    negation were passed. A decision word wins over a hedge, so "not received" stays whole."""
    position, hedged, negated = start, False, False
    while position < len(line):
        if _DECISION.match(line, position):
            break
        courtesy = _LEAD_IN.match(line, position)
        hedge = _HEDGE.match(line, position) if hedges else None
        if courtesy is not None and courtesy.end() > position:
            position = courtesy.end()
        elif hedge is not None and hedge.end() > position:
            hedged = True
            negated = negated or _NEGATION.match(line, position) is not None
            position = hedge.end()
        else:
            break
    return position, hedged, negated


def _verdict_of(match: re.Match[str]) -> Verdict:
    for group, verdict in (
        ("not_received", Verdict.NOT_RECEIVED),
        ("approve", Verdict.APPROVE),
        ("reject", Verdict.REJECT),
        ("partial", Verdict.PARTIAL),
    ):
        if match.group(group) is not None:
            return verdict
    return Verdict.CONFIRM


def _strict(line: str) -> Taken | Doubtful | None:
    """The decision when the line is one and nothing else (courtesy and a reason aside);
    Doubtful when it is one but what follows it or a question mark makes it unsafe."""
    start, _, _ = _lead_in(line)
    match = _DECISION.match(line, start)
    if match is None:
        return None
    verdict = _verdict_of(match)
    amount = match.group("confirm_amount") or match.group("partial_amount")
    amount = amount.strip() if amount else None
    rest = line[match.end() :]
    if not rest.strip() or _ONLY_COURTESY.fullmatch(rest.strip()):  # "approved, thanks"
        return _unless_question(line[: match.end()], Taken(verdict, None, amount))
    lead = _REASON_LEAD.match(rest)
    if lead is None:
        return None
    note = _TRAILING_SIGN_OFF.sub("", rest[lead.end() :]).strip()
    if not note or _ONLY_COURTESY.fullmatch(note):
        return _unless_question(line[: match.end()], Taken(verdict, None, amount))
    doubt = _doubt_in_note(verdict, note, because=lead.group("because") is not None)
    if doubt is not None:
        return Doubtful(verdict, doubt)
    return _unless_question(line[: match.end()], Taken(verdict, note, amount), note)


def _unless_question(head: str, taken: Taken, note: str = "") -> Taken | Doubtful:
    if "?" in head or note.endswith("?"):
        return Doubtful(taken.verdict, QUESTION)
    return taken


def _doubt_in_note(verdict: Verdict, note: str, *, because: bool) -> str | None:
    """Why the words after a decision make it unsafe, or None. "because" is the documented
    form, so after it an approval's reason is taken as written (the advice always works)."""
    if verdict in PAYMENT_VERDICTS:
        return PAYMENT_NOTE if _PAYMENT_DOUBT.search(note) else None
    if because:
        return None
    if _CHANGE_OF_MIND.match(note) or _APPROVAL_WORDS.search(note):
        return CHANGE
    return None


def _question(line: str) -> Doubtful | None:
    """A question is talk unless its first sentence, hedges aside, is a decision ("approve?",
    "should I approve?", "received it?"); "confirm with the bank first?" is talk."""
    sentences = [s.strip() for s in re.split(r"[?\n]|[.!](?=\s)", line) if s.strip()]
    for sentence in sentences:
        start, _, _ = _lead_in(sentence, hedges=True)
        if start >= len(sentence):
            continue  # a courtesy-only sentence ("Thanks.")
        strict = _strict(sentence[start:])
        if isinstance(strict, Taken):
            return Doubtful(strict.verdict, QUESTION)
        return None
    return None


def _started_like_a_decision(line: str) -> Doubtful | None:
    """A line that opens with a decision word (after courtesy and hedges) but is not exactly
    one: "I'd approve but...", "not sure, maybe reject", "approved if they pay Friday". A
    passive "approved by the customer" and any line opening otherwise are talk."""
    loose = _LOOSE_AMOUNT.match(line, _lead_in(line)[0])
    if loose is not None:
        return Doubtful(Verdict.PARTIAL, LOOSE_AMOUNT)
    start, hedged, negated = _lead_in(line, hedges=True)
    match = _DECISION.match(line, start)
    if match is None or re.match(r"\s+by\b", line[match.end() :], re.IGNORECASE):
        return None
    verdict = None if negated else _verdict_of(match)
    return Doubtful(verdict, HEDGED if hedged else EXTRA)


def describe(verdict: Verdict | None) -> str:
    """The decision as a reader would name it: "an approval", "a partial payment"."""
    return {
        Verdict.APPROVE: "an approval",
        Verdict.REJECT: "a rejection",
        Verdict.CONFIRM: "a confirmation that the money arrived",
        Verdict.NOT_RECEIVED: "'not received'",
        Verdict.PARTIAL: "a partial payment",
        None: "a decision",
    }[verdict]
