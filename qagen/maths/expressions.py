"""Safe maths input: exam text -> sympy expressions, with bounded work.

Exam papers are untrusted text, so nothing here evaluates Python. An expression is
accepted only if it is short, uses a whitelist of characters (no quotes, brackets,
attribute dots, `__`, `lambda`, `import`), and is parsed by sympy's `parse_expr` with a
restricted namespace (no builtins; only sympy number and symbol constructors and a list of
maths functions). The unevaluated tree is then checked for work bombs (towers of powers,
huge exponents or factorials, high degrees) before sympy evaluates it, and every sympy
computation runs under a time budget (`run_with_budget`).
"""

from __future__ import annotations

import ctypes
import functools
import math
import re
import threading
import warnings
from typing import Any, Callable, TypeVar

T = TypeVar("T")

MAX_EXPRESSION_CHARS = 300
MAX_DIGITS = 1_000  # largest number (in decimal digits) an expression may evaluate to
MAX_DEGREE = 60  # largest symbolic exponent
MAX_FACTORIAL = 1_000
DEFAULT_BUDGET_SECONDS = 3.0

_ALLOWED = re.compile(r"^[A-Za-z0-9_\s+\-*/^().,!=<>]*$")
_FORBIDDEN = re.compile(r"__|\blambda\b|\bfactorial\b|\bimport\b|\bexec\b|\beval\b|[A-Za-z_)\]]\s*\.\s*[A-Za-z_]|\.\s*\.|\bdel\b")

FUNCTIONS = (
    "sin cos tan cot sec csc asin acos atan acot sinh cosh tanh exp log ln sqrt abs floor ceiling"
).split()

_UNICODE = [
    ("×", "*"), ("·", "*"), ("∙", "*"), ("⋅", "*"), ("÷", "/"), ("−", "-"), ("–", "-"), ("—", "-"),
    ("²", "^2"), ("³", "^3"), ("¹", "^1"), ("⁴", "^4"), ("⁵", "^5"), ("⁶", "^6"), ("⁷", "^7"), ("⁸", "^8"),
    ("⁹", "^9"), ("⁰", "^0"), ("√", "sqrt "), ("π", "pi"), ("∞", "oo"), ("θ", "theta"), ("α", "alpha"),
    ("β", "beta"), ("λ", "lambda_"), ("μ", "mu"), ("σ", "sigma"), ("φ", "phi"), ("ω", "omega"), ("≤", "<="),
    ("≥", ">="), ("’", "'"), ("‘", "'"), ("′", "'"), ("″", "''"), ("\u00a0", " "), ("½", "(1/2)"), ("¼", "(1/4)"), ("¾", "(3/4)"),
]


_state = threading.local()


class MathInputError(ValueError):
    """The text is not an expression the offline solver accepts (unsafe, too big or unparsable)."""


class MathSyntaxError(MathInputError):
    """The text is not readable as maths at all (a garbled formula, prose, a table row).

    The solver treats this as "not a computation" rather than as a refusal.
    """


class MathTimeout(RuntimeError):
    """A sympy computation ran past its time budget."""


