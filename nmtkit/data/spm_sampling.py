"""Seeded sentencepiece sampling: unigram sampling (Kudo 2018) and BPE-dropout (Provilkov et
al. 2020) over a sentencepiece model's pieces, with random numbers that are a function of
a 64-bit seed alone.

Sentencepiece samples with its own generator, which no seed fixes across processes (its
``set_random_generator_seed`` repeats samples within one process at best): a resumed run
could not sample what the uninterrupted one did. So the sampling is done here, as
sentencepiece does it, on sentencepiece's normalised text (``normalize``, the model's own
normaliser):

- **unigram**: the lattice of every piece of the model that matches the text (user-defined
  pieces with their bonus, an unknown node at a character no piece of length 1 covers),
  forward-filtering backward-sampling of a path with probability proportional to
  ``exp(alpha * sum of the pieces' log-probabilities)`` (sentencepiece's
  ``enable_sampling=True, nbest_size=-1, alpha=alpha``);
- **bpe**: the merges of the highest-scoring adjacent pair first (the leftmost among
  equals), each one skipped with probability ``alpha`` (sentencepiece's BPE-dropout).

Unknown pieces come out as their text, consecutive ones merged (or as byte pieces with
``byte_fallback``), as sentencepiece's ``encode(out_type=str)`` gives them. The result
with no randomness (the best path; BPE without dropout) is checked against
sentencepiece's own segmentation of a few training lines before training
(:meth:`SpmSampler.plain`), so that a model this does not read as sentencepiece does is
refused rather than sampled wrongly.

Where no piece holds the word mark ``▁`` but at its start (sentencepiece's default,
``split_by_whitespace``), no piece crosses a word and each word is segmented on its own: a
unigram word's sampling tables are computed once and kept (up to :data:`CACHE_WORDS` words
a side, under 1 kB a word), so a sample costs a few random draws a word.
"""

from __future__ import annotations

import heapq
import math
import struct
from array import array
from bisect import bisect_right
from pathlib import Path

from nmtkit.errors import NmtkitError

SPACE = "\u2581"
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
UNK_PENALTY = 10.0  # sentencepiece's kUnkPenalty
FLT_MIN = 1.17549435e-38  # sentencepiece's start for the highest piece score
CACHE_WORDS = 50_000  # unigram words whose sampling tables are kept, a side (~45 MB at most)

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of ``x``."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class Uniforms:
    """Uniform numbers in [0, 1), the n-th a function of the seed and n alone (splitmix64,
    a counter-based generator: no state but the counter)."""

    __slots__ = ("state",)

    def __init__(self, seed: int):
        self.state = seed & _MASK

    def __call__(self) -> float:
        self.state = (self.state + _GOLDEN) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1 << 53))


# -- the model file -------------------------------------------------------------------------

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """(field number, value) of a protobuf message: ints for varints, bytes otherwise."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {wire}")
        yield number, value


class SpmModel:
    """What sampling needs of a sentencepiece ``.model`` file (a ``ModelProto``): its type,
    byte fallback, and each piece's text, score and type."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.pieces: list[tuple[str, float, int]] = []
        self.model_type, self.byte_fallback = 1, False
        try:
            for number, value in _fields(self.path.read_bytes()):
                if number == 1:  # SentencePiece
                    piece, score, kind = "", 0.0, NORMAL
                    for n, v in _fields(value):
                        if n == 1:
                            piece = v.decode("utf-8")
                        elif n == 2:
                            score = struct.unpack("<f", v)[0]
                        elif n == 3:
                            kind = v
                    self.pieces.append((piece, score, kind))
                elif number == 2:  # TrainerSpec
                    for n, v in _fields(value):
                        if n == 3:
                            self.model_type = v
                        elif n == 35:
                            self.byte_fallback = bool(v)
        except (OSError, ValueError, IndexError, struct.error, UnicodeDecodeError) as e:
            raise NmtkitError(f"{self.path}: cannot read the sentencepiece model: {e}") from None

    @property
    def type_name(self) -> str:
        return MODEL_TYPES.get(self.model_type, str(self.model_type))


def _unknowns(out: list[tuple[str, bool]], byte_fallback: bool) -> list[str]:
    """The pieces of ``(piece, unknown)`` as sentencepiece writes them: consecutive unknown
    pieces merged, or each unknown piece as its UTF-8 bytes with byte fallback."""
    pieces: list[str] = []
    prev_unk = False
    for piece, unk in out:
        if unk and byte_fallback:
            pieces.extend(f"<0x{b:02X}>" for b in piece.encode("utf-8"))
        elif unk and prev_unk:
            pieces[-1] += piece
        else:
            pieces.append(piece)
        prev_unk = unk
    return pieces


