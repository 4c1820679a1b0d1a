"""Reading and validating `pack.yaml` and `classifier.yaml` into a `ClassifierPolicy`."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from classifier.domain.decision import IMPORTANT_TIERS, HistoryWindows
from classifier.domain.normalise import normalise, normalise_pattern
from classifier.domain.numerals import COUNT_PATTERN
from classifier.domain.policy import (
    Category,
    ClassifierPolicy,
    CountLevel,
    HistoryPolicy,
    PolicyError,
    Rule,
    Subcategory,
)
from classifier.domain.policy_reader import PackReader
from classifier.domain.scopes import Reach, Scope
from contracts import Channel, CustomerTier, FlagName, Kind, Severity

E = TypeVar("E", bound=StrEnum)
_MACRO = re.compile(r"\{([a-z_]+)\}")
_BUILTIN_MACROS = {"num": COUNT_PATTERN, "w": r"[^,。!?;\n]"}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def load_policy(*, policy_dir: Path, pack: str) -> ClassifierPolicy:
    """Read `policy_dir/pack/{pack,classifier}.yaml`; raise `PolicyError` on any problem."""
    folder = policy_dir / pack
    if not folder.is_dir():
        raise PolicyError(f"{folder}: policy pack {pack!r} not found under {policy_dir}")
    meta_reader = PackReader(folder / "pack.yaml")
    meta = meta_reader.load()
    name = meta_reader.text(meta, "name", "pack")
    if name != pack:
        raise meta_reader.fail("pack.name", f"is {name!r} but the folder is {pack!r}")
    reader = PackReader(folder / "classifier.yaml")
    data = reader.load()
    macros = dict(_BUILTIN_MACROS)
    for key, value in reader.mapping(data.get("macros", {}), "macros").items():
        macros[key] = normalise_pattern(reader.text({key: value}, key, "macros"))
    compile_pattern = _pattern_compiler(reader, macros)
    categories = _categories(reader, data)
    model = reader.mapping(data.get("model") or {}, "model")
    scopes = _scopes(reader, data, compile_pattern)
    rules = _rules(reader, data.get("rules", []), "rules", compile_pattern, scopes)
    known_ids = {rule.id for rule in rules}
    for rule in rules:
        for other in rule.unless_rules:
            if other not in known_ids:
                raise reader.fail(f"rules.{rule.id}.unless.rules", f"unknown rule id {other!r}")
    kind_rules = _rules(reader, data.get("kind_rules", []), "kind_rules", compile_pattern, scopes)
    for rule in kind_rules:
        if rule.kind is None:
            raise reader.fail(f"kind_rules.{rule.id}", "needs `kind`")
    fallback = reader.text(data, "fallback_category", "classifier", "other")
    if fallback not in {c.code for c in categories}:
        raise reader.fail("fallback_category", f"{fallback!r} is not a taxonomy code")
    return ClassifierPolicy(
        name=name,
        version=meta_reader.text(meta, "version", "pack"),
        description=meta_reader.text(meta, "description", "pack"),
        categories=categories,
        kind_rules=kind_rules,
        rules=rules,
        history=_history(reader, data),
        model_file=_model_file(reader, model),
        min_confidence=reader.number(model, "min_confidence", "model", 0.5),
        default_severity=reader.member(
            Severity, data.get("default_severity", "P4"), "default_severity"
        ),
        fallback_category=fallback,
    )


def _model_file(reader: PackReader, model: dict[str, Any]) -> str | None:
    """The model's file name: a plain name, looked up in the pack folder and the package."""
    if not model.get("file"):
        return None
    name = reader.text(model, "file", "model")
    if Path(name).name != name or name in {".", ".."}:
        raise reader.fail("model.file", f"{name[:60]!r} must be a file name, not a path")
    return name


