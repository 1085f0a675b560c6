"""Subword regularization (train.subword_alpha, nmtkit/data/sampling.py): sampled
segmentations change between epochs, are a function of (seed, epoch, sentence) alone, keep
batches within their token budget, and alpha 0 is the training of before."""

import shutil

import numpy as np
import pytest
import torch

from nmtkit.config import Config, ModelConfig, TrainConfig
from nmtkit.data.batching import ParallelData, token_batches
from nmtkit.data.preprocess import load_manifest
from nmtkit.data.sampling import SampledParallelData, sample_seed
from nmtkit.data.text import normalize
from nmtkit.data.vocab import Vocab
from nmtkit.errors import ConfigError, DataError
from nmtkit.fileio import read_lines
from nmtkit.training.trainer import Trainer
from tests.conftest import REPO
from tests.subword_data import spm_data, word_pairs


@pytest.fixture(scope="module")
def unigram(tmp_path_factory):
    return spm_data(tmp_path_factory.mktemp("unigram"))


@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
    return spm_data(tmp_path_factory.mktemp("bpe"), model_type="bpe", joint=False)


def sampled(data_dir, alpha=0.3, seed=1, max_len=100) -> SampledParallelData:
    vocabs = [Vocab.load(data_dir / f"vocab.{side}.tsv") for side in ("src", "tgt")]
    return SampledParallelData(data_dir, *vocabs, load_manifest(data_dir).tokenizer, alpha,
                               seed, max_len)


def epoch_ids(data, epoch, order=None) -> list[tuple[list, list]]:
    data.start_epoch(epoch)
    order = range(len(data)) if order is None else order
    got = {i: (data.src_ids(i).tolist(), data.tgt_ids(i).tolist()) for i in order}
    return [got[i] for i in sorted(got)]


def test_preprocess_keeps_the_normalised_training_text_in_corpus_order(unigram):
    spec = load_manifest(unigram).tokenizer
    data = ParallelData(unigram, "train", *(Vocab.load(unigram / f"vocab.{s}.tsv")
                                           for s in ("src", "tgt")))
    for side, corpus, pairs_side in (("src", data.src, 0), ("tgt", data.tgt, 1)):
        lines = read_lines(unigram / f"train.{side}.txt")
        assert lines == [normalize(p[pairs_side]) for p in word_pairs(200, seed=1)]
        tokenizer = spec.build(unigram, side)
        table = (data.src_map if side == "src" else data.tgt_map)
        vocab = Vocab.load(unigram / f"vocab.{side}.tsv")
        # the text encodes (deterministically) to the corpus's pieces
        assert all(vocab.encode(tokenizer.encode(line)) == table[corpus[i]].tolist()
                   for i, line in enumerate(lines))


@pytest.mark.parametrize("fixture", ["unigram", "bpe"])
def test_sampling_changes_between_epochs_and_is_a_function_of_seed_epoch_sentence(
        request, fixture):
    data_dir = request.getfixturevalue(fixture)
    a, b = sampled(data_dir), sampled(data_dir)
    epoch0 = epoch_ids(a, 0)
    # Another reader (another process, a resumed run) in another order, after another
    # epoch: the same segmentations.
    epoch_ids(b, 3)
    assert epoch_ids(b, 0, order=reversed(range(len(b)))) == epoch0
    assert epoch_ids(a, 0) == epoch0  # read again
    epoch1 = epoch_ids(a, 1)
    changed = sum(x != y for x, y in zip(epoch0, epoch1))
    assert changed > len(a) // 4, changed  # another epoch, other segmentations
    other_seed = epoch_ids(sampled(data_dir, seed=2), 0)
    assert sum(x != y for x, y in zip(epoch0, other_seed)) > len(a) // 4
    plain = [(a.src_map[a.src[i]].tolist(), a.tgt_map[a.tgt[i]].tolist())
             for i in range(len(a))]
    assert sum(x != y for x, y in zip(epoch0, plain)) > len(a) // 10  # not the Viterbi one
    # one sentence alone, read through the batch interface, is what the epoch read
    a.start_epoch(0)
    batch = a.collate(np.array([7]))
    assert batch.src[0, : batch.src_lengths[0]].tolist() == epoch0[7][0]
    assert sample_seed(1, 0, 0, 7) != sample_seed(1, 1, 0, 7) != sample_seed(1, 0, 1, 7)


