"""Prints, as a JSON list, every ASCII drawing `dvc dag ARGS` can make of the
repository in the current directory.

grandalf (the layout library `dvc dag` uses) keeps a pipeline's edges in a
Python `set` of edge objects, whose order follows memory addresses. When two
long edges cross the same layer, that order decides the drawing, so DVC can
print different pictures of the same pipeline from run to run. This script
runs DVC's own code with that set iterated in many seeded random orders and
collects the distinct results.

Run with the Python of the DVC 3.67.1 venv: python dag_drawings.py [--outs] [--full] [TARGET]
"""

import json
import random
import sys

import grandalf.graphs
from dvc.commands.dag import _build, _show_ascii
from dvc.repo import Repo

RNG = random.Random(3671)


class ShuffledSet:
    """The part of `set` grandalf's graph classes use, iterated in a random
    order."""

    def __init__(self, items=()):
        self._d = dict.fromkeys(items)

    def add(self, x):
        self._d[x] = None

    def update(self, items):
        for x in items:
            self._d[x] = None

    def remove(self, x):
        del self._d[x]

    def __contains__(self, x):
        return x in self._d

    def __iter__(self):
        items = list(self._d)
        RNG.shuffle(items)
        return iter(items)

    def __len__(self):
        return len(self._d)


def main(args):
    targets = [a for a in args if not a.startswith("--")]
    repo = Repo(".")
    graph = _build(
        repo,
        target=targets[0] if targets else None,
        full="--full" in args,
        outs="--outs" in args,
    )
    grandalf.graphs.set = ShuffledSet
    drawings = []
    for _ in range(200):
        drawing = _show_ascii(graph)
        if drawing not in drawings:
            drawings.append(drawing)
    print(json.dumps(drawings))


if __name__ == "__main__":
    main(sys.argv[1:])
