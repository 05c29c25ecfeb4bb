"""The Innovation Barometer report system.

Survey microdata (synthetic or real) go in; a weighted, design-based,
illustrated report comes out.  Modules, bottom to top:

- ``codebook``   variables, labels, questions and universes per edition
- ``synth``      the documented model that generates the synthetic sample
- ``weighting``  frame + respondents -> weights (and calibration for Norway)
- ``survey``     design-based estimation (Taylor linearisation, R ``survey`` parity)
- ``estimates``  measure and figure specifications -> tidy estimates table
- ``charts``     Vega-Lite chart builders (plain dicts) and the theme
- ``content``    cases, quotes, tools, expert advice (schema-checked files)
- ``build``      papermill + nbconvert + WeasyPrint: the website and the PDF
"""

__version__ = "0.1.0"

import sys as _sys

# jsonschema imports its optional IRI format checker, rfc3987_syntax, which
# compiles a grammar for about 3 s at import time, in every notebook kernel
# of a build.  None of our schemas uses the "iri" formats, so the module is
# marked absent (jsonschema then skips those formats) unless it was imported
# already.
_sys.modules.setdefault("rfc3987_syntax", None)
