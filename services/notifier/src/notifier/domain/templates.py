"""Message templates, rendered in a sandbox: complaint text can never inject template code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2.sandbox import SandboxedEnvironment


class TemplateError(Exception):
    """A template is missing or does not compile."""


@dataclass(frozen=True)
class Rendered:
    """A rendered message."""

    subject: str
    body: str


class Templates:
    """Compiled templates by id; values are substituted, never evaluated."""

    def __init__(self, sources: Mapping[str, Mapping[str, str]]) -> None:
        self._env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
        try:
            self._compiled = {
                name: (
                    self._env.from_string(src.get("subject", "")),
                    self._env.from_string(src["body"]),
                )
                for name, src in sources.items()
            }
        except Exception as exc:
            raise TemplateError(f"template does not compile: {exc}") from exc

    def render(self, name: str, context: Mapping[str, str]) -> Rendered:
        """Render template `name` with plain string values."""
        if name not in self._compiled:
            raise TemplateError(f"no template named {name!r}")
        subject, body = self._compiled[name]
        safe = {k: str(v) for k, v in context.items()}
        return Rendered(subject.render(safe), body.render(safe))

    def __contains__(self, name: object) -> bool:
        return name in self._compiled
