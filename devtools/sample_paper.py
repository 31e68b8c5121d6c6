"""A realistic answered paper for the benchmark, the docs' page images and the tests.

`sample_paper()` is a 40-question mock exam in three sections with marks, parts, options,
an OR-alternative, Markdown answers with lists, a table and code, some $...$ math, numbered
citations and eight charts (one of each kind, two function plots). Deterministic.
"""

from __future__ import annotations

from qagen.model import Answer, Citation, Option, Paper, Part, Question, Section

CHARTS = [
    {"kind": "function", "title": "y = x² − 3x − 4", "x_label": "x", "y_label": "y", "expression": "x^2 - 3*x - 4",
     "x_min": -3, "x_max": 6},
    {"kind": "bar", "title": "Rainfall by month", "x_label": "Month", "y_label": "Rainfall (mm)",
     "x": ["Jan", "Feb", "Mar", "Apr", "May", "Jun"], "y": [78, 61, 55, 43, 49, 38]},
    {"kind": "line", "title": "Cooling curve of water", "x_label": "Time (min)", "y_label": "Temperature (°C)",
     "x": [0, 2, 4, 6, 8, 10, 12, 14], "y": [92, 81, 72, 65, 59, 54, 50, 47]},
    {"kind": "histogram", "title": "Heights of 120 students", "x_label": "Height (cm)", "y_label": "Frequency",
     "values": [150 + (i * 37 % 41) + (i % 7) for i in range(120)], "bins": 8},
    {"kind": "scatter", "title": "Revision hours against test score", "x_label": "Hours", "y_label": "Score (%)",
     "x": [1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 9, 10], "y": [35, 42, 40, 51, 55, 58, 60, 66, 63, 71, 74, 80, 85]},
    {"kind": "box", "title": "Reaction times by group", "x_label": "Group", "y_label": "Time (ms)",
     "groups": {"Control": [310, 295, 330, 342, 301, 288, 356], "Caffeine": [270, 262, 281, 259, 290, 301, 250],
                "Sleep-deprived": [360, 388, 402, 371, 350, 415, 397]}},
    {"kind": "pie", "title": "Household energy use", "x_label": "", "y_label": "",
     "labels": ["Heating", "Hot water", "Appliances", "Lighting", "Cooking"], "values": [53, 18, 15, 8, 6]},
    {"kind": "function", "title": "Damped oscillation", "x_label": "t (s)", "y_label": "displacement (cm)",
     "expression": "5*exp(-0.3*x)*cos(2*x)", "x_min": 0, "x_max": 12},
]

_TOPICS = [
    ("Solve the quadratic equation x² − 3x − 4 = 0 and sketch its graph.",
     "Factorise: $(x-4)(x+1)=0$, so **x = 4** or **x = −1**.\n\n"
     "- The parabola opens upwards because the coefficient of $x^2$ is positive.\n"
     "- Its vertex is at $x = \\frac{3}{2}$, where $y = -\\frac{25}{4}$.\n"
     "- It crosses the y-axis at $y = -4$.\n\n"
     "By the quadratic formula as a check:\n\n$$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a} = \\frac{3 \\pm 5}{2}$$"),
    ("Describe the pattern of rainfall shown in the table of monthly totals.",
     "Rainfall **falls steadily** from January (78 mm) to June (38 mm), with a small rise in May.\n\n"
     "| Month | Rainfall (mm) | Change |\n|---|---|---|\n| Jan | 78 | – |\n| Feb | 61 | −17 |\n"
     "| Mar | 55 | −6 |\n| Apr | 43 | −12 |\n| May | 49 | +6 |\n| Jun | 38 | −11 |\n\n"
     "The mean is $\\bar{x} = 54$ mm; the range is 40 mm."),
    ("Explain the shape of the cooling curve of a beaker of hot water.",
     "The temperature falls fastest at first and then more slowly. By *Newton's law of cooling* the rate of "
     "loss is proportional to the difference from room temperature: $\\frac{dT}{dt} = -k(T - T_0)$.\n\n"
     "1. At 92 °C the difference is large, so the curve is steep.\n"
     "2. As the water approaches room temperature the gradient tends to zero.\n"
     "3. The curve is therefore an exponential decay towards $T_0$."),
    ("Comment on the distribution of the heights of the students.",
     "The distribution is roughly **symmetric** and unimodal, centred near 172 cm. Most students lie within "
     "one standard deviation $\\sigma \\approx 12$ cm of the mean; there are no clear outliers."),
    ("Describe the correlation between revision hours and test score.",
     "There is a **strong positive correlation**: each extra hour adds about 5 percentage points. A line of "
     "best fit is roughly $y = 5x + 33$. Correlation does not prove causation — students who revise more may "
     "also attend more lessons."),
    ("Compare the reaction times of the three groups.",
     "- *Caffeine* has the lowest median (about 270 ms) and a small spread.\n"
     "- *Control* sits in the middle (about 310 ms).\n"
     "- *Sleep-deprived* is slowest (about 390 ms) and the most variable.\n\n"
     "The boxes barely overlap, so the differences are likely to be real."),
    ("Which use of energy in the home should be reduced first? Justify your answer.",
     "**Heating**, which accounts for 53 % of use. Better loft insulation and draught-proofing reduce the "
     "heat-loss rate $P = UA\\Delta T$ directly, so they save more than any change to lighting (8 %)."),
    ("A spring-mass system oscillates with damping. Describe its motion.",
     "The displacement follows $x(t) = 5e^{-0.3t}\\cos(2t)$: the amplitude decays exponentially while the "
     "period stays $T = \\pi$ s. Energy is lost to friction, so each swing is about 26 % smaller in "
     "amplitude than the one before."),
]

