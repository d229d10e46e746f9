"""Sentence-embedding helpers shared by the embedding decontaminator and the semantic deduper: the
encoder with its on-disk cache (`encoder`, `cache`), the ONNX backend (`onnx`) and the distilled
static model (`static`)."""
