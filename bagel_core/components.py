"""Base classes of every kind of component a plugin can register.

A component is a class with a unique ``name`` (per kind), a one-line ``description``, kind
metadata as class attributes, and an ``Options`` dataclass of its settings (set from a recipe's
``[source.NAME]``-style table or, for trainers, from the command line). The engine validates
these attributes when the class is registered and instantiates it only when it is used.
A component declares ``options: Options`` below its dataclass so that type checkers know the
fields of ``self.options``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .options import Probability

if TYPE_CHECKING:
    from .context import LoadContext
    from .records import Record


class Component:
    """What every component has. Subclass one of the kind bases below, not this."""

    #: Kind label used in messages and ``bagel list-plugins`` (set by each base).
    kind: ClassVar[str] = "component"
    #: Unique name within its kind: lower case, digits, ``-``, ``_`` or ``.``.
    name: ClassVar[str]
    #: One line saying what the component does.
    description: ClassVar[str]
    #: Top-level modules the component imports when it works (``("faiss",)``): a selected
    #: component whose module is not installed stops the run before any data is read, with
    #: one line naming the module and how to install it (``bagel_core.errors.EXTRAS``).
    requires_modules: ClassVar[tuple[str, ...]] = ()

    @dataclass
    class Options:
        """Settings of the component; subclasses define their own dataclass."""

    def __init__(self, options: Any | None = None) -> None:
        self.options = options if options is not None else self.Options()

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """Kind-specific facts shown by ``bagel list-plugins --json``."""
        return {}

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """Deprecated (plugin API 1.0; removed in bagel-core 0.3): the defaults of ``Options``,
        ``None`` for a field without one. Nothing in bagel calls it any more."""
        warnings.warn(
            "Component.option_defaults() is deprecated since bagel-core 0.2 and goes in 0.3: "
            "read the fields of cls.Options with dataclasses.fields()",
            DeprecationWarning,
            stacklevel=2,
        )
        return {
            f.name: f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
            for f in dataclasses.fields(cls.Options)
        }


class Loader(Component):
    """A component that reads upstream data and emits records (sources and DPO builders).

    Override :meth:`rows` and :meth:`convert` (the engine calls ``convert`` per row and counts
    a row that raises ``KeyError``/``TypeError``/``ValueError``/... as malformed, with a reason,
    instead of crashing), or :meth:`load` for logic across rows (grouping, joins). Per-run state
    (lookup tables, other datasets) belongs in :meth:`setup`.

    ``priority`` and ``max_items`` are settings the engine owns for every loader: a recipe
    overrides them in the loader's table (``[source.NAME] priority = 3``, ``max_items = 5000``
    or ``max_items = "none"``), and the load stage applies the cap.
    """

    #: Load order: higher first; the first occurrence of an id wins dedup.
    priority: ClassVar[int] = 0
    #: Default cap: at most this many valid records are kept, a seeded sample drawn by id
    #: (independent of row order and process count); ``None`` keeps all.
    max_items: ClassVar[int | None] = None
    #: With :meth:`stratum` overridden: ``False`` shares ``max_items`` among the strata in
    #: proportion to their sizes; ``True`` keeps at most ``max_items`` of each stratum.
    cap_per_stratum: ClassVar[bool] = False
    #: Upstream dataset ids (``owner/name``) this component reads.
    dataset_ids: ClassVar[tuple[str, ...]] = ()
    #: Folder holding small samples in the upstream layout, ``<sample_root>/<owner>/<name>/``;
    #: used by ``bagel run --sample``.
    sample_root: ClassVar[Path | None] = None

    # --- what the dataset card says about this component's data (see docs/outputs.md) ---
    #: Licence of the upstream data as a Hugging Face licence id (``"apache-2.0"``,
    #: ``"cc-by-nc-4.0"``, ...), ``"other"`` for custom terms (say which in ``terms``), or
    #: ``"unknown"`` when nobody has checked. The card's ``license`` is the common one, else
    #: ``other`` with every component's listed.
    license: ClassVar[str] = "unknown"
    #: Terms beyond the licence id that a user must know: a licence agreement to accept,
    #: per-subset licences, provider terms of generated text. Shown beside the licence.
    terms: ClassVar[str | None] = None
    #: BibTeX of the upstream dataset(s), as their authors ask to be cited; ``None`` when they
    #: give none.
    citation: ClassVar[str | None] = None
    #: A warning shown at the top of the card when this component's data is in the output
    #: (toxic, harmful or adult content); also tags the card ``not-for-all-audiences``.
    content_warning: ClassVar[str | None] = None
    #: Languages of the upstream text, as the card's ``language`` takes them: ISO 639-1/2/3
    #: codes (``"en"``, ``"fra"``), or ``"multilingual"`` for many (too many to list), plus
    #: ``"code"`` where the data is source code. Most instruction data is English: the default.
    languages: ClassVar[tuple[str, ...]] = ("en",)

    def setup(self, ctx: LoadContext) -> None:
        """Called once per run before :meth:`rows` or :meth:`load`: read lookup tables or other
        datasets here and keep them on ``self``."""

    def rows(self, ctx: LoadContext) -> Iterable[Any]:
        """Upstream rows, typically ``ctx.load_dataset(...)``."""
        raise NotImplementedError(f"{type(self).__name__} must override rows() or load()")

    def convert(self, row: Any, ctx: LoadContext) -> Record | Iterable[Record] | None:
        """Records made from one upstream row (``None`` or empty when the row is filtered)."""
        raise NotImplementedError(f"{type(self).__name__} must override convert() or load()")

    def stratum(self, row: Any) -> str:
        """The sampling stratum of an upstream row (a task, an origin data set, a language), for
        a stratified cap. Read only for rows that converted to at least one record, and only
        when overridden; a loader overriding :meth:`load` has no rows, so no strata."""
        raise NotImplementedError

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        """All records of the component. The default converts :meth:`rows` one by one."""
        for row in ctx.iter_rows(self.rows(ctx)):
            yield from ctx.convert_row(self.convert, row)

    def input_fingerprint(self) -> str:
        """What else, besides its options and upstream datasets, the output depends on (such as
        the sizes and times of local files its options name), so that a cached load is redone
        when it changes. Empty for loaders that read only upstream datasets."""
        return ""

    @classmethod
    def overrides(cls, method: str) -> bool:
        """Whether this class defines ``method`` itself instead of inheriting the default."""
        return getattr(cls, method) is not getattr(Loader, method)

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {
            "priority": cls.priority,
            "max_items": cls.max_items,
            "stratified": cls.overrides("stratum"),
            "cap_per_stratum": cls.cap_per_stratum,
            "dataset_ids": list(cls.dataset_ids),
            **cls.card_metadata(),
        }

    @classmethod
    def card_metadata(cls) -> dict[str, Any]:
        """Licence, terms, citation and content warning, as the manifest and the card hold them."""
        return {
            "license": cls.license,
            "terms": cls.terms,
            "citation": cls.citation,
            "content_warning": cls.content_warning,
        }


class Source(Loader):
    """An SFT data source: emits conversations, plain texts, and possibly DPO pairs too."""

    kind: ClassVar[str] = "source"


class DPOBuilder(Loader):
    """A DPO builder: emits records with ``prompt``, ``chosen``, ``rejected``."""

    kind: ClassVar[str] = "dpo_builder"


# --- prompt formats -----------------------------------------------------------------------

#: A chat message as in ``tokenizer.apply_chat_template``: ``{"role": ..., "content": ...}``
#: with roles ``system``, ``user``, ``assistant``.
Message = dict


@dataclass(frozen=True)
class SpecialTokens:
    """The BOS/EOS strings a format writes: from ``--tokenizer`` or the defaults."""

    bos: str = "<s>"
    eos: str = "</s>"
    #: Path of the tokenizer they came from, for formats that need the tokenizer itself.
    tokenizer_path: str | None = None


class PromptFormat(Component):
    """A prompt format: turns a conversation prefix into the model's input text.

    The engine handles what is common to all formats: one row per assistant turn, the
    default system prompt coin (seeded per item and format), newline clean-up of responses.
    """

    kind: ClassVar[str] = "format"
    #: Added, with probability ``options.system_prompt_probability``, to items without one.
    default_system_prompt: ClassVar[str | None] = None
    #: True for formats that cannot render without ``--tokenizer``; ``--formats all`` leaves
    #: them out (they are used only when named).
    requires_tokenizer: ClassVar[bool] = False

    @dataclass
    class Options:
        system_prompt_probability: Probability = 0.0

    options: Options

    def __init__(self, options: Any | None = None, special: SpecialTokens = SpecialTokens()) -> None:
        super().__init__(options)
        self.special = special

    def render(self, messages: Sequence[Message]) -> str:
        """The input text for ``messages`` (ending with a user message), up to where the
        assistant's answer starts: what ``apply_chat_template(messages,
        add_generation_prompt=True)`` gives with :meth:`chat_template`."""
        raise NotImplementedError

    def output(self, answer: str) -> str:
        """The answer trained on, as this format writes it: unchanged by default. (The built-in
        formats left-strip it when asked to reproduce the reference's whitespace.)"""
        return answer

    def chat_template(self) -> str:
        """A Jinja chat template equivalent to :meth:`render`."""
        raise NotImplementedError(f"format {self.name!r} has no chat template")

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {"default_system_prompt": cls.default_system_prompt, "requires_tokenizer": cls.requires_tokenizer}


# --- benchmarks and decontamination -------------------------------------------------------


#: What a benchmark view is compared with: ``prompt`` views (questions, instructions, passages)
#: with the human turns of an item, ``answer`` views (reference solutions in prose) with its
#: answers, ``code`` views (reference programs) with the code found anywhere in the item.
ViewRole = Literal["prompt", "answer", "code"]


@dataclass(frozen=True)
class BenchmarkText:
    """One indexed text (one *view*) of a benchmark item.

    A benchmark set may yield several texts per item, one per view (the question; the question
    with its choices; the passage and the question apart; a program's docstring and its
    solution). Texts of one item share ``item``; ``view`` names which one matched in the report
    and selects the threshold tuned for it. Sets written before views existed yield one text
    per item: its view is ``"text"`` and its role ``"prompt"``.
    """

    benchmark: str
    #: The item's id or row index in the benchmark, as text.
    item: str
    text: str
    #: Which view of the item this text is (``question``, ``question+choices``, ``solution``, ...).
    view: str = "text"
    #: What the view is compared with (:data:`ViewRole`).
    role: ViewRole = "prompt"


@dataclass(frozen=True)
class Query:
    """The texts of one SFT item or DPO pair to check against the benchmarks."""

    id: str
    #: The item's source label (the record's ``source`` field; usually its loader's name).
    source: str
    #: The instruction checked by default: the first human turn, or the DPO prompt.
    text: str
    #: Every human turn (just the prompt for a DPO pair), for decontaminators that check more.
    human_turns: tuple[str, ...]
    #: Every assistant turn (for a DPO pair: the chosen and the rejected answers).
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A query found in a benchmark."""

    id: str
    #: The query's source label.
    source: str
    decontaminator: str
    benchmark: str
    benchmark_item: str
    score: float
    text: str
    benchmark_text: str
    #: The views that matched, ``"<benchmark view><-<query view>"`` joined by ``", "``
    #: (query views: ``turn1``.. human turns, ``answer1``.. answers, ``turn1#w2``: a window).
    views: str = ""


class BenchmarkSet(Component):
    """A benchmark test set whose texts the decontaminators index."""

    kind: ClassVar[str] = "benchmark"
    dataset_ids: ClassVar[tuple[str, ...]] = ()
    sample_root: ClassVar[Path | None] = None
    #: Names under which ``--benchmarks`` selects this set with others (``legacy``, ``current``).
    groups: ClassVar[tuple[str, ...]] = ()
    #: The set's text must never be written out (its authors keep it off the open web, as
    #: GPQA's do): the decontaminate stage withholds the matched texts of an item that matches
    #: it, so reports, cards and logs name the benchmark item and the score only.
    redact_text: ClassVar[bool] = False

    def texts(self, ctx: LoadContext) -> Iterable[BenchmarkText]:
        raise NotImplementedError

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {"dataset_ids": list(cls.dataset_ids), "groups": list(cls.groups), "redact_text": cls.redact_text}


class Decontaminator(Component):
    """Finds items that match benchmark texts. The engine removes every matched id."""

    kind: ClassVar[str] = "decontaminator"

    def __init__(self, options: Any | None = None, cache_dir: Path | None = None) -> None:
        super().__init__(options)
        #: A folder this decontaminator may keep caches in across runs (embeddings, ...).
        self.cache_dir = cache_dir

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        """Prepare to search ``benchmarks``; called once before :meth:`search`."""
        raise NotImplementedError

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        """The matches among one batch of ``queries``."""
        raise NotImplementedError


# --- deduplication ------------------------------------------------------------------------


@dataclass(frozen=True)
class DedupBatch:
    """Items a deduper sees, in priority order (highest-priority source first, ties in the
    stable order of components), a batch at a time.

    ``positions`` number the items of one dedup scope (SFT items, or DPO pairs) in that order:
    a lower position is a higher priority. They grow across batches but need not be contiguous
    (an earlier deduper of the chain may have removed items in between).
    """

    positions: Sequence[int]
    #: The item ids (uid of the instruction, or a loader's own id).
    ids: Sequence[str]
    #: The component that loaded each item.
    origins: Sequence[str]
    #: The text compared: an SFT item's human turns joined by a newline (its plain text when it
    #: has no conversation), a DPO pair's prompt. The same text its id is made from by default.
    texts: Sequence[str]


@dataclass(frozen=True)
class Duplicate:
    """An item a deduper removes, and the earlier item it duplicates (which the deduper keeps)."""

    position: int
    kept: int
    #: How alike the two are, 0..1 (1.0 for identical); the deduper's own measure.
    similarity: float


class Deduper(Component):
    """Finds duplicates among the items of a run. The engine chains the selected dedupers: each
    sees, in priority order, the items the previous ones kept, and the engine removes every
    :class:`Duplicate` it reports.

    Keep the first item of each cluster: report a duplicate only against an earlier position
    that this deduper keeps, so the highest-priority source's item wins.
    """

    kind: ClassVar[str] = "deduper"

    def __init__(self, options: Any | None = None, cache_dir: Path | None = None) -> None:
        super().__init__(options)
        #: A folder this deduper may keep caches in across runs.
        self.cache_dir = cache_dir

    def add(self, batch: DedupBatch) -> None:
        """Take the next batch of items (called for every batch, in order)."""
        raise NotImplementedError

    def duplicates(self) -> Iterable[Duplicate]:
        """After the last batch: every item to remove, in any order."""
        raise NotImplementedError


# --- training -----------------------------------------------------------------------------


class Trainer(Component):
    """A training method, run by ``bagel train NAME``; each ``Options`` field is a CLI option."""

    kind: ClassVar[str] = "trainer"

    @classmethod
    def setup_logs(cls, verbose: int, quiet: bool) -> None:
        """Called by ``bagel train NAME`` before the trainer is built, with ``-v`` (a count) and
        ``-q``: quiet the libraries the trainer uses. Does nothing by default, so a trainer that
        needs no heavy library imports none."""

    def train(self) -> None:
        raise NotImplementedError
