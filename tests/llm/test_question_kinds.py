"""What a question asks for, as the offline engine reads it: rules written as cases."""

from __future__ import annotations

import pytest

from qagen.llm.question_kinds import asks_for_computation, compared_sides, writing_task


@pytest.mark.parametrize("question", [
    "Solve for x: 2x + 3 = 11",
    "Find the mean of 12, 15, 9 and 14.",
    "What is 7/8 + 1/4?",
    "(a) Differentiate f.",
    "Using the table, calculate the median.",
    "A random variable X has uniform distribution in (-4,4) find P(|X| <= 2).",
    "Which of the following is the derivative of x^2?",
    "How many edges does a complete graph on 5 vertices have?",
])
def test_a_request_to_compute(question):
    assert asks_for_computation(question)


@pytest.mark.parametrize("question", [
    "Does this approach always correctly compute longest paths when an edge has weight 1/17?",
    "Explain why the probability 0.5 cannot be negative.",
    "What is a queue?",
    "Which class does ArrayList implement?",
    "Describe the water cycle in 3 stages.",
])
def test_a_number_in_a_question_is_not_a_request_to_compute(question):
    assert not asks_for_computation(question)


@pytest.mark.parametrize(("question", "task"), [
    ("If yes, provide a proof; if no, a counter-example.", "a proof"),
    ("Prove that the square root of 2 is irrational.", "a proof"),
    ("Show that the sum of two even numbers is even.", "a proof"),
    ("Write a Java program to reverse a list.", "a design or program"),
    ("Design a class hierarchy for shapes.", "a design or program"),
    ("Draw a labelled diagram of the human heart.", "a drawn diagram"),
    ("Critically evaluate the role of the League of Nations.", "an opinion or critical discussion"),
    ("Do you agree that inflation is always harmful? Give reasons.", "an opinion or critical discussion"),
])
def test_writing_only_a_language_model_can_do(question, task):
    assert writing_task(question) == task


@pytest.mark.parametrize("question", [
    "Explain the design goals of TCP.",
    "Which class does ArrayList implement?",
    "State Newton's second law of motion.",
    "Explain with an example how a stack works.",
])
def test_explaining_or_stating_is_not_a_writing_task(question):
    assert writing_task(question) is None


@pytest.mark.parametrize(("question", "sides"), [
    ("Differentiate between TCP and UDP.", ({"tcp"}, {"udp"})),
    ("Distinguish between demand-pull inflation and cost-push inflation.", ({"demand", "pull"}, {"cost", "push"})),
    ("Compare arrays versus linked lists.", ({"array"}, {"link", "list"})),
    ("What is the difference between a stack and a queue?", ({"stack"}, {"queue"})),
])
def test_the_two_sides_of_a_comparison(question, sides):
    from qagen.knowledge.analysis import analyzer_name

    assert compared_sides(question, analyzer_name()) == sides


def test_a_question_that_compares_nothing_has_no_sides():
    from qagen.knowledge.analysis import analyzer_name

    assert compared_sides("Explain the working of a stack.", analyzer_name()) is None


@pytest.mark.parametrize("question", [
    "A bag contains 5 red and 3 blue balls. What is the probability that a ball drawn is blue?",
    "Riya scored 42 out of 60. What percentage did she score?",
])
def test_asking_what_a_quantity_is_with_numbers_given_is_a_request_to_compute(question):
    assert asks_for_computation(question)


def test_how_one_thing_differs_from_another_is_a_comparison():
    from qagen.knowledge.analysis import analyzer_name

    sides = compared_sides("How do the inner planets differ from the outer planets?", analyzer_name())

    assert sides == ({"inner"}, {"outer"})
