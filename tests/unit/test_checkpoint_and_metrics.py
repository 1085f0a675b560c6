import pytest
import torch

from nmtkit.api import score
from nmtkit.errors import DataError, NmtkitError
from nmtkit.model_folder.tensors import load_tensors, save_tensors


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_tensor_files_round_trip(tmp_path):
    save_tensors({"w": torch.arange(3), "step": 7}, tmp_path / "x.pt")
    loaded = load_tensors(tmp_path / "x.pt")
    assert loaded["step"] == 7 and loaded["w"].tolist() == [0, 1, 2]


def test_a_model_file_cannot_run_code(tmp_path, capsys):
    path = tmp_path / "model.pt"
    torch.save({"model": Evil()}, path)
    with pytest.raises(NmtkitError, match="not a valid nmtkit tensor file"):
        load_tensors(path)
    assert "must never run" not in capsys.readouterr().out


def test_scores_and_line_count_check():
    scores = {s.metric: s for s in score(["a b c d"], ["a b c d"])}
    assert scores["bleu"].score == 100.0 and scores["ter"].score == 0.0
    assert "nrefs:1" in scores["bleu"].signature
    with pytest.raises(DataError, match="hyp.txt has 1 lines but ref.txt has 2"):
        score(["a"], ["a", "b"], hyp_name="hyp.txt", ref_name="ref.txt")


def test_a_resumed_run_drops_what_is_not_a_record_from_the_training_log(tmp_path):
    """A damaged or foreign line does not stop a resumed run (which keeps the records up to
    its checkpoint): it is dropped, as is a last line a killed run left cut short."""
    from nmtkit.model_folder import metrics_log

    (tmp_path / "metrics.jsonl").write_bytes(
        b'{"step": 1, "loss": 2.0}\n[1, 2]\n{"loss": 1.0}\n{"step": 2, "loss": "\xff"}\n'
        b'not json\n{"step": 3, "loss": 1.5}\n{"step": 9, "loss": 1.0}\n{"step": 10, "lo')
    metrics_log.keep_until(tmp_path, 3)
    assert (tmp_path / "metrics.jsonl").read_text() == \
        '{"step": 1, "loss": 2.0}\n{"step": 3, "loss": 1.5}\n'
