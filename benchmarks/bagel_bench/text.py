"""Synthetic English-like text: a seeded word pool sliced into texts of lognormal length.

Slicing one long pool instead of joining words per text keeps generation of a million items
to a few seconds. The vocabulary leaves out every word that could make a refusal pattern of
:mod:`bagel_core.refusals` match by accident, so the only refusals in the data are the planted
ones (:data:`REFUSALS`) and the expected filter counts are exact.
"""

from __future__ import annotations

import numpy as np

_WORDS = """
the of and to in is that for it was on with he be at by this had from or have but
are his they which one were her all she there would their we him been has when who will
more no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also
did many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long get
here between both life being under never day same another know while last might us great old
year off come since against go came right used take three states himself few house use during
without again place around however home small found thought went say part once general high
upon school every does got united left number course war until always away something fact
though water less public put think almost hand enough far took head yet government system
better set told nothing night end why called didn find going look asked later knew point next
program city business give group toward young days let room president side social given
present several order national possible rather second face per among form often early
white case john become large big need four within felt children along saw best church ever
least power development light thing seemed family interest want members mind country area
others done turned although open god service problem certain kind different thus began door
help sense means whole matter perhaps itself york times law human line above name example
action company hands local show whether five history gave today either act feet across taken
past quite anything seen having death week experience body word half really field am car
words already themselves information tell together college shall money period held keep sure
probably free seems political real behind cannot miss question air office making brought
whose special heard major problems ago became federal moment study available known result
street economic boy position reason change south board individual job areas society west
close turn love community true court force full seem am policy wife future age voice center
woman control common necessary following front sometimes six girl clear further land run
students provide feel party able mother music education university child effect level stood
military short town morning total outside rate figure class art century washington north
usually plan leave therefore evidence top million sound black strong hard various says
believe type value play surface soon mean near lines table peace modern tax road red book
personal process situation minutes increase idea english alone women gone nor amount doing
private difference training paper garden river stone winter summer bridge forest mountain
planet ocean energy signal network engine market answer solve equation triangle number
square circle angle length width height speed distance price profit percent ratio average
sum product divide multiply value variable function method array string list loop compute
story poem letter chapter scene character dialogue village castle dragon journey season
""".split()

# Words (and word starts / parts) that refusal patterns (v0.2 and HEAD) are built from.
_BANNED_PARTS = (
    "ai",
    "gpt",
    "bot",
    "generative",
    "openai",
    "language",
    "illegal",
    "dangerous",
    "unethical",
    "important",
    "personal",
    "consciousness",
    "subjective",
    "limitation",
    "abilit",
    "violat",
    "programming",
    "unable",
    "cannot",
    "can't",
    "won't",
    "provid",
    "promot",
    "engag",
    "discuss",
    "participat",
    "involved",
    "derogatory",
    "inappropriate",
    "offensive",
    "discriminat",
    "sexist",
    "unacceptable",
    "immoral",
    "hateful",
    "harmful",
    "commited",
    "adhere",
    "safety",
    "instead",
    "text-based",
    "please",
)
_BANNED_WORDS = {"as", "not", "my", "your", "can", "will", "am", "note"}


def _safe(word: str) -> bool:
    return word not in _BANNED_WORDS and not word.startswith("not") and not any(p in word for p in _BANNED_PARTS)


VOCABULARY: tuple[str, ...] = tuple(dict.fromkeys(w for w in _WORDS if _safe(w)))

#: Refusal openings planted in responses, in several letter cases; each matches both the
#: "v0.2" and the "head" pattern sets (checked by the tests).
REFUSALS: tuple[str, ...] = (
    "As an AI language model, I cannot do that.",
    "AS AN AI LANGUAGE MODEL, I do not have personal opinions.",
    "as an ai language model, i don't have access to real-time data.",
    "As An AI Language Model, I am unable to browse the internet.",
    "I'm sorry, but as an AI developed by OpenAI, I can't help with that.",
    "It's important to note that I am an AI and cannot give advice.",
)


class TextPool:
    """A long seeded text; ``texts`` cuts word-aligned pieces of it.

    Words follow a Zipf-like law; about one word in twelve ends a sentence and one in a
    hundred ends a paragraph (so responses carry newlines, as real ones do).
    """

    def __init__(self, seed: int, words: int = 2_000_000) -> None:
        rng = np.random.default_rng([seed, 0x7E87])
        vocab = np.array(VOCABULARY, dtype=object)
        ranks = np.arange(len(vocab), dtype=np.float64)
        weights = 1.0 / (ranks + 2.7)
        tokens = vocab[rng.choice(len(vocab), size=words, p=weights / weights.sum())]
        ends = rng.random(words)
        tokens = np.where(ends < 0.01, tokens + ".\n\n", np.where(ends < 0.085, tokens + ".", tokens))
        # A paragraph break already separates words: no space after it.
        self.text = " ".join(tokens.tolist()).replace("\n\n ", "\n\n")
        separators = np.frombuffer(self.text.encode("ascii"), dtype=np.uint8)
        gaps = np.flatnonzero((separators == ord(" ")) | (separators == ord("\n")))
        # Word i spans [starts[i], starts[i + 1] - 1); the pool ends with a word.
        starts = np.concatenate(([0], gaps + 1))
        self.starts = starts[np.diff(starts, append=len(self.text) + 1) > 1]
        self._bounds = np.append(self.starts, len(self.text) + 1)

    @property
    def words(self) -> int:
        return len(self.starts)

    def texts(
        self,
        rng: np.random.Generator,
        n: int,
        median_words: float,
        sigma: float,
        min_words: int = 3,
        max_words: int = 4000,
    ) -> list[str]:
        """``n`` texts whose word counts are lognormal around ``median_words``."""
        lengths = np.clip(np.rint(rng.lognormal(np.log(median_words), sigma, n)), min_words, max_words).astype(np.int64)
        first = (rng.random(n) * (self.words - lengths)).astype(np.int64)
        begin = self._bounds[first]
        # Stop before the separator that follows the last word.
        end = self._bounds[first + lengths] - 1
        text = self.text
        return [text[b:e].rstrip("\n") for b, e in zip(begin.tolist(), end.tolist())]
