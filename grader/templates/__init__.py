"""The grader's Jinja templates, and the one environment that renders them.

Two audiences read what these templates make: students and TAs (``feedback.*``,
``summary.html``, written by :mod:`grader.reports`) and whoever installs a
release (``release_*``: handouts, Gradescope scripts, written by
:mod:`grader.release.bundles`; they never ship to students).

Rules of the environment:

* HTML templates (``*.html.j2``) are autoescaped, the others are not: a
  Markdown or shell file is written as rendered;
* a block tag alone on its line leaves no line behind (``trim_blocks``,
  ``lstrip_blocks``); write ``+%}`` where the newline after a tag must stay;
* a name the context lacks is an error, not an empty string
  (``StrictUndefined``): test with ``.get`` what may be missing;
* filters: ``points`` (``3.0`` → ``3``, ``2/3`` → ``0.67``:
  :func:`grader.reports.numbers.format_points`), ``md_cell`` (text safe in
  one Markdown table cell).
"""

from __future__ import annotations

import functools

__all__ = ["environment", "render"]


@functools.cache
def environment():
    """The ``jinja2.Environment`` over this folder (made once, on first use:
    importing :mod:`grader` must not need jinja2)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
    )
    env.filters["md_cell"] = lambda s: str(s).replace("|", "\\|").replace("\n", "<br>")
    from grader.reports.numbers import format_points

    env.filters["points"] = format_points
    return env


def render(template: str, /, **context) -> str:
    """The template named ``template`` (e.g. ``"feedback.md.j2"``) rendered
    with ``context`` (positional-only: a context may hold ``template``)."""
    return environment().get_template(template).render(**context)
