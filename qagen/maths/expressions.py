"""The one restricted expression parser: untrusted text in, a sympy expression out, with bounded work.

Exam papers, and the chart specs a language model writes, are untrusted, so nothing here
evaluates Python. The offline maths solver (`qagen.maths`) and function plots
(`charts.function`) both parse through `parse`, which applies every check below:

- the text (`check_text`): exam typography normalised (×, −, ², √, π, degrees); at most
  `max_chars` characters; only letters, digits, spaces and + - * / ^ ( ) . , ! = < >; no
  `__`, `..`, attribute access ('.name'), `lambda`, `import`, `exec`, `eval`, `del` or
  `factorial` (a factorial is written `n!`, of a whole number up to 1000 or of a letter);
  then token by token: no Python keywords, no imaginary numbers, only the operators
  + - * / ** ^ ( ) , = with balanced brackets, no two numbers side by side and, when the
  caller names the variables (a function plot: only `x`), no names but those,
  `FUNCTIONS` and `CONSTANTS`;
- the parse: sympy's `parse_expr` without its lambda notation, in a namespace with no
  builtins and only sympy's number and symbol constructors, `FUNCTIONS` and `CONSTANTS`;
  first with nothing evaluated (operators and every function), so that the tree is checked
  for work bombs (`check_tree`: more than 1,000 digits, towers of powers, exponents above
  60 on a variable, factorials above 1000!, more than 2,000 nodes) before sympy evaluates
  anything;
- the work: the parse, and every sympy computation the solver runs, under a time budget
  (`run_with_budget`).

A refused text raises `ExpressionError`, whose message completes a sentence about the
expression ("may not contain '__'"); `ExpressionSyntaxError`, a kind of it, says the text
is not readable as maths at all (prose, a garbled formula), which the solver treats as
"not a computation" rather than as a refusal.
"""

from __future__ import annotations

import ctypes
import functools
import io
import keyword
import math
import re
import threading
import tokenize
import warnings
from collections.abc import Iterable
from typing import Any, Callable, TypeVar

T = TypeVar("T")

MAX_EXPRESSION_CHARS = 300
MAX_DIGITS = 1_000  # largest number (in decimal digits) an expression may evaluate to
MAX_DEGREE = 60  # largest exponent of a variable
MAX_FACTORIAL = 1_000
MAX_NODES = 2_000
DEFAULT_BUDGET_SECONDS = 3.0

# Names an expression may use, mapped to sympy's names (resolved lazily: importing this stays cheap).
FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "asin": "asin", "acos": "acos", "atan": "atan", "acot": "acot",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "exp": "exp", "log": "log", "ln": "log", "log10": "log", "log2": "log", "sqrt": "sqrt",
    "abs": "Abs", "Abs": "Abs", "floor": "floor", "ceil": "ceiling", "ceiling": "ceiling", "sign": "sign",
}
CONSTANTS = {"pi": "pi", "e": "E", "E": "E", "oo": "oo", "infinity": "oo"}
_LOG_BASES = {"log10": 10, "log2": 2}

_UNICODE = [
    ("×", "*"), ("·", "*"), ("∙", "*"), ("⋅", "*"), ("÷", "/"), ("−", "-"), ("–", "-"), ("—", "-"),
    ("²", "^2"), ("³", "^3"), ("¹", "^1"), ("⁴", "^4"), ("⁵", "^5"), ("⁶", "^6"), ("⁷", "^7"), ("⁸", "^8"),
    ("⁹", "^9"), ("⁰", "^0"), ("√", "sqrt "), ("π", "pi"), ("∞", "oo"), ("θ", "theta"), ("α", "alpha"),
    ("β", "beta"), ("λ", "lambda_"), ("μ", "mu"), ("σ", "sigma"), ("φ", "phi"), ("ω", "omega"), ("≤", "<="),
    ("≥", ">="), ("’", "'"), ("‘", "'"), ("′", "'"), ("″", "''"), ("\u00a0", " "), ("½", "(1/2)"), ("¼", "(1/4)"), ("¾", "(3/4)"),
]

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_\s+\-*/^().,!=<>]")
_FORBIDDEN = re.compile(r"__|\.\s*\.|\b(?:lambda|factorial|import|exec|eval|del)\b")
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
_OPERATORS = {"+", "-", "*", "/", "**", "^", "(", ")", ",", "="}
_LAYOUT = {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}

