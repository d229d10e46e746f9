"""Sentence-embedding helpers shared by the embedding decontaminator and the semantic deduper: the on-disk
benchmark embedding cache (`cache`), the ONNX backend (`onnx`) and the distilled static model (`static`)."""
