"""How the offline engine picks sentences from the notes: rules written as small cases."""

from __future__ import annotations

import json

import pytest

from qagen.knowledge import Chunk, KnowledgeIndex
from qagen.knowledge.analysis import analyzer_name, question_terms
from qagen.llm.offline import offline_reply
from qagen.llm.offline_sources import _units
from qagen.llm.question_kinds import asked_facets, gives_facet
from qagen.llm.prompt import question_messages


def answer(notes: str, question: str, marks: float | None = 3, heading: str = "") -> dict:
    index = KnowledgeIndex.build([Chunk("notes.md", None, heading, notes)])
    return offline_reply(question_messages(question, marks, [], index.search(question, k=5)))


def test_each_list_item_is_a_unit_and_a_short_line_ending_no_sentence_is_a_title():
    units = _units("Newton's Laws of Motion\n\n- First law: inertia.\n- Second law: F = ma\n\nA closing sentence.")

    assert [u[1] for u in units] == ["- First law: inertia.", "- Second law: F = ma", "A closing sentence."]
    assert units[0][2] == "Newton's Laws of Motion"  # the title heads what follows


def test_an_opening_instruction_verb_is_not_a_search_term_but_the_same_word_elsewhere_is():
    analyzer = analyzer_name()

    assert "state" not in question_terms(analyzer, "State the rule for rejecting the null hypothesis.")
    assert "state" in question_terms(analyzer, "Explain the state of a process.")
    assert "list" in question_terms(analyzer, "What is a linked list?")


def test_a_question_asking_two_things_gets_a_sentence_for_each():
    notes = ("A p-value is the probability of a result at least as extreme as the one observed, assuming the "
             "null hypothesis is true. Hypothesis tests are common in science. The null hypothesis is a "
             "default claim about a population. We reject the null hypothesis when the p-value is below the "
             "significance level.")
    reply = answer(notes, "What is a p-value? State the rule for rejecting the null hypothesis.", marks=2)

    assert "at least as extreme" in reply["answer"] and "below the significance level" in reply["answer"]


@pytest.mark.parametrize(("question", "facets"), [
    ("Illustrate with an example.", ["example"]),
    ("Give two applications of stacks.", ["application"]),
    ("What are the types of sampling?", ["type"]),
    ("Describe the stages of mitosis.", ["stage"]),
    ("State two advantages of linked lists over arrays.", ["advantage"]),
    ("What is a queue?", []),
])
def test_the_facets_a_question_asks_for(question, facets):
    assert asked_facets(question) == facets


def test_an_asked_example_is_given_from_the_sentence_that_gives_one():
    notes = ("An ionic bond is formed by the transfer of electrons from a metal atom to a non-metal atom. "
             "Ionic compounds have high melting points. Example: sodium chloride, where sodium gives one "
             "electron to chlorine.")
    reply = answer(notes, "How is an ionic bond formed? Illustrate with an example.", marks=2, heading="Ionic bonds")

    assert "sodium chloride" in reply["answer"] and "transfer of electrons" in reply["answer"]


def test_a_facet_the_notes_never_give_about_the_subject_is_not_answered():
    notes = ("Body cells divide by mitosis for growth and repair; reproductive cells are formed by meiosis. "
             "The nucleus holds the chromosomes.")
    reply = answer(notes, "Describe the stages of mitosis.", marks=4)

    assert reply["status"] == "not_in_notes" and reply["citations"] == []
    assert gives_facet("First the chromosomes condense, then they line up.", "stage")


def test_words_to_the_reader_are_not_the_answer():
    notes = ("You know how to use interfaces as parameter types. "
             "An interface used as a parameter type accepts any object whose class implements the interface.")
    reply = answer(notes, "Explain how an interface can be used as the type of a method parameter.", marks=1)

    assert reply["answer"].startswith("An interface used as a parameter type")


def test_the_one_notes_file_report():
    notes = ("A queue is a linear data structure that follows the First In First Out (FIFO) principle.\n"
             "It has two ends: the rear, where elements are added, and the front, where they are removed.\n"
             "The first element added is the first removed.\n"
             "Queues are used in CPU scheduling, printer spooling and breadth-first search.")
    reply = answer(notes, "What is a queue? Explain its principle with one application.", marks=5)

    assert reply["status"] == "answered"
    assert "FIFO" in reply["answer"] and "printer spooling" in reply["answer"]
    assert json.dumps(reply["citations"])  # cited
    assert reply["citations"][0]["quote"] in notes


def test_a_hindi_question_on_hindi_notes_is_answered_sentence_by_sentence():
    notes = ("प्रकाश संश्लेषण (कक्षा 7)\n\n"
             "- प्रकाश संश्लेषण वह प्रक्रिया है जिसमें हरे पौधे कार्बन डाइऑक्साइड और जल से भोजन बनाते हैं।\n"
             "- यह प्रक्रिया पत्तियों में होती है, क्योंकि पत्तियों में क्लोरोफिल पाया जाता है।\n"
             "- इस प्रक्रिया में ऑक्सीजन गैस मुक्त होती है।")
    reply = answer(notes, "प्रकाश संश्लेषण की प्रक्रिया का वर्णन कीजिए।", marks=3)

    assert reply["status"] == "answered"
    assert "क्लोरोफिल" in reply["answer"] and "ऑक्सीजन" in reply["answer"]
    assert "कक्षा 7" not in reply["answer"]  # the title line is a heading, not a sentence


def test_a_croatian_question_meets_the_inflected_forms_in_croatian_notes():
    from qagen.knowledge.analysis import language_of, words
    from qagen.knowledge.analysis import same_word

    notes = ("Kondenzacija - vodena para se u višim slojevima atmosfere hladi i pretvara u sitne kapljice vode "
             "koje tvore oblake. Oborine padaju na tlo kao kiša ili snijeg.")
    reply = answer(notes, "Objasni što je kondenzacija i gdje se u atmosferi događa.", marks=2)

    assert language_of(words("Objasni što je kondenzacija i gdje se u atmosferi događa.")) == "sh"
    assert same_word("atmosferi", "atmosfere") and not same_word("kondenzacija", "konzerva")
    assert reply["status"] == "answered" and "kapljice" in reply["answer"]


def test_a_sentence_that_refers_back_comes_with_the_one_it_refers_to():
    notes = ("Magnets attract iron. A changing magnetic field through a coil sets up a current in the coil. "
             "This is electromagnetic induction, discovered by Michael Faraday.")
    reply = answer(notes, "What is meant by electromagnetic induction?", marks=1, heading="Magnetism")

    assert "changing magnetic field" in reply["answer"] and "Faraday" in reply["answer"]


def test_the_rest_of_the_best_sentences_paragraph_is_on_its_subject():
    notes = ("Sex determination in humans\n"
             "One pair of chromosomes, the sex chromosomes, decides the sex of a person. Women have XX, men XY. "
             "Half of the sperms carry an X chromosome and half carry a Y chromosome.\n\n"
             "Mendel crossed tall and dwarf pea plants.")
    reply = answer(notes, "How is the sex of a person decided?", marks=3)

    assert "sperms" in reply["answer"] and "Mendel" not in reply["answer"]


def test_a_pointer_elsewhere_does_not_give_an_asked_facet():
    notes = ("Body cells divide by mitosis for growth and repair. The stages of mitosis are covered in unit 7.")
    reply = answer(notes, "Describe the stages of mitosis.", marks=4)

    assert reply["status"] == "not_in_notes"
