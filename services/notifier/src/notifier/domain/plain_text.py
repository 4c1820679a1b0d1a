"""Plain text templates (literal text, `{{ name }}`, `{% if name %}…{% else %}…{% endif %}`)
rendered without Jinja2's per-call context: most pack templates are only that.

A template with anything else (a filter, a loop, an attribute, a comparison) gets no plan and
is rendered by Jinja2 as before. Values are plain strings: a missing one prints as nothing and
tests false, as Jinja2's default `Undefined` does; nothing in a value is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jinja2 import nodes

Part = Callable[[Mapping[str, str], list[str]], None]
Renderer = Callable[[Mapping[str, str]], str]


def plan(tree: nodes.Template, *, not_text: frozenset[str]) -> Renderer | None:
    """A renderer for `tree` (parsed by the environment that would render it), or None when
    the template does more than print and test plain names, or names one of `not_text`."""
    names = {n.name for n in tree.find_all(nodes.Name)}
    parts = None if names & not_text else _parts(tree.body)
    if parts is None:
        return None

    def render(values: Mapping[str, str]) -> str:
        out: list[str] = []
        for part in parts:
            part(values, out)
        return "".join(out)

    return render


def _parts(body: Sequence[nodes.Node]) -> list[Part] | None:
    parts: list[Part] = []
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                part = _printed(child)
                if part is None:
                    return None
                parts.append(part)
        elif isinstance(node, nodes.If):
            part = _branch(node)
            if part is None:
                return None
            parts.append(part)
        else:
            return None
    return parts


def _printed(node: nodes.Node) -> Part | None:
    if isinstance(node, nodes.TemplateData):
        text = node.data

        def literal(_: Mapping[str, str], out: list[str]) -> None:
            out.append(text)

        return literal
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name

        def value(values: Mapping[str, str], out: list[str]) -> None:
            out.append(values.get(name, ""))

        return value
    return None


def _branch(node: nodes.If) -> Part | None:
    if node.elif_ or not isinstance(node.test, nodes.Name):
        return None
    name = node.test.name
    then, otherwise = _parts(node.body), _parts(node.else_)
    if then is None or otherwise is None:
        return None
    yes, no = then, otherwise

    def branch(values: Mapping[str, str], out: list[str]) -> None:
        for part in yes if values.get(name) else no:
            part(values, out)

    return branch
