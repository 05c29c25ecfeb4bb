"""What a chapter notebook imports: ``from barometer.report import Chapter``.

A facade over the modules that do the work, one job each:

- :mod:`barometer.params`        the parameters every notebook takes, and their checks
- :mod:`barometer.reportconfig`  questions to an edition's report configuration
- :mod:`barometer.display`       showing markup, the display guard's list, used files
- :mod:`barometer.chapter`       the chapter API (:class:`Chapter`)
- :mod:`barometer.figures`       figures, tables, key figures and their files
- :mod:`barometer.rowformat`     how an estimates row reads (``..`` when suppressed)
- :mod:`barometer.unitreport`    unit reports (:class:`UnitReport`)

Code that replaces a function for a test or a kernel must replace it where it
lives (e.g. ``barometer.display.show_html``), not here.
"""

from __future__ import annotations

from .chapter import XREF, Chapter
from .display import record_use as _record_use
from .display import sensitive_names as _sensitive_names
from .display import show_html as _display_html
from .params import (COUNTRIES, EXTRA_PARAMETERS, PARAMETERS, ParameterError, check_declared, editions,
                     validate_parameters)
from .reportconfig import (chapters_for, figure_anchor, figure_numbers, figures_for, population_text,
                           report_config)
from .unitreport import UnitReport

__all__ = ["COUNTRIES", "EXTRA_PARAMETERS", "PARAMETERS", "XREF", "Chapter", "ParameterError", "UnitReport",
           "chapters_for", "check_declared", "editions", "figure_anchor", "figure_numbers", "figures_for",
           "population_text", "report_config", "validate_parameters", "_display_html", "_record_use",
           "_sensitive_names"]
