"""Hide gated solutions completely in the student edition (``hide_solutions: true``).

A gated solution is written ``{solution-start} ex-label`` ... ``{solution-end}`` so that
its code cells are real notebook cells, executed (and so tested) with the chapter.
sphinx-exercise 1.2.1 handles ``hide_solutions`` only inside the ``solution-start``
directive, which then returns nothing: the cells and text up to ``solution-end`` stay on
the page, and the orphaned ``solution_end_node`` makes the HTML writer fail
(``NotImplementedError: ... departing unknown node type: solution_end_node``).

This extension leaves a marker where a hidden ``solution-start`` stood and, before
sphinx-exercise merges gated solutions, removes everything from the marker through the
matching ``solution-end``. With ``hide_solutions: false`` it changes nothing.
"""

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution_marker(nodes.Element):
    """Where a ``solution-start`` stood in an edition that hides solutions."""


class SolutionStart(SolutionStartDirective):
    """sphinx-exercise's ``solution-start``, leaving a marker when solutions are hidden."""

    def run(self):
        out = super().run()  # registers the start, so the gate check still pairs it
        if self.env.app.config.hide_solutions:
            return [hidden_solution_marker(label=self.arguments[0])]
        return out


class RemoveHiddenGatedSolutions(SphinxTransform):
    """Delete marker .. solution-end (inclusive) when solutions are hidden."""

    default_priority = 9  # after the gate check (1), before MergeGatedSolutions (10)

    def apply(self, **kwargs) -> None:
        if not self.config.hide_solutions:
            return
        for marker in list(self.document.findall(hidden_solution_marker)):
            parent = marker.parent
            start = parent.index(marker)
            ends = [i for i, child in enumerate(parent.children)
                    if i > start and isinstance(child, solution_end_node)]
            if not ends:
                raise ExtensionError(
                    f"solution-start {marker['label']}: no solution-end at the same level")
            del parent.children[start:ends[0] + 1]


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_marker)
    app.add_directive("solution-start", SolutionStart, override=True)
    app.add_transform(RemoveHiddenGatedSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
