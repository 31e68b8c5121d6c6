"""Everyday school computations: a score as a percentage, a probability from counts, areas and perimeters.

    "Riya scored 42 marks out of 60. What percentage did she score?"       -> 42/60 × 100 = 70%
    "A bag contains 5 red, 3 blue and 2 green balls. ... probability that it is blue?" -> 3/10
    "A rectangular garden is 25 m long and 18 m wide. Find its area and its perimeter."
        -> area = 25 × 18 = 450 m², perimeter = 2 (25 + 18) = 86 m

Each handler reads only the quantities its wording names (a count "out of" a total; counts
of named kinds and the kind asked for; the length and breadth of a rectangle, the side of a
square, the radius or diameter of a circle) and returns None otherwise: nothing is guessed.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from qagen.maths.results import MathResult, plain_number, rational

_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT = r"\s*(?P<unit>mm|cm|km|m)\b"


def _fmt(value: Fraction) -> str:
    return plain_number(value, 4)


def score_percentage_question(text: str, lower: str, context: str) -> MathResult | None:
    if not re.search(r"\bpercent(?:age)?\b|\bper\s+cent\b|%", lower):
        return None
    match = re.search(rf"{_NUMBER}\s*(?:marks?|points?|runs?|questions?|votes?)?\s+out\s+of\s+(?:a\s+total\s+of\s+)?"
                      rf"{_NUMBER}", lower)
    if not match:
        return None
    part, whole = Fraction(match.group(1)), Fraction(match.group(2))
    if whole <= 0 or part > whole:
        return None
    percent = part / whole * 100
    steps = [f"Percentage $= \\frac{{{_fmt(part)}}}{{{_fmt(whole)}}} \\times 100 = {_fmt(percent)}\\%$"]
    return MathResult("percentage", steps, f"${_fmt(percent)}\\%$", [rational(percent)])


_COUNTED = re.compile(r"(\d+)\s+([a-z]+(?:\s+[a-z]+)?)\s*(?=,|\s+and\b|\.|\s+balls?\b|\s+marbles?\b|\s+cards?\b|"
                      r"\s+pens?\b|\s+beads?\b|\s+sweets?\b|\s+tickets?\b|\s+coins?\b)")


def probability_from_counts_question(text: str, lower: str, context: str) -> MathResult | None:
    """P(kind) = count of that kind / total, when the question lists counts of kinds and asks for one."""
    if "probability" not in lower or not re.search(r"\b(?:at\s+random|randomly|drawn|picked|chosen|selected)\b", lower):
        return None
    container = re.search(r"\b(?:contains?|has|have|there\s+are)\b(.+?)(?:\.|\?|$)", lower)
    if not container:
        return None
    counts: dict[str, Fraction] = {}
    for number, kind in _COUNTED.findall(container.group(1)):
        kind = kind.split()[0] if kind.split()[-1] in ("ball", "balls", "marble", "marbles") else kind.split()[-1]
        counts[kind] = counts.get(kind, Fraction(0)) + Fraction(number)
    if len(counts) < 2:
        return None
    asked = [kind for kind in counts if re.search(rf"\b(?:is|be|being|a|an|of)\s+(?:a\s+)?{re.escape(kind)}\b",
                                                   lower[container.end():])]
    if len(asked) != 1:
        return None
    total = sum(counts.values())
    favourable = counts[asked[0]]
    probability = favourable / total
    listing = " + ".join(_fmt(c) for c in counts.values())
    steps = [f"Total outcomes $= {listing} = {_fmt(total)}$",
             f"Favourable outcomes ({asked[0]}) $= {_fmt(favourable)}$",
             f"$P = \\frac{{{_fmt(favourable)}}}{{{_fmt(total)}}} = {_fmt(probability) if probability.denominator == 1 else f'{probability.numerator}/{probability.denominator}'}$"]
    final = f"$\\frac{{{probability.numerator}}}{{{probability.denominator}}}$" if probability.denominator != 1 else "$1$"
    return MathResult("probability", steps, final, [rational(probability)])


def area_perimeter_question(text: str, lower: str, context: str) -> MathResult | None:
    """Area and/or perimeter (circumference) of a rectangle, a square or a circle with its measures given."""
    wants_area = re.search(r"\barea\b", lower) is not None
    wants_perimeter = re.search(r"\bperimeter\b|\bcircumference\b", lower) is not None
    if not (wants_area or wants_perimeter):
        return None
    unit = re.search(_UNIT, lower)
    unit_name = unit.group("unit") if unit else ""
    rectangle = re.search(rf"\brectang\w*.*?{_NUMBER}\s*(?:mm|cm|km|m)?\s*(?:long|in\s+length|by|x|×)"
                          rf".*?{_NUMBER}\s*(?:mm|cm|km|m)?\s*(?:wide|broad|in\s+breadth|in\s+width)?", lower)
    if not rectangle:
        rectangle = re.search(rf"\brectang\w*.*?length\D*?{_NUMBER}.*?(?:breadth|width)\D*?{_NUMBER}", lower)
    square = re.search(rf"\bsquare\b.*?side\D*?{_NUMBER}", lower)
    circle = re.search(rf"\bcircle\b.*?\b(radius|diameter)\D*?{_NUMBER}", lower)
    steps: list[str] = []
    values: list[Any] = []
    finals: list[str] = []
    u = f"\\ \\text{{{unit_name}}}" if unit_name else ""
    u2 = f"\\ \\text{{{unit_name}}}^2" if unit_name else ""
    if rectangle:
        length, breadth = Fraction(rectangle.group(1)), Fraction(rectangle.group(2))
        if wants_area:
            area = length * breadth
            steps.append(f"Area $= l \\times b = {_fmt(length)} \\times {_fmt(breadth)} = {_fmt(area)}{u2}$")
            finals.append(f"area $= {_fmt(area)}{u2}$")
            values.append(rational(area))
        if wants_perimeter:
            perimeter = 2 * (length + breadth)
            steps.append(f"Perimeter $= 2(l + b) = 2({_fmt(length)} + {_fmt(breadth)}) = {_fmt(perimeter)}{u}$")
            finals.append(f"perimeter $= {_fmt(perimeter)}{u}$")
            values.append(rational(perimeter))
    elif square:
        side = Fraction(square.group(1))
        if wants_area:
            steps.append(f"Area $= s^2 = {_fmt(side)}^2 = {_fmt(side * side)}{u2}$")
            finals.append(f"area $= {_fmt(side * side)}{u2}$")
            values.append(rational(side * side))
        if wants_perimeter:
            steps.append(f"Perimeter $= 4s = 4 \\times {_fmt(side)} = {_fmt(4 * side)}{u}$")
            finals.append(f"perimeter $= {_fmt(4 * side)}{u}$")
            values.append(rational(4 * side))
    elif circle:
        import sympy

        radius = Fraction(circle.group(2)) / (2 if circle.group(1) == "diameter" else 1)
        r = rational(radius)
        if wants_area:
            area = sympy.pi * r ** 2
            steps.append(f"Area $= \\pi r^2 = \\pi \\times {_fmt(radius)}^2 = {sympy.latex(area)} \\approx "
                         f"{sympy.N(area, 6)}{u2}$")
            finals.append(f"area $= {sympy.latex(area)} \\approx {sympy.N(area, 6)}{u2}$")
            values.append(area)
        if wants_perimeter:
            circumference = 2 * sympy.pi * r
            steps.append(f"Circumference $= 2\\pi r = {sympy.latex(circumference)} \\approx {sympy.N(circumference, 6)}{u}$")
            finals.append(f"circumference $= {sympy.latex(circumference)} \\approx {sympy.N(circumference, 6)}{u}$")
            values.append(circumference)
    if not steps:
        return None
    final = ", ".join(finals)
    return MathResult("mensuration", steps, final[:1].upper() + final[1:], values)
