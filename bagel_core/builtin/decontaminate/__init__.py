"""Built-in decontaminators: n-gram (`ngram`), embedding (`embedding`), code (`code`) and the optional LM
judge (`judge`), with the query views they share (`query_text`) and the code evidence (`code_match`)."""
