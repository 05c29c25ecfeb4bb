"""nbval in this project (``make test-notebooks``): its items are named "code cell N", the
number a build's error line gives (the N-th code cell, from 1); the key-figure cells
(``# NBVAL_CHECK_OUTPUT``) are compared with the tolerance of :mod:`barometer.nbcheck`;
a difference is shown as expected/got lines, without colour codes."""

import types


def _tolerant_compare(item, original):
    from barometer import nbcheck

    def compare(self, test, ref, skip_compare=None):
        if original(test, ref, skip_compare):
            return True
        texts = [["".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream"] for outs in (ref, test)]
        if texts[0] and len(texts[0]) == len(texts[1]) and len(ref) == len(test) == len(texts[0]) \
                and all(map(nbcheck.same_key_figures, *texts)):
            self.comparison_traceback = []
            return True  # the same key figures, within the tolerance
        if texts[0] or texts[1]:
            self.comparison_traceback = ["key figures differ (expected = saved in the notebook, got = computed now):",
                                         nbcheck.readable_diff("\n".join(texts[0]), "\n".join(texts[1]))]
        return False

    return types.MethodType(compare, item)


def pytest_collection_modifyitems(session, config, items):
    try:
        from nbval.plugin import IPyNbCell, nocolors
    except ImportError:
        return
    from barometer import nbcheck

    for item in items:
        if not isinstance(item, IPyNbCell):
            continue
        cells = item.parent.nb.cells
        index = next(i for i, c in enumerate(cells) if c is item.cell)
        item.cell_num = nbcheck.code_cell_number(cells, index)
        item.name = f"code cell {item.cell_num}"
        if hasattr(item, "_id"):  # pytest >= 9: a structured node id
            item._id = item.parent._id.child(item.name)
        else:
            item._nodeid = f"{item.parent.nodeid}::{item.name}"
        item.colors = nocolors
        item.compare_outputs = _tolerant_compare(item, item.compare_outputs)
        repr_failure = item.repr_failure
        item.repr_failure = lambda excinfo, _r=repr_failure: nbcheck.plain(str(_r(excinfo)))
