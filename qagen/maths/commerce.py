"""Commercial arithmetic as school papers ask it: profit and loss per cent, simple and compound interest.

    "A shopkeeper buys an article for ₹640 and sells it for ₹800. Find his profit per cent."
        -> profit = 800 - 640 = 160; profit % = 160 / 640 × 100 = 25%
    "Find the simple interest on ₹5000 at 8% per annum for 3 years."  -> SI = P × R × T / 100 = 1200
    "Find the compound interest on ₹10000 at 10% per annum for 2 years, compounded annually."
        -> A = P (1 + R/100)^T = 12100; CI = A - P = 2100

Amounts are read with or without a currency sign (₹, Rs., $, £, €); a rate as "8%", "8 per
cent" or "8 percent"; a time as "3 years" (or months, as a fraction of a year). A question
that names none of these quantities clearly is not handled (None), never guessed.
"""

from __future__ import annotations

import re
from fractions import Fraction

from qagen.maths.results import MathResult, plain_number, rational

_MONEY = r"(?:₹|rs\.?|inr|\$|£|€|rupees?)?\s*(\d+(?:,\d{3})*(?:\.\d+)?)"
_RATE = r"(\d+(?:\.\d+)?)\s*(?:%|per\s*cent|percent)"
_TIME = r"(\d+(?:\.\d+)?)\s*(years?|yrs?|months?)"


def _number(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


def _fmt(value: Fraction) -> str:
    if value.denominator == 1 or abs(value) < 10**12:
        return plain_number(value, 2)
    return str(float(value))


def profit_loss_question(text: str, lower: str, context: str) -> MathResult | None:
    if not re.search(r"\b(?:profit|loss|gain)\s*(?:%|per\s*cent|percent|percentage)", lower):
        return None
    cost = re.search(rf"\b(?:buys?|bought|purchased?|cost\s+price\s+(?:of\s+\w+\s+)?(?:is|was|=|of)?|c\.?p\.?\s*(?:is|=)?)"
                     rf"[^.?!\d₹$£€]{{0,40}}?{_MONEY}", lower)
    sale = re.search(rf"\b(?:sells?|sold|selling\s+price\s+(?:of\s+\w+\s+)?(?:is|was|=|of)?|s\.?p\.?\s*(?:is|=)?)"
                     rf"[^.?!\d₹$£€]{{0,40}}?{_MONEY}", lower)
    if not cost or not sale:
        return None
    cp, sp = _number(cost.group(1)), _number(sale.group(1))
    if cp <= 0 or cp == sp:
        return None
    kind = "Profit" if sp > cp else "Loss"
    change = abs(sp - cp)
    percent = change / cp * 100
    steps = [f"Cost price (CP) $= {_fmt(cp)}$, selling price (SP) $= {_fmt(sp)}$",
             f"{kind} $= {'SP - CP' if sp > cp else 'CP - SP'} = {_fmt(change)}$",
             f"{kind} % $= \\frac{{{_fmt(change)}}}{{{_fmt(cp)}}} \\times 100 = {_fmt(percent)}\\%$"]
    return MathResult("profit-loss", steps, f"{kind} of ${_fmt(percent)}\\%$", [rational(percent)])


def _principal_rate_time(lower: str) -> tuple[Fraction, Fraction, Fraction] | None:
    principal = re.search(rf"(?:\bon|\bprincipal(?:\s+of)?|\bsum\s+of|\bdeposits?|\binvests?|\bborrows?|\blends?)"
                          rf"\s*(?:a\s+sum\s+of\s+)?{_MONEY}", lower)
    rate = re.search(_RATE + r"(?:\s*(?:per\s+annum|p\.?\s?a\.?|a\s+year|per\s+year|yearly))?", lower)
    time = re.search(r"\b(?:for|in|after)\s+" + _TIME, lower)
    if not principal or not rate or not time:
        return None
    years = _number(time.group(1))
    if time.group(2).startswith("month"):
        years /= 12
    return _number(principal.group(1)), _number(rate.group(1)), years


def interest_question(text: str, lower: str, context: str) -> MathResult | None:
    compound = re.search(r"\bcompound(?:ed)?\b|\bc\.\s?i\.", lower) is not None
    if not compound and not re.search(r"\bsimple\s+interest\b|\bs\.\s?i\.", lower):
        return None
    found = _principal_rate_time(lower)
    if found is None:
        return None
    p, r, t = found
    if p <= 0 or r < 0 or t <= 0:
        return None
    wants_amount = re.search(r"\bamount\b", lower) is not None
    if not compound:
        interest = p * r * t / 100
        steps = [f"$P = {_fmt(p)}$, $R = {_fmt(r)}\\%$ per annum, $T = {_fmt(t)}$ years",
                 f"Simple interest $= \\frac{{P \\times R \\times T}}{{100}} = \\frac{{{_fmt(p)} \\times {_fmt(r)} "
                 f"\\times {_fmt(t)}}}{{100}} = {_fmt(interest)}$"]
        final = f"Simple interest $= {_fmt(interest)}$"
        values = [rational(interest)]
        if wants_amount:
            steps.append(f"Amount $= P + SI = {_fmt(p)} + {_fmt(interest)} = {_fmt(p + interest)}$")
            final += f", amount $= {_fmt(p + interest)}$"
            values.append(rational(p + interest))
        return MathResult("simple-interest", steps, final, values)
    if t.denominator != 1 or t > 100:
        return None  # compounding over part of a year needs the compounding period stated
    amount = p * (1 + r / 100) ** int(t)
    interest = amount - p
    steps = [f"$P = {_fmt(p)}$, $R = {_fmt(r)}\\%$ per annum, $T = {_fmt(t)}$ years, compounded annually",
             f"Amount $A = P\\left(1 + \\frac{{R}}{{100}}\\right)^T = {_fmt(p)}\\left(1 + \\frac{{{_fmt(r)}}}{{100}}"
             f"\\right)^{{{_fmt(t)}}} = {_fmt(amount)}$",
             f"Compound interest $= A - P = {_fmt(amount)} - {_fmt(p)} = {_fmt(interest)}$"]
    return MathResult("compound-interest", steps, f"Compound interest $= {_fmt(interest)}$, amount $= {_fmt(amount)}$",
                      [rational(interest), rational(amount)])
