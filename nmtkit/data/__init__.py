"""Text reading and filtering, subword units, vocabularies, memory-mapped corpora, batches."""
