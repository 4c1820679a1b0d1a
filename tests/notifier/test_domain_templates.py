"""Templates: Chinese text with the case number, sandboxed, escaped for e-mail."""

from __future__ import annotations

import pytest

from notifier.domain import Rendered, TemplateError, Templates
from tests.notifier.rig import CID, pack_policy

INJECTIONS = [
    "{{ 7*7 }}",
    "{% for x in range(3) %}X{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ config }}{{ self }}",
    "{% raw %}{{ 1 }}{% endraw %}",
]


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_template_code_in_values_is_printed_never_run(hostile: str) -> None:
    templates = pack_policy().templates
    rendered = templates.render(
        "customer_extended", {"case": CID, "reason": hostile, "clock_label": "处理结果答复"}
    )
    assert hostile in rendered.body
    assert "49" not in rendered.body
    assert "XXX" not in rendered.body
    assert "subclasses" not in rendered.body.replace(hostile, "")


def test_email_html_escapes_values_but_the_text_part_keeps_them() -> None:
    templates = pack_policy().templates
    value = '<script>alert("x")</script>&'
    rendered = templates.render("customer_result", {"case": CID, "result": value})
    assert value in rendered.body
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in rendered.html


def test_subject_is_one_line_whatever_the_values() -> None:
    templates = Templates({"t": {"subject": "案件 {{ case }}", "body": "x"}})
    rendered = templates.render("t", {"case": "A\r\nBcc: evil@example.com"})
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_an_own_html_template_is_used_for_email() -> None:
    templates = Templates({"t": {"body": "{{ v }}", "html": "<b>{{ v }}</b>"}})
    assert templates.render("t", {"v": "<i>"}).html == "<b>&lt;i&gt;</b>"


def test_unknown_and_broken_templates_are_errors() -> None:
    with pytest.raises(TemplateError):
        Templates({"t": {"body": "{% for %}"}})
    with pytest.raises(TemplateError):
        Templates({"t": {"subject": "no body"}})
    with pytest.raises(TemplateError):
        Templates({}).render("missing", {})


@pytest.mark.parametrize("pack", ["telecom", "property"])
def test_every_pack_template_renders_chinese_with_the_case_number(pack: str) -> None:
    policy = pack_policy(pack)
    context = {
        "case": CID,
        "promised": "2026-11-27 18:00",
        "due": "2026-11-24 10:30",
        "severity": "P2",
        "severity_label": "紧急",
        "clock_label": "处理结果答复",
        "threshold": "80",
        "count": "3",
    }
    items = [context, context]
    for name in sorted(policy.template_names()):
        rendered = policy.templates.render(name, context, items)
        assert "{{" not in rendered.body
        assert "{%" not in rendered.body
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rendered.body), name
        if name.endswith(("digest", "merged")):
            assert rendered.body.count(CID) == 2
        else:
            assert CID in rendered.body, name


@pytest.mark.parametrize("pack", ["telecom", "property"])
def test_plain_templates_render_exactly_as_jinja_does(pack: str) -> None:
    """The pack's plain templates skip Jinja2's context; the text must be the same to the byte,
    with values set, empty or missing (tests of `{% if %}` both ways)."""
    templates = pack_policy(pack).templates
    compiled = templates._compiled
    planned = {(n, p) for n, c in compiled.items() for p in c.plans}
    assert len(planned) >= 30, "most pack templates are plain"
    full = {
        "case": CID,
        "reason": "原因<b>",
        "result": "{{ 7*7 }}",
        "severity_label": "紧急",
        "category": "网络",
        "department": "",
        "note": "\n多行\n",
    }
    for context in (full, {"case": CID}, dict.fromkeys(full, "")):
        values: dict[str, object] = {**context, "items": []}
        for name, part in sorted(planned):
            jinja = getattr(compiled[name], part).render(values)
            assert compiled[name].plans[part](context) == jinja, (name, part, context)


def test_a_template_that_filters_or_loops_has_no_plain_plan() -> None:
    templates = Templates(
        {
            "f": {"body": "{{ v | upper }}"},
            "l": {"body": "{% for i in items %}{{ i.case }}{% endfor %}"},
            "n": {"body": "{{ items }}"},
            "p": {"subject": "{{ v }}", "body": "{% if v %}有{{ v }}{% else %}无{% endif %}"},
        }
    )
    plans = {name: set(c.plans) for name, c in templates._compiled.items()}
    assert plans == {"f": {"subject"}, "l": {"subject"}, "n": {"subject"}, "p": {"subject", "body"}}
    assert templates.render("f", {"v": "ab"}).body == "AB"
    assert templates.render("p", {"v": ""}).body == "无"
    assert templates.render("p", {"v": "x"}, html=False) == Rendered("x", "有x", "")