def _pattern_compiler(reader: PackReader, macros: dict[str, str]) -> Any:
    """A function compiling one policy regex after normalising it and expanding `{macros}`."""

    def compile_pattern(source: str, where: str) -> re.Pattern[str]:
        expanded = normalise_pattern(source)
        for _ in range(4):  # macros may use macros; a few passes resolve any sane nesting
            expanded = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), expanded)
        try:
            return re.compile(expanded, re.IGNORECASE)
        except re.error as error:
            raise reader.fail(where, f"bad regular expression {source!r}: {error}") from error
        except (RecursionError, OverflowError) as error:
            raise reader.fail(where, f"regular expression too complex: {error}") from None

    return compile_pattern


def _categories(reader: PackReader, data: dict[str, Any]) -> tuple[Category, ...]:
    """The taxonomy: codes, names, keywords and subcategories."""
    taxonomy = reader.mapping(data.get("taxonomy"), "taxonomy")
    if not taxonomy:
        raise reader.fail("taxonomy", "needs at least one category")
    categories = []
    for code, raw in taxonomy.items():
        where = f"taxonomy.{code}"
        if not _CODE.match(code):
            raise reader.fail(where, "codes are lower_snake_case ascii")
        body = reader.mapping(raw, where)
        subs = []
        for sub_code, sub_raw in reader.mapping(body.get("subcategories", {}), where).items():
            sub_where = f"{where}.subcategories.{sub_code}"
            if not _CODE.match(sub_code):
                raise reader.fail(sub_where, "codes are lower_snake_case ascii")
            sub = reader.mapping(sub_raw, sub_where)
            keywords = tuple(normalise(k) for k in reader.strings(sub, "keywords", sub_where))
            subs.append(Subcategory(sub_code, reader.text(sub, "name", sub_where), keywords))
        keywords = tuple(normalise(k) for k in reader.strings(body, "keywords", where))
        categories.append(Category(code, reader.text(body, "name", where), keywords, tuple(subs)))
    return tuple(categories)


def _scopes(reader: PackReader, data: dict[str, Any], compile_pattern: Any) -> dict[str, Scope]:
    """The pack's named scopes: a cue regex and how far back from a match it reaches."""
    scopes = {}
    for name, raw in reader.mapping(data.get("scopes", {}), "scopes").items():
        body = reader.mapping(raw, f"scopes.{name}")
        where = f"scopes.{name}"
        after = body.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= 40:
            raise reader.fail(f"{where}.after", f"expected 0–40 characters, got {after!r}")
        scopes[name] = Scope(
            name=name,
            cues=compile_pattern(reader.text(body, "cues", where), f"{where}.cues"),
            reach=reader.member(Reach, body.get("reach", "clause"), f"{where}.reach"),
            after=after,
        )
    return scopes


def _rules(
    reader: PackReader, raw: object, where: str, compile_pattern: Any, scopes: dict[str, Scope]
) -> tuple[Rule, ...]:
    """A list of rules; ids must be unique and the scopes they name defined."""
    if not isinstance(raw, list):
        raise reader.fail(where, "expected a list of rules")
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        body = reader.mapping(item, f"{where}[{index}]")
        rule_id = reader.text(body, "id", f"{where}[{index}]")
        here = f"{where}.{rule_id}"
        if any(rule.id == rule_id for rule in rules):
            raise reader.fail(here, "duplicate rule id")
        when = reader.mapping(body.get("when", {}), f"{here}.when")
        unless = reader.mapping(body.get("unless", {}), f"{here}.unless")
        rule = Rule(
            id=rule_id,
            channels=_members(reader, Channel, when, "channels", here),
            tiers=_members(reader, CustomerTier, when, "tiers", here),
            patterns=_compiled(reader, when, "patterns", here, compile_pattern),
            requires=_compiled(reader, when, "also", here, compile_pattern),
            unless=_compiled(reader, unless, "patterns", here, compile_pattern),
            unless_rules=reader.strings(unless, "rules", f"{here}.unless"),
            unless_channels=_members(reader, Channel, unless, "channels", here),
            unless_scopes=tuple(
                _scope(reader, scopes, name, f"{here}.unless.scopes")
                for name in reader.strings(unless, "scopes", f"{here}.unless")
            ),
            severity=(
                reader.member(Severity, body["severity"], f"{here}.severity")
                if "severity" in body
                else None
            ),
            flags=tuple(
                reader.member(FlagName, f, f"{here}.flags")
                for f in reader.strings(body, "flags", here)
            ),
            count_levels=_count_levels(reader, body, here),
            kind=reader.member(Kind, body["kind"], f"{here}.kind") if "kind" in body else None,
            detail=str(body["detail"]) if "detail" in body else None,
        )
        if not (rule.channels or rule.tiers or rule.patterns):
            raise reader.fail(here, "`when` needs channels, tiers or patterns")
        if rule.count_levels and not all("count" in p.groupindex for p in rule.patterns):
            raise reader.fail(here, "count_levels need every pattern to capture (?P<count>…)")
        rules.append(rule)
    return tuple(rules)


