"""Message templates, rendered in a sandbox: complaint text can never inject template code.

Template source comes only from the policy pack. Everything about a case (its number, times, and
any text that came from a customer or a staff system) is passed as *values*, which Jinja2 prints
and never evaluates. E-mail bodies are rendered a second time with HTML autoescaping, so a value
holding markup arrives as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Template
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

Context = Mapping[str, str]


class TemplateError(Exception):
    """A template is missing, does not compile or cannot be rendered."""


@dataclass(frozen=True)
class Rendered:
    """A rendered message: one-line subject, plain-text body, HTML body for e-mail."""

    subject: str
    body: str
    html: str


@dataclass(frozen=True)
class _Compiled:
    subject: Template
    body: Template
    html: Template
    html_given: bool


class Templates:
    """Compiled templates by id; values are substituted, never evaluated."""

    def __init__(self, sources: Mapping[str, Mapping[str, str]]) -> None:
        self._text = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
        self._html = SandboxedEnvironment(autoescape=True, keep_trailing_newline=False)
        try:
            self._compiled = {name: self._compile(src) for name, src in sources.items()}
        except (JinjaError, KeyError, TypeError) as exc:
            raise TemplateError(f"template does not compile: {exc}") from exc

    def _compile(self, src: Mapping[str, str]) -> _Compiled:
        return _Compiled(
            subject=self._text.from_string(src.get("subject", "")),
            body=self._text.from_string(src["body"]),
            html=self._html.from_string(src.get("html", src["body"])),
            html_given="html" in src,
        )

    def render(self, name: str, context: Context, items: Sequence[Context] = ()) -> Rendered:
        """Render template `name` with plain string values (and `items`, for digests)."""
        compiled = self._compiled.get(name)
        if compiled is None:
            raise TemplateError(f"no template named {name!r}")
        values: dict[str, object] = {k: str(v) for k, v in context.items()}
        values["items"] = [{k: str(v) for k, v in item.items()} for item in items]
        try:
            subject = " ".join(compiled.subject.render(values).split())
            body = compiled.body.render(values)
            html = compiled.html.render(values)
        except JinjaError as exc:
            raise TemplateError(f"template {name!r} failed to render: {exc}") from exc
        if not compiled.html_given:
            html = "<p>" + html.replace("\n", "<br>\n") + "</p>"
        return Rendered(subject, body, html)

    def __contains__(self, name: object) -> bool:
        return name in self._compiled
