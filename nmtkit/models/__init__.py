"""Model interfaces, components and their assembly into a sequence-to-sequence model."""