_state = threading.local()


class ExpressionError(ValueError):
    """The text is refused as an expression: unsafe, too big, or unparsable.

    The message completes a sentence about the expression: "is empty", "may not contain '__'".
    """


class ExpressionSyntaxError(ExpressionError):
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


def check_text(text: str, *, variables: Iterable[str] | None = None, max_chars: int = MAX_EXPRESSION_CHARS) -> str:
    """The text, normalised, if it passes every textual check; raises ExpressionError otherwise.

    `variables`: the only names (besides FUNCTIONS and CONSTANTS) the text may use; None
    allows any name, each a symbol (exam maths: x, y, theta, k ...).
    """
    text = " ".join(normalise(text).split())
    if not text:
        raise ExpressionSyntaxError("is empty")
    if len(text) > max_chars:
        raise ExpressionError(f"is {len(text)} characters long; at most {max_chars} are allowed")
    forbidden = _FORBIDDEN.search(text)
    if forbidden:
        raise ExpressionSyntaxError(f"may not contain {forbidden.group()!r}")
    if _ATTRIBUTE.search(text):
        raise ExpressionSyntaxError("may not use attribute access ('.name')")
    other = _NOT_ALLOWED.search(text)
    if other:
        raise ExpressionSyntaxError(f"may not contain {other.group()!r}")
    if re.search(r"\d\s+\d", text):
        raise ExpressionSyntaxError("has two numbers side by side with no operator between them")
    if text.count("(") != text.count(")"):
        raise ExpressionSyntaxError("has unbalanced parentheses")
    _check_tokens(text, None if variables is None else tuple(variables))
    for match in re.finditer(r"(\S?)\s*!(?!=)", text):
        before = text[: match.start(1) + len(match.group(1))]
        literal = re.search(r"(?<![\w.])(\d+)\s*$", before)
        if not (literal and int(literal.group(1)) <= MAX_FACTORIAL) and not re.search(r"(?<!\w)[A-Za-z]\s*$", before):
            raise ExpressionError(f"may use factorials only of whole numbers up to {MAX_FACTORIAL} or of a letter")
    return text


