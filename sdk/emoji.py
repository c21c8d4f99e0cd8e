"""Emoji to words, before tokenisation: the WordPiece vocabulary has no emoji, so 😡, 😭 and 👍 would all
become the same [UNK]. Each emoji (or emoji sequence: skin tones, ZWJ families, flags) is replaced by its
CLDR short name, " enraged face ", longest sequence first.

The table is data: `emoji_names.json` in this package (made from the `emoji` package by `build_table`),
used in training and copied into every bundle, where the SDK and the Android core read it under the
bundle's integrity check. Both apply the same rule: at each position the longest table key that starts
there is replaced by a space, its name and a space; other characters are kept.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .errors import BundleIntegrityError

TABLE_FILE = Path(__file__).with_name("emoji_names.json")
FORMAT = "emolite-emoji-names"


class EmojiNames:
    """A loaded emoji table; `apply(text)` replaces every emoji by its name."""

    def __init__(self, names: dict[str, str]):
        self.names = names
        self._longest = max((len(k) for k in names), default=0)
        # Candidate positions are found by one character class of every key's first character, then the
        # longest key there is looked up (a regex alternation of ~5,000 keys was 50x slower).
        firsts = sorted({k[0] for k in names})
        self._starts = re.compile("[" + "".join(re.escape(c) for c in firsts) + "]") if firsts else None

    @classmethod
    def from_file(cls, path: Path) -> EmojiNames:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleIntegrityError(f"{path} is not a readable emoji table ({exc})") from exc
        names = data.get("names") if isinstance(data, dict) and data.get("format") == FORMAT else None
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and k and not k.isascii() and isinstance(v, str) and v.strip() for k, v in names.items()
        ):
            raise BundleIntegrityError(f"{path} is not an emoji table of format {FORMAT}")
        return cls(names)

    def apply(self, text: str) -> str:
        if text.isascii() or self._starts is None:  # the common case costs one scan
            return text
        out, done = [], 0
        for match in self._starts.finditer(text):
            start = match.start()
            if start < done:  # inside a sequence already replaced
                continue
            for length in range(min(self._longest, len(text) - start), 0, -1):
                name = self.names.get(text[start : start + length])
                if name is not None:
                    out += [text[done:start], " ", name, " "]
                    done = start + length
                    break
        return "".join(out) + text[done:] if out else text


@lru_cache(maxsize=1)
def default_names() -> EmojiNames:
    """The package's table (what training and the export use)."""
    return EmojiNames.from_file(TABLE_FILE)


def build_table() -> dict:
    """The table from the `emoji` package (a development dependency): every non-ASCII key, CLDR name."""
    import emoji

    names = {}
    for key, data in emoji.EMOJI_DATA.items():
        if key.isascii():
            continue
        names[key] = data["en"].strip(":").replace("_", " ").strip()
    return {"format": FORMAT, "source": f"emoji {emoji.__version__} (CLDR short names)", "names": dict(sorted(names.items()))}


if __name__ == "__main__":  # python -m emolite.emoji > sdk/emoji_names.json
    print(json.dumps(build_table(), ensure_ascii=False, indent=0))