def normalise(text: str) -> str:
    """Exam typography -> parser syntax (×, −, ², √, π ...); '1·8' is a decimal point, as in Indian papers."""
    text = re.sub(r"(?<=\d)[·∙](?=\d)", ".", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*°", r"(\1*pi/180)", text)  # degrees
    for old, new in _UNICODE:
        text = text.replace(old, new)
    return text


@functools.lru_cache(maxsize=1)
def _namespaces() -> tuple[dict[str, Any], dict[str, Any]]:
    import sympy

    global_dict: dict[str, Any] = {
        "__builtins__": {},
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
        "Symbol": sympy.Symbol,
        "Function": sympy.Function,
        "factorial": sympy.factorial,
        # what the evaluate=False transformation writes into the code it builds
        "Add": sympy.Add,
        "Mul": sympy.Mul,
        "Pow": sympy.Pow,
        "Abs": sympy.Abs,
    }
    local_dict: dict[str, Any] = {name: getattr(sympy, name) for name in FUNCTIONS if hasattr(sympy, name)}
    local_dict.update(
        ln=sympy.log, abs=sympy.Abs, pi=sympy.pi, e=sympy.E, E=sympy.E, oo=sympy.oo, infinity=sympy.oo,
        ceil=sympy.ceiling, lambda_=sympy.Symbol("lambda"),
    )
    return global_dict, local_dict


def check_text(text: str) -> str:
    text = normalise(text).strip()
    if not text:
        raise MathSyntaxError("The expression is empty.")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise MathInputError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    if not _ALLOWED.match(text) or _FORBIDDEN.search(text):
        raise MathSyntaxError("The expression contains characters or words the maths parser does not accept.")
    if re.search(r"\d\s+\d", text):
        raise MathSyntaxError("Two numbers stand side by side with no operator between them.")
    if text.count("(") != text.count(")"):
        raise MathSyntaxError("The expression's brackets do not match.")
    for match in re.finditer(r"(\S?)\s*!(?!=)", text):
        before = text[: match.start(1) + len(match.group(1))]
        literal = re.search(r"(?<![\w.])(\d+)\s*$", before)
        if not (literal and int(literal.group(1)) <= MAX_FACTORIAL) and not re.search(r"(?<!\w)[A-Za-z]\s*$", before):
            raise MathInputError(f"Factorials are supported only of whole numbers up to {MAX_FACTORIAL} or of a letter.")
    return text


def parse(text: str, *, evaluate: bool = True) -> Any:
    """Parse one expression (no '='): checked text, restricted namespace, bounded tree."""
    text = check_text(text)
    if "=" in text or "<" in text or ">" in text:
        raise MathSyntaxError("Expected an expression, not an equation or inequality.")
    text = text.replace("**", "^")
    return run_with_budget(lambda: _parse_checked(text, evaluate))


def _parse_checked(text: str, evaluate: bool) -> Any:
    from sympy import Expr, Tuple
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        rationalize,
        standard_transformations,
    )

    transformations = tuple(t for t in standard_transformations if t.__name__ != "lambda_notation")
    transformations += (convert_xor, implicit_multiplication_application, rationalize)
    global_dict, local_dict = _namespaces()

    def run(evaluate: bool) -> Any:
        try:
            return parse_expr(text, local_dict=dict(local_dict), global_dict=dict(global_dict),
                              transformations=transformations, evaluate=evaluate)
        except (MathInputError, MathTimeout):
            raise
        except Exception as exc:  # sympy's parser raises many kinds (SyntaxError, TypeError, TokenError ...)
            raise MathSyntaxError(f"Could not read {text!r} as an expression.") from exc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sympy deprecation chatter about odd inputs such as "(336, 54) x"
        raw = run(False)
    if not isinstance(raw, Expr) or raw.has(Tuple):
        raise MathSyntaxError(f"{text!r} is not a single expression.")
    check_tree(raw)
    if not evaluate:
        return raw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(True)


def _log10(node: Any) -> float:
    """An upper bound on log10 |value| of a constant subtree (inf when it cannot be bounded)."""
    import sympy

    if node.is_Rational:  # Integer included
        return math.log10(max(abs(int(node.p)), abs(int(node.q)), 1))
    if node.is_Float:
        value = abs(float(node))
        return abs(math.log10(value)) if value and math.isfinite(value) else (0.0 if not value else math.inf)
    if node.is_NumberSymbol or node is sympy.I:
        return 1.0
    if node.is_Add:
        return max((_log10(a) for a in node.args), default=0.0) + math.log10(len(node.args))
    if node.is_Mul:
        return sum(_log10(a) for a in node.args)
    if node.is_Pow:
        base, exp = node.args
        exp_log = _log10(exp)
        if exp_log > 7:
            return math.inf
        return 10 ** exp_log * max(_log10(base), 0.0)
    if isinstance(node, sympy.factorial):
        arg_log = _log10(node.args[0])
        if arg_log > 4:
            return math.inf
        n = 10 ** arg_log
        return n * math.log10(max(n, 2))
    if node.is_Function and node.func in (sympy.exp,):
        arg_log = _log10(node.args[0])
        return math.inf if arg_log > 6 else 10 ** arg_log * 0.4343
    return max((_log10(a) for a in node.args), default=1.0)


