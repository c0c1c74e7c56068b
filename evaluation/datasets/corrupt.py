"""Small pure corruptions the builders apply to true values: typos, digit slips, Zipf draws."""

import random
import string
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")

# Letters next to each other on a QWERTY keyboard: most hand-copying and typing slips land there.
NEIGHBOURS = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}


class Zipf:
    """Draws from a list with weight 1 / rank ** exponent: the first values common, the last rare."""

    def __init__(self, values: Sequence[T], exponent: float = 1.0) -> None:
        self.values = list(values)
        self.cumulative = list(accumulate(1 / (rank + 1) ** exponent for rank in range(len(self.values))))

    def draw(self, rng: random.Random) -> T:
        """One value."""
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


def typo(word: str, rng: random.Random) -> str:
    """The word with one slip: a neighbouring key, a letter dropped, doubled or inserted, or two swapped."""
    if len(word) < 3:
        return word
    at = rng.randrange(1, len(word) - 1)  # the first letter is usually right
    kind = rng.choice(("substitute", "delete", "double", "insert", "transpose"))
    letter = word[at].lower()
    if kind == "substitute":
        return word[:at] + rng.choice(NEIGHBOURS.get(letter, string.ascii_lowercase)) + word[at + 1 :]
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "double":
        return word[: at + 1] + word[at:]
    if kind == "insert":
        return word[:at] + rng.choice(NEIGHBOURS.get(letter, string.ascii_lowercase)) + word[at:]
    if word[at] == word[at + 1 : at + 2]:
        return word[:at] + word[at + 1 :]
    return word[:at] + word[at + 1 : at + 2] + word[at] + word[at + 2 :]


def digit_slip(digits: str, rng: random.Random) -> str:
    """One digit of a string replaced by another (a misread 3 for 8, 1 for 7, ...)."""
    places = [i for i, c in enumerate(digits) if c.isdigit()]
    at = rng.choice(places)
    other = rng.choice([d for d in string.digits if d != digits[at]])
    return digits[:at] + other + digits[at + 1 :]
