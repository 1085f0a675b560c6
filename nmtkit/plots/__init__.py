"""Pictures: training curves and attention heatmaps, drawn with matplotlib (an optional
extra), with fonts for any script."""
