"""vector: a FAISS-compatible index API on cuVS (GPU) and faiss-cpu (CPU)."""
