"""Sample data generator: a deterministic 棋牌 platform's source files and their ground truth.

`python -m sampledata` writes them (and a config) into a folder. Inside: vocabulary.py (words and
how values get written), distributions.py (rates and random draws), persons.py (the true persons),
sources.py (each source's rows), faults.py (deliberate faults), formats.py (columns and value
formats), writers.py (the files) and generate.py (one call, chunk by chunk).
"""

from sampledata.generate import GenerateStats, generate

__all__ = ["GenerateStats", "generate"]
