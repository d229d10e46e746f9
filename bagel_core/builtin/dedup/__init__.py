"""Built-in dedupers: exact uuid5 ids (`exact`), MinHash near-duplicates (`minhash`) and embedding
near-duplicates (`semantic`)."""