_SHORT = [
    ("State Ohm's law.", "The current through a conductor is proportional to the potential difference across "
     "it at constant temperature: $V = IR$."),
    ("Define the term *isotope*.", "Atoms of the same element (same number of protons) with different numbers "
     "of neutrons, e.g. carbon-12 and carbon-14."),
    ("Give the formula for the area of a circle of radius r.", "$A = \\pi r^2$."),
    ("What is the function of the mitochondria?", "Mitochondria carry out **aerobic respiration**, releasing "
     "energy from glucose as ATP."),
    ("Convert 0.375 to a fraction in its simplest form.", "$0.375 = \\frac{375}{1000} = \\frac{3}{8}$."),
    ("Name the process by which plants make glucose.", "Photosynthesis: "
     "$6CO_2 + 6H_2O \\rightarrow C_6H_{12}O_6 + 6O_2$."),
    ("State Newton's second law.", "The resultant force equals mass times acceleration, $F = ma$."),
    ("Write a Python expression for the mean of a list `xs`.", "```python\nmean = sum(xs) / len(xs)\n```\n"
     "It fails for an empty list, so check `len(xs) > 0` first."),
    ("Explain why ice floats on water.", "Ice is **less dense** than liquid water (0.92 g/cm³ against "
     "1.00 g/cm³) because its hydrogen-bonded lattice holds the molecules further apart."),
    ("What is the gradient of the line y = 4x − 7?", "The gradient is **4** (the coefficient of x); the "
     "y-intercept is −7."),
]

_CITATIONS = [
    Citation("physics-notes.pdf", 12, "The rate of cooling is proportional to the temperature difference "
             "between the object and its surroundings."),
    Citation("biology-textbook.pdf", 47, "Mitochondria are the site of aerobic respiration."),
    Citation("maths-revision-guide.pdf", 3, "A quadratic ax² + bx + c has roots (−b ± √(b² − 4ac)) / 2a."),
    Citation("class-handout-week-6.docx", None, "Correlation is not causation."),
]


def sample_paper(*, questions: int = 40, charts: int = 8, answered: bool = True) -> Paper:
    """A deterministic answered mock exam with `questions` questions and `charts` chart specs."""
    sections = [
        Section("Section A: Multiple choice", "Answer all questions. Each question carries 1 mark.", marks=10),
        Section("Section B: Short answers", "Answer all questions in the spaces provided.", marks=None),
        Section("Section C: Extended answers", "Show your working. Diagrams should be labelled.", marks=None),
    ]
    out: list[Question] = []
    chart_slots = list(range(charts))
    b_marks = c_marks = 0.0
    for index in range(questions):
        number = str(index + 1)
        if index < 10:
            quantity = ["force", "energy", "power", "charge", "pressure"][index % 5]
            question = Question(number=number, section=sections[0].name, marks=1,
                                text=f"Which of the following is a unit of {quantity}?",
                                options=[Option("A", "newton"), Option("B", "joule"), Option("C", "watt"),
                                         Option("D", "coulomb")])
            letter = "ABCD"[index % 4]
            question.answer = Answer(text=f"**{letter}.** The {['newton', 'joule', 'watt', 'coulomb'][index % 4]} "
                                          f"is the SI unit named in option {letter}.") if answered else None
        elif index < questions - 10:
            text, answer = _SHORT[index % len(_SHORT)]
            marks = float(2 + index % 3)
            b_marks += marks
            question = Question(number=number, section=sections[1].name, marks=marks, text=text)
            if answered:
                question.answer = Answer(text=answer, citations=[_CITATIONS[index % len(_CITATIONS)]]
                                         if index % 3 == 0 else [])
        else:
            slot = (index - (questions - 10)) % len(_TOPICS)
            topic, answer = _TOPICS[slot]
            part_a = Part(label="a", text=topic, marks=4.0)
            part_b = Part(label="b", text="Explain one limitation of the data or method used.", marks=2.0)
            c_marks += 6
            question = Question(number=number, section=sections[2].name, marks=6, text="Study the data below.",
                                parts=[part_a, part_b])
            if answered:
                chart = dict(CHARTS[slot]) if chart_slots and slot < len(CHARTS) else None
                if chart is not None:
                    chart_slots.pop()
                part_a.answer = Answer(text=answer, chart=chart, citations=[_CITATIONS[index % len(_CITATIONS)],
                                                                             _CITATIONS[(index + 1) % len(_CITATIONS)]])
                part_b.answer = Answer(text="The sample is small and was collected once, so random error could "
                                            "hide or exaggerate the pattern; repeating the measurements and "
                                            "taking a mean would make the conclusion more reliable.")
        out.append(question)
    if out and answered:
        last = out[-1]
        last.alternatives = [Question(number=last.number, text="Describe how you would measure the specific heat "
                                      "capacity of a metal block.", marks=6,
                                      answer=Answer(text="Heat the block with an immersion heater of known power "
                                                    "$P$ for time $t$, record the temperature rise $\\Delta T$, and "
                                                    "use $c = \\frac{Pt}{m\\Delta T}$. Insulate the block to reduce "
                                                    "heat loss."))]
    sections[1].marks = b_marks or None
    sections[2].marks = c_marks or None
    return Paper(title="Year 11 Science and Mathematics — Mock Examination", questions=out,
                 instructions="Time allowed: 2 hours. Answer all questions in Sections A and B and all questions "
                              "in Section C. Calculators may be used.",
                 total_marks=sum(q.marks or 0 for q in out), sections=sections)
