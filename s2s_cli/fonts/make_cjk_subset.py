"""The characters kept in DroidSansFallback-CJK-subset.ttf (see README.md); not imported by s2s.

Writes them to /tmp/cjk.txt (or the path given) for `pyftsubset --text-file`."""

from __future__ import annotations

import sys


def characters() -> set[str]:
    chars: set[str] = set()

    def add_codec(codec: str, high: range, low: range) -> None:
        for hi in high:
            for lo in low:
                try:
                    ch = bytes([hi, lo]).decode(codec)
                except UnicodeDecodeError:
                    continue
                if len(ch) == 1:
                    chars.add(ch)

    add_codec("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF))  # every hanzi (levels 1 and 2)
    add_codec("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF))  # KS X 1001 Hangul syllables
    add_codec("euc_jp", range(0xB0, 0xD0), range(0xA1, 0xFF))  # JIS X 0208 level-1 kanji
    for first, last in ((0x3000, 0x303F), (0x3040, 0x30FF), (0xFF00, 0xFFEF), (0x31F0, 0x31FF)):
        chars.update(chr(c) for c in range(first, last + 1))  # punctuation, kana, full width
    return chars


if __name__ == "__main__":
    kept = characters()
    target = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cjk.txt"
    with open(target, "w", encoding="utf-8") as fh:
        fh.write("".join(sorted(kept)))
    print(f"{len(kept)} characters -> {target}", file=sys.stderr)