def _check_tokens(text: str, variables: tuple[str, ...] | None) -> None:
    """Python's tokenizer over the text: known kinds of token only, names from the allow-list if any."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ExpressionSyntaxError(f"could not be read ({exc.args[0] if exc.args else exc})") from None
    depth = 0
    for token in tokens:
        kind, value = token.type, token.string
        if kind in _LAYOUT:
            continue
        if kind == tokenize.NAME:
            if keyword.iskeyword(value):
                raise ExpressionSyntaxError(f"may not contain {value!r}")
            if variables is not None and value not in variables and value not in FUNCTIONS and value not in CONSTANTS:
                raise ExpressionError(f"uses unknown name {value!r}; only {', '.join(variables)}, pi, e and the "
                                      f"functions {', '.join(sorted(FUNCTIONS))} are allowed")
        elif kind == tokenize.NUMBER:
            if value[-1] in "jJ":
                raise ExpressionSyntaxError(f"may not use the imaginary number {value!r}")
        elif value == "!" or kind == tokenize.OP and value in _OPERATORS:
            depth += value == "("
            depth -= value == ")"
            if depth < 0:
                raise ExpressionSyntaxError("has a ')' without a matching '('")
        else:
            raise ExpressionSyntaxError(f"may not contain {value!r}")


def parse(text: str, *, evaluate: bool = True, variables: Iterable[str] | None = None,
          max_chars: int = MAX_EXPRESSION_CHARS) -> Any:
    """One expression (no '='): checked text, restricted namespace, bounded tree, under the time budget.

    With `variables`, they are the only symbols allowed (taken as real), e.g. ("x",) for y = f(x).
    """
    names = None if variables is None else tuple(variables)
    text = check_text(text, variables=names, max_chars=max_chars)
    if "=" in text or "<" in text or ">" in text:
        raise ExpressionSyntaxError("is an equation or inequality, not an expression")
    text = text.replace("**", "^")
    return run_with_budget(lambda: _parse_checked(text, evaluate, names))


def _unevaluated(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **options: Any) -> Any:
        options["evaluate"] = False
        return function(*args, **options)

    return call


def _logarithm(sympy: Any, fixed_base: int | None) -> Callable[..., Any]:
    """log(a), log(a, base), log10(a), log2(a); left unevaluated when asked."""

    def log(argument: Any, base: Any = None, evaluate: bool = True) -> Any:
        base = fixed_base if base is None else base
        if base is None:
            return sympy.log(argument, evaluate=evaluate)
        if evaluate:
            return sympy.log(argument, base)
        return sympy.Mul(sympy.log(argument, evaluate=False),
                         sympy.Pow(sympy.log(base, evaluate=False), -1, evaluate=False), evaluate=False)

    return log


@functools.lru_cache(maxsize=8)
def _namespaces(variables: tuple[str, ...] | None, evaluate: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    import sympy

    global_dict: dict[str, Any] = {
        "__builtins__": {},
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
        "Symbol": sympy.Symbol,
        "Function": sympy.Function,
        "factorial": sympy.factorial,  # what `n!` becomes; check_text bounds n
        # what the evaluate=False transformation writes into the code it builds
        "Add": sympy.Add,
        "Mul": sympy.Mul,
        "Pow": sympy.Pow,
        "Abs": sympy.Abs,
    }
    functions = {name: _logarithm(sympy, _LOG_BASES.get(name)) if target == "log" else getattr(sympy, target)
                 for name, target in FUNCTIONS.items()}
    if not evaluate:  # sympy passes evaluate=False to some functions only: every one must get it
        functions = {name: _unevaluated(function) for name, function in functions.items()}
    local_dict: dict[str, Any] = {**functions, **{name: getattr(sympy, target) for name, target in CONSTANTS.items()}}
    if variables is None:
        local_dict["lambda_"] = sympy.Symbol("lambda")
    else:
        local_dict.update({name: sympy.Symbol(name, real=True) for name in variables})
    return global_dict, local_dict


def _parse_checked(text: str, evaluate: bool, variables: tuple[str, ...] | None) -> Any:
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

    def run(evaluate: bool) -> Any:
        global_dict, local_dict = _namespaces(variables, evaluate)
        try:
            return parse_expr(text, local_dict=dict(local_dict), global_dict=dict(global_dict),
                              transformations=transformations, evaluate=evaluate)
        except (ExpressionError, MathTimeout):
            raise
        except Exception as exc:  # sympy's parser raises many kinds (SyntaxError, TypeError, TokenError ...)
            raise ExpressionSyntaxError(f"could not be parsed ({type(exc).__name__})") from exc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sympy deprecation chatter about odd inputs such as "(336, 54) x"
        raw = run(False)
    if not isinstance(raw, Expr) or raw.has(Tuple):
        raise ExpressionSyntaxError("is not a single expression")
    if variables is not None:
        extra = sorted(str(s) for s in raw.free_symbols if str(s) not in variables)
        if extra:
            raise ExpressionError(f"uses unknown symbols {extra}")
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
        if count > MAX_NODES:
            raise ExpressionError("is too large")
        if node.free_symbols:
            if node.is_Pow:
                exp = node.args[1]
                if exp.free_symbols:  # x^y, 2^x: fine unless a constant inside is itself huge
                    continue
                if _log10(exp) > math.log10(MAX_DEGREE):
                    raise ExpressionError(f"has an exponent above {MAX_DEGREE}")
            continue
        if _log10(node) > MAX_DIGITS:
            raise ExpressionError("has a number or power too large to evaluate")


def parse_relation(text: str) -> tuple[Any, Any]:
    """'lhs = rhs' -> (lhs, rhs) parsed; a bare expression gives (expr, 0)."""
    from sympy import Integer

    text = check_text(text)
    if text.count("=") > 1 or "<" in text or ">" in text:
        raise ExpressionSyntaxError("is not one equation")
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
        if isinstance(error, (ExpressionError, MathTimeout)):
            raise error
        if isinstance(error, (RecursionError, MemoryError, OverflowError, ValueError, TypeError,
                              ZeroDivisionError, NotImplementedError, AttributeError, ArithmeticError)):
            raise ExpressionError(f"could not be computed ({type(error).__name__})") from error
        raise error
    return box["value"]
