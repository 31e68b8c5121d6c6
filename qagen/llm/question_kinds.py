"""What a question asks for, read from its wording: a computation, or writing only a language model can do.

The offline engine uses these to know when not to answer:

- `asks_for_computation`: the question (or, for a bare sub-part, its parent) requests a
  computation: an imperative such as solve, find, evaluate, calculate, compute,
  differentiate, integrate, simplify, factorise, expand, determine or work out at the start
  of a sentence or clause (also right after given data: "uniform in (-4, 4) find ..."),
  "what is the probability/percentage/area ..." with numbers given, or "what is the value of", "how many/much", "what is 3 + 4".
  A number that merely appears in a question ("Does this approach compute longest paths
  when an edge weighs 1/17?") is not a request to compute.
- `writing_task`: the question asks for a proof ("prove", "show that", "derive", "a
  proof", "a counter-example"), a design ("design", "write a program/function/class/
  algorithm/query", "implement"), a drawn diagram ("draw/sketch a (labelled) diagram,
  flowchart, circuit, structure") or an opinion ("in your opinion", "do you agree",
  "critically evaluate/assess/analyse/examine", "discuss whether", "to what extent",
  "comment on", "justify your answer/view"). Charts drawn from given data are not here:
  they are handled before (qagen.llm.offline_charts).
"""

from __future__ import annotations

import re

from qagen.knowledge.analysis import question_terms

_COMPUTE_VERBS = (r"solve|find|evaluate|calculate|compute|differentiate|integrate|simplify|factori[sz]e|expand|"
                  r"determine|work\s+out|obtain|estimate|convert|verify|express|reduce|rationali[sz]e|"
                  r"what\s+is\s+the\s+value|what\s+are\s+the\s+values|how\s+many|how\s+much")
# The start of a sentence or clause: the text's start, after sentence punctuation or a colon,
# after a sub-part label, or after a joining word ("and", "then", "hence", "also", "thus").
_CLAUSE_START = (r"(?:^|[.?!:;]\s*|\n\s*|\(\s*[a-z0-9ivx]{1,4}\s*\)\s*|\b(?:and|then|hence|also|thus|so|or)\s+|,\s*|"
                 r"(?<=[)\]\d])\s+)")  # "... in (-4, 4) find P(|X| <= 2)": a clause after given data
_COMPUTE_REQUEST = re.compile(rf"{_CLAUSE_START}(?:{_COMPUTE_VERBS})\b", re.I | re.M)
_WHAT_IS_EXPRESSION = re.compile(r"\bwhat\s+is\s+[-+(]*\d[\d\s.,/*+\-^×÷()%!√]*(?:\?|$|\s*of\b)", re.I)
_NOUN_REQUEST = re.compile(r"\b(?:the\s+)?(?:value|derivative|integral|roots?|solutions?|determinant|inverse|"
                           r"mean|median|mode|variance|standard\s+deviation|hcf|lcm|gcd|product|sum|limit)\s+of\b",
                           re.I)

_PROOF = re.compile(r"\b(?:prove|proof|show\s+that|derive|derivation\s+of|counter-?\s?examples?|disprove|"
                    r"demonstrate\s+that)\b", re.I)
_DESIGN = re.compile(rf"{_CLAUSE_START}(?:design|devise|implement)\b|{_CLAUSE_START}(?:write|develop|create|code)\b[^.?!]{{0,40}}?\b"
                     r"(?:program|programme|function|method|class|classes|interface|algorithm|pseudo-?code|"
                     r"query|queries|script|code|procedure|routine|constructor|module)\b", re.I | re.M)
_DIAGRAM = re.compile(rf"{_CLAUSE_START}(?:draw|sketch|illustrate)\b[^.?!]{0,40}?\b(?:diagram|figure|flow\s?chart|circuit|"
                      r"structure|tree|graph\s+of\s+the\s+(?:network|relation)|model|map|cycle|ray\s+diagram)s?\b|"
                      r"\b(?:labell?ed|neat)\s+(?:diagram|sketch|figure)", re.I | re.M)
_OPINION = re.compile(r"\b(?:in\s+your\s+(?:opinion|view)|do\s+you\s+(?:agree|think)|critically\s+(?:evaluate|"
                      r"assess|analy[sz]e|examine|discuss|comment)|discuss\s+whether|to\s+what\s+extent|"
                      r"comment\s+on|justify\s+your\s+(?:answer|view|opinion|choice)|argue\s+(?:for|against|that)|"
                      r"your\s+own\s+(?:view|opinion|words)|would\s+you\s+(?:recommend|choose|prefer|advise))\b", re.I)

