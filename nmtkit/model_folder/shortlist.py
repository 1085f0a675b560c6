"""``nmtkit shortlist MODEL_DIR --data DATA_DIR``: count the lexical table of the data
folder's training pairs (:mod:`nmtkit.data.lexicon`) in the model's vocabularies and write
it into the model folder as ``shortlist.pt``, which ``translate --shortlist`` reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from nmtkit.data.lexicon import lexicon_for
from nmtkit.data.preprocess import load_manifest
from nmtkit.data.vocab import Vocab
from nmtkit.model_folder.fit import check_same_encoding
from nmtkit.model_folder.folder import ModelFolder
from nmtkit.model_folder.tensors import save_tensors


@dataclass
class ShortlistReport:
    path: Path
    sentences: int  # training pairs counted
    per_piece: int
    frequent: int
    mean_entries: float  # target entries listed per source entry, on average


def make_shortlist(model_dir: Path, data_dir: Path, per_piece: int = 20,
                   frequent: int = 300) -> ShortlistReport:
    folder = ModelFolder.open(Path(model_dir))
    data_dir = Path(data_dir)
    check_same_encoding(folder.path, data_dir, load_manifest(data_dir),
                        who=f"nmtkit shortlist {folder.path}")
    src_vocab = Vocab.load(folder.path / "vocab.src.tsv")
    tgt_vocab = Vocab.load(folder.path / "vocab.tgt.tsv")
    table = lexicon_for(data_dir, src_vocab, tgt_vocab, per_piece, frequent)
    save_tensors({"table": torch.from_numpy(table.table).to(torch.int32),
                  "frequent": torch.from_numpy(table.frequent).to(torch.int32),
                  "per_piece": per_piece, "sentences": table.sentences},
                 folder.shortlist_path)
    listed = float((table.table >= 0).sum(1).mean())
    return ShortlistReport(folder.shortlist_path, table.sentences, per_piece,
                           len(table.frequent), listed)