def test_sampled_lengths_are_what_batches_read_and_batches_keep_their_budget(unigram):
    data = sampled(unigram, alpha=0.1)
    for epoch in (0, 1):
        data.start_epoch(epoch)
        assert (data.src_lengths != data.src.lengths).any()  # sampled lengths differ
        gen = torch.Generator().manual_seed(epoch)
        batches = token_batches(data.src_lengths, data.tgt_lengths, 150, gen, 100)
        assert sorted(np.concatenate(batches).tolist()) == list(range(len(data)))
        for idx in batches:
            batch = data.collate(idx)
            assert batch.src_lengths.tolist() == data.src_lengths[idx].tolist()
            assert batch.n_tgt_tokens == int(data.tgt_lengths[idx].sum()) + len(idx)
            cost = len(idx) * max(batch.src.shape[1], batch.tgt_out.shape[1])
            assert cost <= 150 or len(idx) == 1


def test_a_sampled_side_longer_than_max_len_falls_back_to_the_plain_segmentation(unigram):
    max_len = 14
    data = sampled(unigram, alpha=0.05, max_len=max_len)
    data.start_epoch(0)
    plain_kept = (data.src.lengths <= max_len) & (data.tgt.lengths <= max_len)
    kept = (data.src_lengths <= max_len) & (data.tgt_lengths <= max_len)
    assert (kept == plain_kept).all() and 0 < plain_kept.sum() < len(data)
    fell_back = 0
    for i in np.flatnonzero(kept):
        src = data.src_ids(i)
        assert len(src) == data.src_lengths[i] <= max_len
        fell_back += src.tolist() == data.src_map[data.src[i]].tolist()
    assert fell_back  # some did (or were sampled as the plain one)


def config(**train) -> Config:
    model = ModelConfig(embed_dim=8, embed_dropout=0.2,
                        encoder={"type": "rnn", "hidden_size": 8, "dropout": 0.3},
                        decoder={"type": "rnn", "hidden_size": 8, "dropout": 0.3})
    options = dict(batch_tokens=100, log_every=1, valid_bleu=False, precision="fp32",
                   valid_every=3, check_int8=False)
    return Config(model, TrainConfig(**{**options, **train}))


def test_alpha_zero_trains_on_exactly_the_batches_of_before(unigram, tmp_path):
    trainer = Trainer(config(subword_alpha=0.0), unigram, tmp_path / "m")
    data = trainer.train_data
    assert type(data) is ParallelData
    for epoch in (0, 1):
        trainer.state.epoch = epoch
        before = token_batches(data.src.lengths, data.tgt.lengths, 100,
                               torch.Generator().manual_seed(trainer.config.train.seed + epoch),
                               100)
        got = trainer._epoch_batches()
        assert [b.tolist() for b in got] == [b.tolist() for b in before]
        for idx in got[:5]:
            batch = data.collate(idx)
            assert batch.src_lengths.tolist() == data.src.lengths[idx].tolist()
            assert trainer.stepper.tokens([idx]) == batch.n_tgt_tokens
    sampling = Trainer(config(subword_alpha=0.3), unigram, tmp_path / "s")
    assert [b.tolist() for b in sampling._epoch_batches()] != \
        [b.tolist() for b in trainer._epoch_batches()]


