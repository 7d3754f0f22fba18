"""Place names in a question → Medicare payment localities (names and states from the GPCI data)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from generator.premium.payment import Locality

STATES = {
    "AL": "alabama",
    "AK": "alaska",
    "AZ": "arizona",
    "AR": "arkansas",
    "CA": "california",
    "CO": "colorado",
    "CT": "connecticut",
    "DE": "delaware",
    "DC": "district of columbia",
    "FL": "florida",
    "GA": "georgia",
    "HI": "hawaii",
    "ID": "idaho",
    "IL": "illinois",
    "IN": "indiana",
    "IA": "iowa",
    "KS": "kansas",
    "KY": "kentucky",
    "LA": "louisiana",
    "ME": "maine",
    "MD": "maryland",
    "MA": "massachusetts",
    "MI": "michigan",
    "MN": "minnesota",
    "MS": "mississippi",
    "MO": "missouri",
    "MT": "montana",
    "NE": "nebraska",
    "NV": "nevada",
    "NH": "new hampshire",
    "NJ": "new jersey",
    "NM": "new mexico",
    "NY": "new york",
    "NC": "north carolina",
    "ND": "north dakota",
    "OH": "ohio",
    "OK": "oklahoma",
    "OR": "oregon",
    "PA": "pennsylvania",
    "RI": "rhode island",
    "SC": "south carolina",
    "SD": "south dakota",
    "TN": "tennessee",
    "TX": "texas",
    "UT": "utah",
    "VT": "vermont",
    "VA": "virginia",
    "WA": "washington",
    "WV": "west virginia",
    "WI": "wisconsin",
    "WY": "wyoming",
    "PR": "puerto rico",
    "VI": "virgin islands",
    "GU": "guam",
    "AS": "american samoa",
    "MP": "northern mariana islands",
}
# Abbreviations that are also English words are only taken in upper case ("IN", "OR", "ME").
_WORDY = {
    "IN",
    "OR",
    "ME",
    "OH",
    "OK",
    "HI",
    "PA",
    "MA",
    "LA",
    "DE",
    "CO",
    "AS",
    "ID",
    "MO",
    "AL",
    "GA",
    "MD",
    "VA",
    "WA",
    "SC",
    "NE",
    "MS",
    "MT",
    "UT",
    "VT",
    "NC",
    "NH",
    "NJ",
    "NM",
    "CT",
    "DC",
    "FL",
    "IA",
    "IL",
    "KS",
    "KY",
    "MI",
    "MN",
    "ND",
    "NV",
    "PR",
    "RI",
    "SD",
    "TN",
    "TX",
    "VI",
    "WI",
    "WV",
    "WY",
    "AR",
    "AZ",
    "AK",
    "CA",
    "GU",
    "MP",
    "NY",
}
_DROP = {
    "rest",
    "of",
    "metropolitan",
    "cnty",
    "cntys",
    "surr",
    "suburbs",
    "suburban",
    "n",
    "the",
    "and",
    "nyc",
}
_ALIASES = {
    "new york city": "manhattan",
    "nyc": "manhattan",
    "washington dc": "dc",
    "washington d.c.": "dc",
    "la": "los angeles",
    "sf": "san francisco",
    "philly": "philadelphia",
    "st louis": "st. louis",
    "saint louis": "st. louis",
    "kc": "kansas city",
}


def _phrases(loc: Locality) -> list[str]:
    """The names a locality answers to: its whole name and each place inside it
    ('LOS ANGELES-LONG BEACH-ANAHEIM
    (LOS ANGELES/ORANGE CNTY)' -> 'los angeles', 'long beach', 'anaheim', 'orange')."""
    name = loc.name.lower()
    out = [re.sub(r"\s+", " ", re.sub(r"[()]", " ", name)).strip()]
    for part in re.split(r"[-/(),+]", name):
        words = [w for w in re.findall(r"[a-z.]+", part) if w not in _DROP]
        if words and not part.strip().startswith("rest of"):
            out.append(" ".join(words))
    return [p for p in dict.fromkeys(out) if len(p) > 2]


def find_places(text: str, localities: Sequence[Locality]) -> tuple[list[Locality], str]:
    """(the localities a question names, what it named); a named state with several localities
    gives them all."""
    low = " " + re.sub(r"[^a-z0-9. ]+", " ", text.lower()) + " "
    for alias, real in _ALIASES.items():
        low = re.sub(rf"(?<=\s){re.escape(alias)}(?=\s)", real, low)
    best: tuple[int, list[Locality], str] = (0, [], "")
    for loc in localities:
        for phrase in _phrases(loc):
            if f" {phrase} " in low and len(phrase) > best[0]:
                best = (len(phrase), [loc], phrase)
            elif f" {phrase} " in low and len(phrase) == best[0] and loc not in best[1]:
                best[1].append(loc)
    state_hit: tuple[int, str] = (0, "")
    for abbr, name in STATES.items():
        if f" {name} " in low and len(name) > state_hit[0]:
            state_hit = (len(name), abbr)
        elif abbr not in _WORDY and f" {abbr.lower()} " in low and state_hit[0] == 0:
            state_hit = (2, abbr)
    for m in re.finditer(r"\b([A-Z]{2})\b", text):  # upper-case state abbreviations ("in NY")
        if m[1] in STATES and state_hit[0] == 0:
            state_hit = (2, m[1])
    if best[1] and best[0] >= state_hit[0]:
        return best[1], best[2]
    if state_hit[1]:
        abbr = state_hit[1]
        in_state = [loc for loc in localities if loc.state == abbr]
        if in_state:
            return in_state, STATES[abbr].title()
    return [], ""
