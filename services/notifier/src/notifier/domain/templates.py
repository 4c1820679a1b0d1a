"""Message templates, rendered in a sandbox: complaint text can never inject template code.

Template source comes only from the policy pack. Everything about a case (its number, times, and
any text that came from a customer or a staff system) is passed as *values*, which Jinja2 prints
and never evaluates. E-mail bodies are rendered a second time with HTML autoescaping, so a value
holding markup arrives as text.

The pack's own source is checked when it loads: a template may print values (`{{ case }}`,
`{{ item.due }}`), test them (`{% if reason %}`), loop over `items` and apply a few plain filters,
and nothing else: no calls, no arithmetic, no `_` attributes, no `safe`, no globals such as
`range` or `lipsum`. A pack that tries more fails at start, naming the template and field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Template, nodes
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from notifier.domain.plain_text import Renderer, plan

Context = Mapping[str, str]
FIELDS = ("subject", "body", "html")

# What a template may contain: printing, tests, conditionals, loops, plain literals.
_PLAIN_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.If,
    nodes.For,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
    nodes.Filter,
    nodes.Test,
)
SAFE_FILTERS = frozenset(
    {
        "default",
        "d",
        "e",
        "escape",
        "lower",
        "upper",
        "title",
        "capitalize",
        "trim",
        "length",
        "count",
        "first",
        "last",
        "join",
        "replace",
        "truncate",
        "string",
    }
)
"""Filters that only transform text (not `safe`, which would let markup from a value through)."""
_NOT_TEXT = frozenset({"items"})
"""Values that are not plain text (a digest's list): a template naming one goes to Jinja2."""


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
    plans: dict[str, Renderer] = dataclasses.field(default_factory=dict)
    """Subject and body renderers for plain templates (most): same text, no Jinja2 context."""


class Templates:
    """Compiled templates by id; values are substituted, never evaluated."""

    def __init__(self, sources: Mapping[str, Mapping[str, str]]) -> None:
        self._text = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
        self._html = SandboxedEnvironment(autoescape=True, keep_trailing_newline=False)
        self._compiled = {str(name): self._compile(str(name), src) for name, src in sources.items()}

    def _compile(self, name: str, src: object) -> _Compiled:
        if not isinstance(src, Mapping) or not isinstance(src.get("body"), str):
            raise TemplateError(f"templates.{name}: needs a `body` text")
        texts: dict[str, str] = {"subject": "", "html": src["body"]}
        for field in FIELDS:
            value = src.get(field, texts.get(field))
            if not isinstance(value, str):
                raise TemplateError(f"templates.{name}.{field}: expected text")
            self._check(value, f"templates.{name}.{field}")
            texts[field] = value
        plans = {
            part: found
            for part in ("subject", "body")
            if (found := plan(self._text.parse(texts[part]), not_text=_NOT_TEXT)) is not None
        }
        return _Compiled(
            subject=self._text.from_string(texts["subject"]),
            body=self._text.from_string(texts["body"]),
            html=self._html.from_string(texts["html"]),
            html_given="html" in src,
            plans=plans,
        )

    def _check(self, source: str, where: str) -> None:
        """Refuse template source that does more than print and test values."""
        try:
            tree = self._text.parse(source)
        except JinjaError as exc:
            raise TemplateError(f"{where}: does not compile: {exc}") from exc
        for node in [tree, *tree.find_all(nodes.Node)]:
            problem = self._problem(node)
            if problem is not None:
                raise TemplateError(f"{where}: {problem} is not allowed in a template")

    def _problem(self, node: nodes.Node) -> str | None:
        if not isinstance(node, _PLAIN_NODES):
            return f"`{type(node).__name__}`"
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            return f"attribute {node.attr!r}"
        if isinstance(node, nodes.Getitem) and not (
            isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and not node.arg.value.startswith("_")
        ):
            return "an index other than a plain name"
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            return f"filter {node.name!r}"
        if isinstance(node, nodes.Name) and node.name in self._text.globals:
            return f"global {node.name!r}"
        return None

    def render(
        self, name: str, context: Context, items: Sequence[Context] = (), *, html: bool = True
    ) -> Rendered:
        """Render template `name` with plain string values (and `items`, for digests); the
        HTML part only when `html` (only e-mail sends one: it is empty otherwise)."""
        compiled = self._compiled.get(name)
        if compiled is None:
            raise TemplateError(f"no template named {name!r}")
        text = {k: str(v) for k, v in context.items()}
        values: dict[str, object] = {
            **text,
            "items": [{k: str(v) for k, v in i.items()} for i in items],
        }
        plans = compiled.plans
        try:
            subject_plan, body_plan = plans.get("subject"), plans.get("body")
            subject = subject_plan(text) if subject_plan else compiled.subject.render(values)
            body = body_plan(text) if body_plan else compiled.body.render(values)
            page = compiled.html.render(values) if html else ""
        except JinjaError as exc:
            raise TemplateError(f"template {name!r} failed to render: {exc}") from exc
        if html and not compiled.html_given:
            page = "<p>" + page.replace("\n", "<br>\n") + "</p>"
        return Rendered(" ".join(subject.split()), body, page)

    def __contains__(self, name: object) -> bool:
        return name in self._compiled
