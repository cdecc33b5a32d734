"""Author–year labels in the bibliography, to match the author–year citations in the text.

The chapters cite with ``bibtex_reference_style: author_year`` ("Bartlett et al. (2020)"),
but pybtex's ``plain`` style labels the bibliography [1], [2], ...: a reader cannot find
"Bartlett et al. 2020" in a numbered list. The ``authoryear`` style registered here is
``plain`` (same sorting and formatting) with labels "Bartlett et al., 2020"; two works
with the same label get "2018a", "2018b" in the sorted order.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    parts = person.rich_prelast_names + person.rich_last_names  # LaTeX accents decoded
    return " ".join(part.render_as("text") for part in parts)


def author_year(entry) -> str:
    """'Vapnik, 1995', 'Belkin and Xu, 2020', 'Zhang et al., 2017' (editors if no author)."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        return f"{entry.fields.get('title', entry.key)[:30]}, {year}"
    if len(people) == 1:
        names = _surname(people[0])
    elif len(people) == 2:
        names = f"{_surname(people[0])} and {_surname(people[1])}"
    else:
        names = f"{_surname(people[0])} et al."
    return f"{names}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
