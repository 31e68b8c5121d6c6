"""The growth benchmark (bench/bench_growth.py): its power-law fit and its generated papers."""

from __future__ import annotations

import math

import pytest

from bench.bench_growth import fit_power_law, fits
from bench.common import page_count
from bench.generated_papers import GRID, cell_exists, generated_paper


@pytest.mark.parametrize("a, b", [(0.002, 1.0), (0.5, 0.5), (1e-4, 2.0), (3.0, 0.0)])
def test_the_fit_recovers_the_exponent_and_factor_of_an_exact_power_law(a, b):
    sizes = [5, 50, 500, 1, 20, 60]
    fitted_a, fitted_b, r2 = fit_power_law(sizes, [a * s ** b for s in sizes])
    assert fitted_b == pytest.approx(b, abs=1e-9)
    assert fitted_a == pytest.approx(a, rel=1e-9)
    assert r2 == pytest.approx(1.0)


def test_a_fixed_cost_on_top_of_linear_work_fits_below_one_and_quadratic_work_above():
    sizes = [5, 50, 500]
    assert fit_power_law(sizes, [0.2 + 0.001 * s for s in sizes])[1] < 1.0
    assert fit_power_law(sizes, [0.001 * s + 1e-5 * s * s for s in sizes])[1] > 1.15


def test_the_fit_needs_two_distinct_sizes():
    with pytest.raises(ValueError):
        fit_power_law([50, 50], [1.0, 2.0])


def test_stages_are_flagged_against_questions_and_the_parse_also_against_pages():
    def job(pages, questions, parse, answer):
        return {"case": {"source": "generated", "pages": pages, "questions": questions},
                "pages": pages, "stages": {"parse": {"cpu": parse}, "answer": {"cpu": answer}}}

    jobs = [job(p, q, 0.01 * p, 0.001 * q * q) for p, q in [(1, 5), (5, 50), (60, 50), (60, 500)]]
    jobs.append({"case": {"source": "corpus", "file": "x.pdf"}, "pages": 3, "stages": {"answer": {"cpu": 1e6}}})
    result = fits(jobs, "cpu")  # the corpus paper is not in the fit
    assert result["answer"]["b"] == pytest.approx(2.0) and result["answer"]["flagged"]
    assert result["answer"]["top_decade_b"] == pytest.approx(2.0)
    assert result["parse"]["pages"]["b"] == pytest.approx(1.0) and not result["parse"]["pages"]["worse_than_linear"]
    assert result["parse"]["top_decade_b"] == pytest.approx(0.0)  # the same 60 pages
    assert "pages" not in result["answer"]


def test_fixed_costs_hide_nothing_from_the_top_decade():
    # 50 ms fixed + quadratic: the fit over the grid (5..500) says 0.68, the 50->500 step 1.5.
    jobs = [{"case": {"source": "generated", "pages": p, "questions": q}, "pages": p,
             "stages": {"render": {"cpu": 0.05 + 1e-5 * q * q}}} for p, q in GRID]
    result = fits(jobs, "cpu")["render"]
    assert result["b"] < 1.15 and result["top_decade_b"] > 1.15 and result["flagged"]


def test_the_grid_keeps_only_plausible_papers():
    assert GRID == [(1, 5), (5, 5), (5, 50), (20, 5), (20, 50), (60, 50), (60, 500)]
    assert not cell_exists(1, 50) and not cell_exists(60, 5) and not cell_exists(20, 500)


@pytest.mark.parametrize("pages, questions", [(1, 5), (5, 50), (20, 5)])
def test_a_generated_paper_has_its_pages_and_the_parse_finds_its_questions(pages, questions):
    from qagen.parsing import parse_document

    data = generated_paper(pages, questions)
    assert page_count(data) == pages
    paper = parse_document(data, "generated.pdf")
    assert [q.number for q in paper.questions] == [str(n) for n in range(1, questions + 1)]
    assert all(q.marks and not math.isnan(q.marks) for q in paper.questions)
    assert any(q.parts for q in paper.questions)
    if pages >= questions:  # a question that owns pages has two parts a page
        assert all(len(q.parts) >= 2 * (pages // questions) for q in paper.questions)
    else:
        assert any(q.options for q in paper.questions)


def test_the_same_size_gives_the_same_paper():
    generated_paper.cache_clear()
    first = generated_paper(1, 5)
    generated_paper.cache_clear()
    assert generated_paper(1, 5) == first
