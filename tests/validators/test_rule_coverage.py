"""The faulty corpus: every rule of docs/validation.md fires in some golden case.

``docs/validation.md`` lists each diagnostic code in its table of rules; the golden harness
(``cargo test -p xenfab-core --test golden``) keeps each case's ``diagnostics.txt`` as xenfab
prints it (``file:line:col: error[code]: path: message``). A rule that no case makes fire is
a rule nothing proves: add a small case ``tests/cases/rule-<code>/`` whose fabric breaks it,
and bless it (see tests/validators/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES_DOC = ROOT / "docs" / "validation.md"
CASES = ROOT / "tests" / "cases"
# A row of the rules table: `| `code` | severity | what it means |` (a code may repeat, with
# a note: `missing-value` (kernel)).
ROW = re.compile(r"^\|\s*`([a-z0-9]+(?:-[a-z0-9]+)*)`[^|]*\|\s*(error|warning)", re.MULTILINE)
# What a diagnostic line says: `severity[code]`.
FIRED = re.compile(r"\b(error|warning)\[([a-z0-9-]+)\]")


def documented_rules() -> dict[str, set[str]]:
    """Each code of the rules table, with the severities the table gives it."""
    text = RULES_DOC.read_text(encoding="utf-8")
    section = text.split("## Rules", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, set[str]] = {}
    for code, severity in ROW.findall(section):
        rules.setdefault(code, set()).add(severity)
    return rules


def fired_rules() -> dict[str, list[str]]:
    """Each code some case's diagnostics.txt holds, with the cases."""
    fired: dict[str, list[str]] = {}
    for path in sorted(CASES.glob("*/diagnostics.txt")):
        for _, code in FIRED.findall(path.read_text(encoding="utf-8")):
            fired.setdefault(code, [])
            if path.parent.name not in fired[code]:
                fired[code].append(path.parent.name)
    return fired


def test_rules_table_is_read() -> None:
    rules = documented_rules()
    # The table as it stands has 37 codes; a parse that finds few has lost the table.
    assert len(rules) >= 30, sorted(rules)
    assert {"duplicate-ip", "vg-full", "mode-needs-xm", "guest-disk-small"} <= set(rules)


@pytest.mark.parametrize("code", sorted(documented_rules()))
def test_rule_fires_in_a_case(code: str) -> None:
    fired = fired_rules()
    assert code in fired, (
        f"rule `{code}` of docs/validation.md fires in no tests/cases/*/diagnostics.txt: add a case "
        f"tests/cases/rule-{code}/fabric.toml that breaks it and run "
        "`XENFAB_BLESS=1 cargo test -p xenfab-core --test golden`"
    )


def test_every_fired_code_is_documented() -> None:
    """The other way round: a code in a case's diagnostics that the rules table lacks."""
    undocumented = {code: cases for code, cases in fired_rules().items() if code not in documented_rules()}
    assert not undocumented, f"codes fired by cases but missing from docs/validation.md: {undocumented}"


def test_rule_cases_fire_their_rule() -> None:
    """A case named `rule-<code>` makes that rule fire (it was made for it)."""
    for case in sorted(CASES.glob("rule-*")):
        code = case.name.removeprefix("rule-")
        diagnostics = case / "diagnostics.txt"
        assert diagnostics.exists(), f"{case.name}: no diagnostics.txt: bless the golden corpus"
        assert f"[{code}]" in diagnostics.read_text(encoding="utf-8"), f"{case.name} does not fire `{code}`"
