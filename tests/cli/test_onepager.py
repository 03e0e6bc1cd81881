"""`aligner onepager`: the impact one-pager from the theme's [story] and [[metrics]]."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from aligner.render.onepager import build, verdict
from aligner.theme.schema import Metric
from aligner.theme.validation import load_theme
from tests.conftest import BASE_THEME

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "example.toml"
STORY_KEYS = ("problem", "hypothesis", "experiment", "implication", "next_steps")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def numbers(config_path: Path = EXAMPLE) -> list[tuple[str, str, str]]:
    """Each metric's before, after and change, as the one-pager states them."""
    page = build(load_theme(config_path).config)
    return [(r.before, r.after, r.change) for r in page.results]


def test_the_example_has_a_whole_story() -> None:
    config = load_theme(EXAMPLE).config
    page = build(config)
    assert page.missing() == []
    assert "$41 → $27 (−34%)" in page.texts["implication"]  # a template, with the metric filters
    assert numbers() == [
        ("28 ms", "19 ms", "−9 ms (−32%)"),
        ("3,400 QPS", "4,700 QPS", "+1,300 QPS (+38%)"),
        ("$41", "$27", "$−14 (−34%)"),
    ]


@pytest.mark.parametrize(
    ("better", "before", "after", "expected"),
    [
        ("lower", 28, 19, "better"),
        ("lower", 19, 28, "worse"),
        ("higher", 3400, 4700, "better"),
        ("higher", 4700, 3400, "worse"),
        ("higher", 5, 5, "same"),
    ],
)
def test_each_change_is_judged_by_its_better_direction(
    better: str, before: float, after: float, expected: str
) -> None:
    metric = Metric.model_validate(
        {"id": "m", "label": "m", "before": before, "after": after, "better": better}
    )
    assert verdict(metric) == expected


def test_html_is_self_contained_with_a_chart_per_metric_and_print_css(tmp_path: Path) -> None:
    code, out, _ = run("onepager", "--config", str(EXAMPLE), "--out", str(tmp_path / "one.html"))
    assert code == 0 and out == f"Wrote {tmp_path / 'one.html'}.\n"
    page = (tmp_path / "one.html").read_text(encoding="utf-8")
    for heading in (
        "Problem",
        "Hypothesis",
        "Experiment design",
        "Result",
        "Business implication",
        "Next steps",
    ):
        assert f"<h2>{heading}</h2>" in page
    for before, after, change in numbers():
        assert before in page and after in page and change in page
    charts = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(charts) == 3
    assert all(base64.b64decode(c).lstrip().startswith(b"<?xml") for c in charts)
    assert "@page { size: A4" in page and "@media print" in page
    assert not re.search(r"<script|<link|https?://[^\"' ]*\.(css|js|png|woff)", page)


def test_markdown_keeps_the_charts_as_files_beside_it(tmp_path: Path) -> None:
    code, _, _ = run("onepager", "--config", str(EXAMPLE), "--out", str(tmp_path / "impact.md"))
    assert code == 0
    text = (tmp_path / "impact.md").read_text(encoding="utf-8")
    assert text.startswith("# Optimizing inference pipelines\n")
    assert "| p50 latency | 28 ms | 19 ms | −9 ms (−32%) | better (lower is better) |" in text
    for metric in ("latency", "throughput", "cost"):
        assert f"](impact-{metric}.svg)" in text
        assert "<svg" in (tmp_path / f"impact-{metric}.svg").read_text(encoding="utf-8")


def test_an_empty_story_part_is_left_out_and_said_once(tmp_path: Path) -> None:
    theme = tmp_path / "theme.toml"
    theme.write_text(BASE_THEME + '[story]\nproblem = "Too slow."\n', encoding="utf-8")
    code, _, err = run("onepager", "--config", str(theme), "--out", str(tmp_path / "o.html"))
    assert code == 0
    assert err.splitlines() == [
        f"note: story.{key} is empty, so the one-pager leaves that part out"
        for key in STORY_KEYS[1:]
    ]
    page = (tmp_path / "o.html").read_text(encoding="utf-8")
    assert "Too slow." in page and "<h2>Hypothesis</h2>" not in page


def test_a_story_template_error_is_a_validate_error_naming_the_field(tmp_path: Path) -> None:
    theme = tmp_path / "theme.toml"
    theme.write_text(BASE_THEME + '[story]\nproblem = "{{ metrics.nope }}"\n', encoding="utf-8")
    code, _, err = run("validate", "--config", str(theme))
    assert code == 2 and err.startswith("story.problem: unknown name 'nope'")
    code, _, err = run("onepager", "--config", str(theme), "--out", str(tmp_path / "o.html"))
    assert code == 2 and err.startswith("story.problem: ") and len(err.splitlines()) == 1


def test_an_unknown_format_and_no_metrics_are_one_line_exit_2(tmp_path: Path) -> None:
    code, _, err = run("onepager", "--config", str(EXAMPLE), "--out", str(tmp_path / "o.docx"))
    assert code == 2 and err == f"--out {tmp_path / 'o.docx'}: name a .html, .md or .pdf file\n"
    theme = tmp_path / "theme.toml"
    theme.write_text(BASE_THEME.split("[[metrics]]")[0], encoding="utf-8")
    code, _, err = run("onepager", "--config", str(theme), "--out", str(tmp_path / "o.html"))
    assert code == 2 and err.startswith("metrics: the one-pager states results")


def test_a_pdf_without_the_extra_names_it_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run where `import weasyprint` fails (None in sys.modules makes the import raise)."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    code, _, err = run("onepager", "--config", str(EXAMPLE), "--out", str(tmp_path / "o.pdf"))
    assert code == 2
    assert err.splitlines() == [
        "a PDF needs WeasyPrint: pip install 'signal-aligner[pdf]' (or write .html and print it)"
    ]
    assert not (tmp_path / "o.pdf").exists()


@pytest.mark.heavy(3)
def test_only_the_onepager_command_imports_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys, atexit; atexit.register(lambda: print('MPL', 'matplotlib' in sys.modules)); "
        "from aligner.cli import cli; cli.main(sys.argv[1:], prog_name='aligner')"
    )

    def imports_matplotlib(*args: str) -> bool:
        result = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        return "MPL True" in result.stdout

    assert not imports_matplotlib("preview", "--config", str(EXAMPLE))
    assert imports_matplotlib("onepager", "--config", str(EXAMPLE))


PDF_TOOLS = all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdftoppm"))


@pytest.mark.heavy(2)
def test_the_example_pdf_is_one_page_holding_every_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("weasyprint", reason="needs the pdf extra: pip install '.[pdf]'")
    if not PDF_TOOLS:
        pytest.skip("needs pdfinfo, pdftotext and pdftoppm: apt-get install -y poppler-utils")
    pdf = tmp_path / "one.pdf"
    code, _, err = run("onepager", "--config", str(EXAMPLE), "--out", str(pdf))
    assert code == 0, err
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE), info.stdout
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for before, after, change in numbers():
        assert before in text and after in text and change in text, (before, after, change)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    from PIL import Image

    image = Image.open(tmp_path / "page.png").convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > image.width * image.height * 0.01  # text and charts, not a blank page


def test_editing_the_story_lifts_no_revert() -> None:
    """No surface shows [story], so a revert (tied to the theme's fingerprint) stays in force."""
    from aligner.core.session import theme_fingerprint
    from aligner.theme.schema import StorySection

    config = load_theme(EXAMPLE).config
    edited = config.model_copy(update={"story": StorySection(problem="Something else.")})
    assert theme_fingerprint(edited) == theme_fingerprint(config)