WRITING_TASKS = (("a proof", _PROOF), ("a design or program", _DESIGN), ("a drawn diagram", _DIAGRAM),
                 ("an opinion or critical discussion", _OPINION))


# "What is the probability that ...", "What percentage of the marks ...": asking for a quantity.
_QUANTITY_QUESTION = re.compile(r"\bwhat\s+(?:is|are|was|will\s+be)\s+(?:the\s+)?(?:probability|percentage|area|perimeter|"
                                r"circumference|volume|profit|loss|interest|average|mean|median|sum|total|cost|speed)\b|"
                                r"\bwhat\s+percentage\b|\bhow\s+(?:long|far|fast)\b", re.I)


def asks_for_computation(question: str, context: str = "") -> bool:
    """Whether the question requests a computation (see the module docstring)."""
    for text in (question, context if len(question.split()) <= 8 else ""):
        if text and (_COMPUTE_REQUEST.search(text) or _WHAT_IS_EXPRESSION.search(text)
                     or ((_NOUN_REQUEST.search(text) or _QUANTITY_QUESTION.search(text)) and re.search(r"\d", text))):
            return True
    return False


def writing_task(question: str) -> str | None:
    """What kind of writing the question asks for that only a language model can do, or None."""
    for name, pattern in WRITING_TASKS:
        if pattern.search(question):
            return name
    return None


# Facets a question may ask for (in the plural: "the type of a parameter" is a property, "the
# types of sampling" a facet), and the words by which notes give them. A question that
# asks for a facet gets the best sentence giving it ("Illustrate with an example" -> the
# sentence with "Example:", "for instance", "such as"), and one whose answer would give none
# of the facets it asks for is not covered by the notes ("the stages of mitosis" against a
# sentence that only says cells divide by mitosis).
FACETS = {
    "example": (r"\bexamples?\b|\billustrat", r"\bexamples?\b|\be\.g\.|\bfor instance\b|\bsuch as\b|\bfor example\b"),
    "application": (r"\bapplications\b|\buses\b|\bapplication\s+of\b", r"\bappli|\bused\b|\buses?\b|\busing\b"),
    "type": (r"\btypes\b|\bkinds\b|\bclassif|\bcategories\b", r"\btypes?\b|\bkinds?\b|\bclassif|\bcategor|\bforms\b|\bvariet"),
    "stage": (r"\bstages\b|\bsteps\b|\bphases\b", r"\bstages?\b|\bsteps?\b|\bphases?\b|\bfirst\b|\bthen\b|\bnext\b|\bfinally\b"),
    "advantage": (r"\b(?:dis)?advantages?\b|\b(?:de)?merits?\b|\bbenefits?\b|\blimitations?\b|\bdrawbacks?\b",
                  r"\b(?:dis)?advantage|\bbenefit|\bmerit|\bdrawback|\blimit|\bbetter\b|\bworse\b|\bfaster\b|"
                  r"\bslower\b|\bcheaper\b|\beasier\b|\bhowever\b|\bbut\b"),
    "principle": (r"\bprinciples?\b", r"\bprincipl|\brules?\b|\blaws?\b|\bbased on\b|\bworks? (?:on|by)\b|\bfollows?\b"),
}


def asked_facets(question: str) -> list[str]:
    return [name for name, (asks, _) in FACETS.items() if re.search(asks, question, re.I)]


def gives_facet(text: str, facet: str) -> bool:
    return re.search(FACETS[facet][1], text, re.I) is not None


_COMPARISON = re.compile(r"\b(?:distinguish|differentiate|differences?|compare|comparison|contrast)\b.*?\bbetween\s+"
                         r"(?P<a>.+?)\s+and\s+(?P<b>[^.?;]+)|(?P<c>[\w\- ]+?)\s+(?:vs\.?|versus)\s+(?P<d>[\w\- ]+)|"
                         r"\bhow\s+(?:do|does|is|are)\s+(?P<e>.+?)\s+differ(?:ent)?\s+from\s+(?P<f>[^.?;]+)",
                         re.I)


def compared_sides(question: str, analyzer: str) -> tuple[set[str], set[str]] | None:
    """The two things a comparison question sets side by side ("Differentiate between TCP and
    UDP", "arrays versus linked lists"), as terms; None for any other question."""
    match = _COMPARISON.search(question)
    if not match:
        return None
    a, b = next((match.group(x), match.group(y)) for x, y in (("a", "b"), ("c", "d"), ("e", "f")) if match.group(x))
    side_a, side_b = set(question_terms(analyzer, a)), set(question_terms(analyzer, b))
    return (side_a - side_b, side_b - side_a) if side_a - side_b and side_b - side_a else None
