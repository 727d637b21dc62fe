"""Every reason the platform gives (a refusal's `reason`, an import row's) has Chinese words on
the pages (issue 21 item 6): the reasons are collected from the code, not listed by hand, so a
new one without its words in gateway/static/common.js fails here."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
# calls whose reason is positional: (the callable's name, the argument's index)
POSITIONAL = {"RowError": 2, "OrgRowError": 1, "fail": 2, "MixError": 0}
NOT_REASONS = {"sheet_unreadable"}  # kernel.sheets.SheetError's default, worded below anyway


def _literal(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal(node.body) + _literal(node.orelse)
    return []


def reasons_in_code() -> dict[str, str]:
    """reason -> where it is first given, over services/, kernel/ and gateway/ (not the
    event documentation's examples)."""
    found = {}
    for folder in ("services", "kernel", "gateway"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path.name == "asyncapi.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                words = []
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "reason":
                            words += _literal(keyword.value)
                    name = getattr(node.func, "id", getattr(node.func, "attr", None))
                    index = POSITIONAL.get(name)
                    if index is not None and len(node.args) > index:
                        words += _literal(node.args[index])
                elif isinstance(node, ast.Dict):
                    for key, value in zip(node.keys, node.values):
                        if isinstance(key, ast.Constant) and key.value == "reason":
                            words += _literal(value)
                for word in words:
                    if re.fullmatch(r"[a-z][a-z0-9_]+", word):
                        found.setdefault(word, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def worded(language: str) -> set[str]:
    """The keys of common.js's ERRORS table for `language`."""
    text = (ROOT / "gateway" / "static" / "common.js").read_text(encoding="utf-8")
    start = text.index(f"\n  {language}: {{")
    end = text.index("\n  },", start)
    return set(re.findall(r"^\s+([a-z][a-z0-9_]*):", text[start:end], re.M))


def test_the_collector_finds_the_reasons_it_should():
    found = reasons_in_code()
    for reason in ("month_not_over", "not_mobile", "answer_beyond_options", "unit_missing",
                   "unknown_kind", "level_not_open", "mix_total", "unit_left_without_admin"):
        assert reason in found, reason


def test_every_reason_has_chinese_words():
    zh = worded("zh")
    missing = {reason: where for reason, where in reasons_in_code().items()
               if reason not in zh and reason not in NOT_REASONS}
    assert not missing, f"reasons without Chinese in gateway/static/common.js: {missing}"
