"""The one Jinja environment of the project: the site and PDF pages the build
renders and the blocks a chapter notebook shows (figures, data tables, key
figures, content boxes), all from ``report_templates/``.

Autoescape is on for every template: every value is escaped unless it is
already markup (:class:`markupsafe.Markup`: an SVG, a rendered block,
Markdown rendered with raw HTML off).
"""

from __future__ import annotations

import functools
import html

from .paths import TEMPLATE_DIR

#: the templates of what a chapter notebook shows (a warm worker compiles them before it forks)
BLOCKS = tuple(f"blocks/{n}.html.j2" for n in ("figure", "data_table", "report_table", "key_figures", "unit_figure",
                                                "text", "content_item", "content_card", "content_group", "factbox",
                                                "content_page", "harmonisation"))


def _finalize(context, value):
    """Blocks (``blocks/``) spell escaped quotes as :func:`html.escape` does
    (``&quot;``, ``&#x27;``), pages (``site/``, ``pdf/``) as markupsafe does
    (``&#34;``, ``&#39;``): what each has always published.  Both escape the
    same five characters; markup passes unchanged."""
    if hasattr(value, "__html__") or not (context.name or "").startswith("blocks/"):
        return value  # autoescape escapes it (markupsafe)
    from markupsafe import Markup

    return Markup(html.escape(str(value), quote=True))


@functools.cache
def environment():
    """The shared environment (one per process; templates are compiled once
    and reloaded when their file changes)."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"),
                                                                  default_for_string=True),
                              finalize=jinja2.pass_context(_finalize))


def render(name: str, **context) -> str:
    """``report_templates/<name>`` rendered with ``context`` (a plain string)."""
    return str(environment().get_template(name).render(**context))


def macro(template: str, name: str):
    """A macro of a template, to call from Python (returns markup)."""
    return getattr(environment().get_template(template).module, name)