def check_tree(expr: Any) -> None:
    """Refuse trees whose evaluation could explode: huge numbers, towers, high degrees, big factorials."""
    import sympy

    for count, node in enumerate(sympy.preorder_traversal(expr)):
        if count > 2_000:
            raise MathInputError("The expression is too large.")
        if node.free_symbols:
            if node.is_Pow:
                exp = node.args[1]
                if exp.free_symbols:  # x^y, 2^x: fine unless a constant inside is itself huge
                    continue
                if _log10(exp) > math.log10(MAX_DEGREE):
                    raise MathInputError(f"Exponents above {MAX_DEGREE} are not supported.")
            continue
        if _log10(node) > MAX_DIGITS:
            raise MathInputError("A number or power in the expression is too large to evaluate.")


def parse_relation(text: str) -> tuple[Any, Any]:
    """'lhs = rhs' -> (lhs, rhs) parsed; a bare expression gives (expr, 0)."""
    from sympy import Integer

    text = check_text(text)
    if text.count("=") > 1 or "<" in text or ">" in text:
        raise MathSyntaxError("Expected one equation.")
    if "=" not in text:
        return parse(text), Integer(0)
    left, right = text.split("=")
    return parse(left), parse(right)


def run_with_budget(fn: Callable[[], T], seconds: float = DEFAULT_BUDGET_SECONDS) -> T:
    """Run `fn` in a worker thread; past `seconds`, interrupt it and raise MathTimeout.

    The interrupt is an asynchronous exception delivered at the thread's next bytecode,
    which stops sympy's (pure Python) loops; the checks in `check_tree` keep single huge C
    operations (giant integer powers) from ever starting.
    """
    if getattr(_state, "inside", False):  # already on a budgeted worker: share its budget
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        _state.inside = True
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, name="qagen-math", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident or 0), ctypes.py_object(MathTimeout))
        worker.join(0.5)
        raise MathTimeout(f"The computation took longer than {seconds:g} s and was stopped.")
    if "error" in box:
        error = box["error"]
        if isinstance(error, (MathInputError, MathTimeout)):
            raise error
        if isinstance(error, (RecursionError, MemoryError, OverflowError, ValueError, TypeError,
                              ZeroDivisionError, NotImplementedError, AttributeError, ArithmeticError)):
            raise MathInputError(f"The computation failed: {type(error).__name__}.") from error
        raise error
    return box["value"]


# --- finding maths in exam English ------------------------------------------------------

_TOKEN = re.compile(r"\s+|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z_0-9]*|\*\*|[-+*/^=<>!(),]|.", re.S)
_MATH_WORDS = set(FUNCTIONS) | {"pi", "e", "oo", "lambda_", "theta", "alpha", "beta", "mu", "sigma", "phi", "omega"}


def _mathy(token: str) -> bool:
    if token[0].isdigit() or token in "+-*/^=<>!()" or token == "**":
        return True
    if token[0].isalpha() or token[0] == "_":
        return token in _MATH_WORDS or bool(re.fullmatch(r"[A-Za-z](_?\d{1,2})?", token))
    return False


def spans(text: str) -> list[str]:
    """Maximal runs of maths-looking tokens in `text` (commas only inside brackets).

    "Solve for x: 2x + 3 = 11" -> ["x", "2x + 3 = 11"]; English words of two or more
    letters end a run unless they are maths words (sin, log, pi, ...).
    """
    text = normalise(text)
    out: list[str] = []
    current: list[str] = []
    depth = 0

    def close() -> None:
        nonlocal current, depth
        span = "".join(current).strip()
        current, depth = [], 0
        span = span.strip(" ,")
        while span and span[0] in "*/^=),":
            span = span[1:].strip()
        while span and span[-1] in "+-*/^=(,":
            span = span[:-1].strip()
        if span:
            out.append(span)

    for token in _TOKEN.findall(text):
        if token.isspace():
            if current:
                current.append(" ")
            continue
        if token == "," and depth > 0:
            current.append(token)
            continue
        if token == "." and current and current[-1][-1:].isdigit():  # "3." at a sentence end
            close()
            continue
        if _mathy(token):
            depth += token == "("
            depth -= token == ")"
            current.append(token)
        else:
            close()
    close()
    return out


def is_expression_like(span: str) -> bool:
    """Worth parsing: has an operator or a digit next to a letter, and some digit or letter."""
    if not re.search(r"[A-Za-z0-9]", span):
        return False
    return bool(re.search(r"[-+*/^=!()]", span) or re.search(r"\d[A-Za-z]|[A-Za-z]\d", span))
