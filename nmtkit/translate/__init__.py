"""Translating text with a trained model: the options, the translator (normalise, split,
search, detokenise, keep the order), worker processes, int8 weights, the output formats,
and what the model attended to (attention maps, alignments).

Nothing is imported here, so that the command line reads the options without torch.
"""