class SpmSampler:
    """Seeded sampling of a sentencepiece model's segmentations: :meth:`sample` with a
    seed, :meth:`plain` (no randomness: what sentencepiece's ``encode`` gives)."""

    def __init__(self, model_file: Path, alpha: float):
        import sentencepiece

        self.model = SpmModel(model_file)
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        self.alpha = alpha
        self.byte_fallback = self.model.byte_fallback
        self.user_defined = sorted((p for p, _, t in self.model.pieces if t == USER_DEFINED),
                                   key=len, reverse=True)
        known = [p for p, _, t in self.model.pieces if t in (NORMAL, USER_DEFINED, UNUSED)]
        # Words can be segmented one by one where no piece holds a word mark but at its start.
        self.by_word = not any(SPACE in p[1:] for p in known)

    @staticmethod
    def open(model_file: Path, alpha: float) -> SpmSampler:
        model_type = SpmModel(model_file).model_type
        if model_type == 1:
            return UnigramSampler(model_file, alpha)
        if model_type == 2:
            return BpeDropout(model_file, alpha)
        raise NmtkitError(f"{model_file}: a sentencepiece {MODEL_TYPES.get(model_type, '?')} "
                          "model, which cannot sample segmentations (unigram and bpe can)")

    def _words(self, normalized: str) -> list[str]:
        if not self.by_word or not normalized:
            return [normalized] if normalized else []
        words = normalized.split(SPACE)
        out = [SPACE + w for w in words[1:]]
        return ([words[0]] if words[0] else []) + out

    def sample(self, text: str, seed: int) -> list[str]:
        """A sampled segmentation of ``text`` (not normalised yet): a function of the text
        and the 64-bit ``seed``."""
        rand = Uniforms(seed)
        out: list[tuple[str, bool]] = []
        for word in self._words(self.sp.normalize(text)):
            self._segment(word, rand, out)
        return _unknowns(out, self.byte_fallback)

    def plain(self, text: str) -> list[str]:
        """The segmentation without randomness, as sentencepiece's ``encode`` makes it."""
        out: list[tuple[str, bool]] = []
        for word in self._words(self.sp.normalize(text)):
            self._segment(word, None, out)
        return _unknowns(out, self.byte_fallback)

    def _segment(self, word: str, rand: Uniforms | None, out: list) -> None:
        raise NotImplementedError


class UnigramSampler(SpmSampler):
    """Forward-filtering backward-sampling over the unigram lattice (``rand`` None: the
    best path, Viterbi, as sentencepiece breaks ties: the first best in order of start)."""

    def __init__(self, model_file: Path, alpha: float):
        super().__init__(model_file, alpha)
        normal = [s for _, s, t in self.model.pieces if t == NORMAL]
        self.unk_score = min(normal, default=0.0) - UNK_PENALTY
        max_score = max([FLT_MIN, *normal])
        self.scores: dict[str, float] = {}
        for piece, score, kind in self.model.pieces:
            if kind == NORMAL:
                self.scores[piece] = score
            elif kind == USER_DEFINED:  # sentencepiece's bonus: always taken
                self.scores[piece] = len(piece) * max_score - 0.1
        self.max_len = max((len(p) for p in self.scores), default=1)
        self.piece_list = list(self.scores)
        self.piece_index = {p: i for i, p in enumerate(self.piece_list)}
        self.cache: dict[str, tuple] = {}

    def _nodes(self, word: str) -> list[list[tuple[int, str, float, bool]]]:
        """For each end position, the lattice nodes ending there: (start, piece, score,
        unknown), in order of start."""
        m = len(word)
        ends: list[list] = [[] for _ in range(m + 1)]
        scores, max_len = self.scores, self.max_len
        for s in range(m):
            single = False
            for e in range(s + 1, min(m, s + max_len) + 1):
                piece = word[s:e]
                score = scores.get(piece)
                if score is not None:
                    ends[e].append((s, piece, score, False))
                    single = single or e == s + 1
            if not single:
                ends[s + 1].append((s, word[s], self.unk_score, True))
        return ends  # each list in order of start: the loop appends them so

    def _tables(self, word: str) -> tuple:
        """The backward step's choices, packed (under 1 kB for a word of 7
        characters): for the end position ``e`` (1-based), entries ``offsets[e - 1]`` to
        ``offsets[e]`` of ``starts`` (where the node starts), ``ids`` (its piece in
        :attr:`piece_list`, or ``-1 - ord(c)`` for an unknown character ``c``) and
        ``cumulative`` (its cumulative probability among the nodes ending at ``e``)."""
        tables = self.cache.get(word)
        if tables is not None:
            return tables
        ends = self._nodes(word)
        theta, index = self.alpha, self.piece_index
        forward = [0.0] * (len(word) + 1)
        offsets, starts, ids, cumulative = array("I", [0]), array("I"), array("i"), array("d")
        for e in range(1, len(word) + 1):
            terms = [forward[s] + theta * score for s, _, score, _ in ends[e]]
            top = max(terms)
            weights = [math.exp(t - top) for t in terms]
            forward[e] = top + math.log(sum(weights))
            total = 0.0
            for (s, piece, _, unk), w in zip(ends[e], weights):
                total += w
                starts.append(s)
                ids.append(-1 - ord(piece) if unk else index[piece])
                cumulative.append(total)
            offsets.append(len(starts))
        tables = (offsets, starts, ids, cumulative)
        if self.by_word:
            if len(self.cache) >= CACHE_WORDS:
                self.cache.clear()
            self.cache[word] = tables
        return tables

    def _segment(self, word: str, rand: Uniforms | None, out: list) -> None:
        if rand is None:
            out.extend(self._viterbi(word))
            return
        offsets, starts, ids, cumulative = self._tables(word)
        pieces = self.piece_list
        chosen = []
        e = len(word)
        while e > 0:
            lo, hi = offsets[e - 1], offsets[e]
            k = lo
            if hi - lo > 1:
                k = min(bisect_right(cumulative, rand() * cumulative[hi - 1], lo, hi), hi - 1)
            i = ids[k]
            chosen.append((pieces[i], False) if i >= 0 else (chr(-1 - i), True))
            e = starts[k]
        out.extend(reversed(chosen))

    def _viterbi(self, word: str) -> list[tuple[str, bool]]:
        ends = self._nodes(word)
        best = [0.0] * (len(word) + 1)
        back: list = [None] * (len(word) + 1)
        for e in range(1, len(word) + 1):
            for node in ends[e]:
                score = best[node[0]] + node[2]
                if back[e] is None or score > best[e]:
                    best[e], back[e] = score, node
        path, e = [], len(word)
        while e > 0:
            s, piece, _, unk = back[e]
            path.append((piece, unk))
            e = s
        return path[::-1]


