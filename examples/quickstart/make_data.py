"""Generate the quickstart's toy translation task: a small made-up language pair.

Source sentences come from a tiny English grammar; the target language has its own
words (a fixed dictionary), puts adjectives after the noun in reverse order, and the verb
at the end of the sentence. Learning it needs both word translation and reordering, so
the BLEU a model reaches shows that attention and decoding work.

    python examples/quickstart/make_data.py OUT_DIR [--train 6000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

DETS = ["the", "a", "every", "this"]
ADJS = ["big", "small", "red", "green", "old", "young", "happy", "quiet", "fast", "tall",
        "dark", "bright"]
NOUNS = ["dog", "cat", "man", "woman", "child", "bird", "horse", "teacher", "farmer", "river",
         "house", "car", "tree", "boat", "girl", "boy", "friend", "doctor", "city", "garden"]
VERBS = ["sees", "likes", "follows", "finds", "helps", "paints", "calls", "watches", "knows",
         "meets"]
SYLLABLES = ["ka", "lo", "mi", "tu", "re", "sa", "no", "vi", "de", "po", "ri", "fu", "ge",
             "la", "zo", "be"]


def make_lexicon(rng: random.Random) -> dict[str, str]:
    lexicon, used = {}, set()
    for word in DETS + ADJS + NOUNS + VERBS:
        while True:
            n = 1 if word in DETS else rng.choice([2, 2, 3])
            target = "".join(rng.choice(SYLLABLES) for _ in range(n))
            if target not in used:
                used.add(target)
                lexicon[word] = target
                break
    return lexicon


def noun_phrase(rng: random.Random) -> list[str]:
    return [rng.choice(DETS)] + rng.sample(ADJS, rng.choice([0, 0, 1, 1, 2])) + [rng.choice(NOUNS)]


def translate_np(np_: list[str], lex: dict[str, str]) -> list[str]:
    det, adjs, noun = np_[0], np_[1:-1], np_[-1]
    return [lex[det], lex[noun]] + [lex[a] for a in reversed(adjs)]


def sentence(rng: random.Random, lex: dict[str, str]) -> tuple[str, str]:
    subj, obj, verb = noun_phrase(rng), noun_phrase(rng), rng.choice(VERBS)
    src = subj + [verb] + obj
    tgt = translate_np(subj, lex) + translate_np(obj, lex) + [lex[verb]]
    if rng.random() < 0.3:  # a second clause
        subj2, obj2, verb2 = noun_phrase(rng), noun_phrase(rng), rng.choice(VERBS)
        src += ["and"] + subj2 + [verb2] + obj2
        tgt += ["e"] + translate_np(subj2, lex) + translate_np(obj2, lex) + [lex[verb2]]
    src_text = " ".join(src).capitalize() + "."
    tgt_text = " ".join(tgt).capitalize() + "."
    return src_text, tgt_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--train", type=int, default=6000)
    ap.add_argument("--valid", type=int, default=200)
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lex = make_lexicon(rng)
    args.out.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", args.train), ("valid", args.valid), ("test", args.test)):
        pairs = [sentence(rng, lex) for _ in range(n)]
        (args.out / f"{split}.src").write_text("".join(s + "\n" for s, _ in pairs))
        (args.out / f"{split}.tgt").write_text("".join(t + "\n" for _, t in pairs))
    print(f"wrote {args.train}/{args.valid}/{args.test} train/valid/test pairs to {args.out}")


if __name__ == "__main__":
    main()