def test_a_resumed_sampling_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    from nmtkit.model_folder.tensors import load_tensors

    small = spm_data(tmp_path, n=40)  # a few batches an epoch: the runs cross epochs
    whole = Trainer(config(subword_alpha=0.2, max_steps=10), small, tmp_path / "whole")
    assert whole.run().epochs > 1
    Trainer(config(subword_alpha=0.2, max_steps=8), small, tmp_path / "cut").run()
    resumed = Trainer(config(subword_alpha=0.2, max_steps=10), small, tmp_path / "cut")
    assert resumed.state.step == 8 and resumed.state.epoch == 1  # resumed in epoch 1
    resumed.run()
    a = load_tensors(tmp_path / "whole" / "train_state.pt")
    b = load_tensors(tmp_path / "cut" / "train_state.pt")
    assert a["counters"]["tgt_tokens"] == b["counters"]["tgt_tokens"]
    assert a["data"] == b["data"]
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_what_sampling_cannot_train_on_is_one_line_naming_the_option(unigram, data_dir,
                                                                     tmp_path):
    old = tmp_path / "old"  # a data folder of an earlier release: no training text
    shutil.copytree(unigram, old)
    (old / "train.src.txt").unlink()
    (old / "train.tgt.txt").unlink()
    cases = [
        # data_dir: word units
        (data_dir, {}, r"^train.subword_alpha samples sentencepiece segmentations, but .* "
                       r"has word units; set train.subword_alpha=0, or preprocess with "
                       r"--units spm$"),
        (old, {}, r"^train.subword_alpha needs the training text \(train.src.txt, "
                  r"train.tgt.txt\).*; run nmtkit preprocess again$"),
    ]
    for folder, options, message in cases:
        with pytest.raises(ConfigError, match=message) as e:
            Trainer(config(subword_alpha=0.1, **options), folder, tmp_path / "m")
        assert "\n" not in str(e.value)
    Trainer(config(subword_alpha=0.0), old, tmp_path / "plain")  # without sampling: fine
    cut = tmp_path / "cut"  # a damaged one: the text does not match the corpus
    shutil.copytree(unigram, cut)
    lines = (cut / "train.tgt.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    (cut / "train.tgt.txt").write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(DataError, match=r"train.tgt.txt: 199 lines but train.tgt has 200 "
                                        r"sentences; run nmtkit preprocess again$"):
        Trainer(config(subword_alpha=0.1), cut, tmp_path / "c")


def digest(data, epoch) -> str:
    import hashlib

    h = hashlib.sha256()
    for src, tgt in epoch_ids(data, epoch):
        h.update(repr((src, tgt)).encode())
    return h.hexdigest()


def test_another_process_samples_the_same_segmentations(unigram, bpe):
    """What a resumed run or another torchrun process relies on (sentencepiece's own
    sampling is not repeatable across processes, whatever its seed)."""
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; "
            "from tests.unit.test_subword_sampling import sampled, digest; "
            "print(*(digest(sampled(Path(d)), 1) for d in sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", code, str(unigram), str(bpe)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [digest(sampled(unigram), 1), digest(sampled(bpe), 1)]


@pytest.mark.parametrize("fixture", ["unigram", "bpe"])
def test_segmentations_are_sampled_as_sentencepiece_samples_them(request, fixture):
    """Without randomness the sampler splits every training line as sentencepiece's
    encode does; with it, the segmentations of a word come as often as sentencepiece's
    own sampling gives them (total variation distance of 4,000 samples each)."""
    import collections

    import sentencepiece

    from nmtkit.data.spm_sampling import SpmSampler

    data_dir = request.getfixturevalue(fixture)
    model = data_dir / load_manifest(data_dir).tokenizer.src_model
    ours = SpmSampler.open(model, 0.2)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    for line in read_lines(data_dir / "train.src.txt"):
        assert ours.plain(line) == sp.encode(line, out_type=str)
    text, n = "kalomi ruvo", 4000
    mine = collections.Counter(" ".join(ours.sample(text, seed)) for seed in range(n))
    theirs = collections.Counter(
        " ".join(sp.encode(text, out_type=str, enable_sampling=True, alpha=0.2,
                           nbest_size=-1)) for _ in range(n))
    assert len(mine) > 1
    distance = sum(abs(mine[k] - theirs[k]) for k in mine.keys() | theirs.keys()) / 2 / n
    assert distance < 0.08, (distance, mine.most_common(5), theirs.most_common(5))


def test_unknown_characters_come_out_as_sentencepiece_writes_them(unigram):
    from nmtkit.data.spm_sampling import SpmSampler

    model = unigram / load_manifest(unigram).tokenizer.src_model
    ours = SpmSampler.open(model, 0.2)
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    text = "ka ∑∂ lo ĳx"
    assert ours.plain(text) == sp.encode(text, out_type=str)
    sample = ours.sample(text, 5)
    assert "".join(sample) == sp.normalize(text) and "∑∂" in sample