def _scope(reader: PackReader, scopes: dict[str, Scope], name: str, where: str) -> Scope:
    """A scope the pack defines, by name."""
    if name not in scopes:
        raise reader.fail(where, f"unknown scope {name!r} (defined: {', '.join(scopes) or 'none'})")
    return scopes[name]


def _members(
    reader: PackReader, enum: type[E], data: dict[str, Any], key: str, where: str
) -> frozenset[E]:
    """A set of enum members from a list field."""
    return frozenset(
        reader.member(enum, v, f"{where}.{key}") for v in reader.strings(data, key, where)
    )


def _compiled(
    reader: PackReader, data: dict[str, Any], key: str, where: str, compile_pattern: Any
) -> tuple[re.Pattern[str], ...]:
    """A list of regexes, compiled."""
    return tuple(
        compile_pattern(p, f"{where}.{key}[{i}]")
        for i, p in enumerate(reader.strings(data, key, where))
    )


def _count_levels(reader: PackReader, body: dict[str, Any], where: str) -> tuple[CountLevel, ...]:
    """Head-count thresholds, most severe first."""
    levels = []
    raw_levels = body.get("count_levels", []) or []
    if not isinstance(raw_levels, list):
        raise reader.fail(f"{where}.count_levels", "expected a list")
    for index, raw in enumerate(raw_levels):
        level = reader.mapping(raw, f"{where}.count_levels[{index}]")
        minimum = int(reader.number(level, "min", f"{where}.count_levels[{index}]", 1))
        severity = reader.member(Severity, level.get("severity"), f"{where}.count_levels[{index}]")
        levels.append(CountLevel(minimum, severity))
    return tuple(sorted(levels, key=lambda level: -level.minimum))


def _history(reader: PackReader, data: dict[str, Any]) -> HistoryPolicy:
    """Windows of the repeat, hot-issue and mass-incident rules."""
    history = reader.mapping(data.get("history", {}), "history")
    repeat = reader.mapping(history.get("repeat", {}), "history.repeat")
    hot = reader.mapping(history.get("hot_issue", {}), "history.hot_issue")
    mass = reader.mapping(history.get("mass_incident", {}), "history.mass_incident")
    windows = HistoryWindows(
        repeat_days=int(reader.number(repeat, "days", "history.repeat", 90)),
        hot_issue_days=int(reader.number(hot, "days", "history.hot_issue", 30)),
        hot_issue_min_complainants=int(
            reader.number(hot, "min_complainants", "history.hot_issue", 3)
        ),
        mass_incident_minutes=int(reader.number(mass, "minutes", "history.mass_incident", 30)),
        mass_incident_min_complaints=int(
            reader.number(mass, "min_complaints", "history.mass_incident", 20)
        ),
        mass_incident_min_important=int(
            reader.number(mass, "min_important", "history.mass_incident", 3)
        ),
        important_tiers=_members(
            reader, CustomerTier, mass, "important_tiers", "history.mass_incident"
        )
        or IMPORTANT_TIERS,
    )
    return HistoryPolicy(
        windows=windows,
        repeat_severity=reader.member(Severity, repeat.get("severity", "P3"), "history.repeat"),
        hot_issue_severity=reader.member(Severity, hot.get("severity", "P2"), "history.hot_issue"),
        mass_incident_severity=reader.member(
            Severity, mass.get("severity", "P2"), "history.mass_incident"
        ),
    )
