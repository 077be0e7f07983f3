"""template.yaml is parsed once per test run (issue 21, section 4): every deployment of the local
AWS reads it, and parsing took 0.37 s a test. Each reader still gets a document of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from localaws.runtime import template as template_module
from localaws.runtime.template import StackTemplate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = yaml.load

    def counting(text: str, Loader: type) -> object:  # yaml.load names its keyword so
        seen.append(text)
        return real(text, Loader=Loader)

    monkeypatch.setattr(template_module.yaml, "load", counting)
    return seen


def test_the_same_text_is_parsed_once(parses, tmp_path):
    copy = tmp_path / "template.yaml"
    copy.write_text((ROOT / "template.yaml").read_text() + "\n# this run's own text\n")
    first = StackTemplate(copy)
    second = StackTemplate(copy)
    assert len(parses) <= 1  # none when an earlier test parsed this very text
    assert first.document == second.document


def test_each_reader_changes_its_own_document(tmp_path):
    first = StackTemplate(ROOT / "template.yaml")
    del first.document["Resources"]["PromoteFunction"]
    assert "PromoteFunction" in StackTemplate(ROOT / "template.yaml").document["Resources"]


def test_a_changed_file_is_read_again(tmp_path):
    changed = tmp_path / "template.yaml"
    changed.write_text((ROOT / "template.yaml").read_text())
    assert "PromoteFunction" in StackTemplate(changed).document["Resources"]
    changed.write_text((ROOT / "template.yaml").read_text().replace("\n  PromoteFunction:\n", "\n  PromotionFunction:\n"))
    resources = StackTemplate(changed).document["Resources"]
    assert "PromotionFunction" in resources and "PromoteFunction" not in resources