class BpeDropout(SpmSampler):
    """BPE as sentencepiece merges (the best-scoring adjacent pair first, the leftmost
    among equals; user-defined pieces never merged), each merge skipped with probability
    ``alpha`` (``rand`` None: none skipped)."""

    def __init__(self, model_file: Path, alpha: float):
        super().__init__(model_file, alpha)
        self.scores = {p: s for p, s, t in self.model.pieces
                       if t in (NORMAL, USER_DEFINED, UNUSED)}
        self.unused = {p for p, _, t in self.model.pieces if t == UNUSED}
        self.known = set(self.scores)

    def _symbols(self, word: str) -> list[tuple[str, bool]]:
        symbols, i = [], 0
        while i < len(word):
            for user in self.user_defined:
                if word.startswith(user, i):
                    symbols.append((user, True))
                    i += len(user)
                    break
            else:
                symbols.append((word[i], False))
                i += 1
        return symbols

    def _segment(self, word: str, rand: Uniforms | None, out: list) -> None:
        symbols = self._symbols(word)
        pieces = [s for s, _ in symbols]
        frozen = [f for _, f in symbols]
        n = len(pieces)
        nxt = list(range(1, n)) + [-1]
        prev = list(range(-1, n - 1))
        heap: list = []
        scores, alpha = self.scores, self.alpha
        rev: dict[str, tuple[str, str]] = {}

        def push(left: int, right: int) -> None:
            if left < 0 or right < 0 or frozen[left] or frozen[right]:
                return
            merged = pieces[left] + pieces[right]
            score = scores.get(merged)
            if score is None:
                return
            heapq.heappush(heap, (-score, left, right, len(merged)))
            if merged in self.unused:
                rev[merged] = (pieces[left], pieces[right])

        for i in range(1, n):
            push(i - 1, i)
        while heap:
            _, left, right, size = heapq.heappop(heap)
            if not pieces[left] or not pieces[right] or \
                    len(pieces[left]) + len(pieces[right]) != size:
                continue
            if rand is not None and alpha > 0 and (alpha >= 1.0 or rand() < alpha):
                continue  # dropped
            pieces[left] += pieces[right]
            nxt[left] = nxt[right]
            if nxt[right] >= 0:
                prev[nxt[right]] = left
            pieces[right] = ""
            push(prev[left], left)
            push(left, nxt[left])

        def resegment(piece: str) -> None:
            if piece in self.unused and piece in rev:
                resegment(rev[piece][0])
                resegment(rev[piece][1])
            else:
                out.append((piece, piece not in self.known))

        i = 0 if n else -1
        while i != -1:
            resegment(pieces[i])
            i = nxt[i]
