"""Maths with sympy, for untrusted text: the offline engine's solver and the check of a model's answer.

- `expressions`: the one restricted parser (text -> sympy expression, never eval, bounded
  work, a time budget); charts' function plots parse through it too.
- `reading`: the maths in exam English (spans, the expression a question is about).
- `solve`: `solve_question`, exact answers with steps; it dispatches to its own algebra
  and arithmetic and to `calculus` and `data`, which write a `results.MathResult`.
"""
