"""Sample data generator: a deterministic 棋牌 platform's source files and their ground truth.

`python -m sampledata` writes them (and a config) into a folder. Inside: vocabulary.py (words and
how values get written), distributions.py (rates and random draws), persons.py (the true persons),
sources.py (each source's rows), faults.py (deliberate faults), corruption.py (the adversarial
setting's corrupted CRM records), formats.py (columns and value formats), writers.py (the files),
generate.py (one call, chunk by chunk) and folder.py (the marker that makes a folder the
generator's own; it refuses folders holding others' warehouse or config).
"""

from sampledata.folder import FolderInUseError
from sampledata.generate import GenerateStats, generate, write_sample

__all__ = ["FolderInUseError", "GenerateStats", "generate", "write_sample"]
