"""Write the PDF and DOCX notes of the dev answer-evaluation cases (fixed content, same bytes each run).

    .venv/bin/python devtools/answer_eval/make_notes.py

Writes notes/dev/newton-laws.pdf (three pages, a heading per page; reportlab, invariant=1)
and notes/dev/computer-networks.docx (Heading styles; python-docx, fixed dates and zip times).
The text below is the source the cases' key facts and evidence are checked against.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from notes_files import write_docx as write_styled_docx
from notes_files import write_pages_pdf

HERE = Path(__file__).resolve().parent / "notes" / "dev"

# One entry per page: (heading, paragraphs). Each paragraph is wrapped by textwrap at WRAP characters.
NEWTON_PAGES: list[tuple[str, list[str]]] = [
    (
        "Newton's Laws of Motion (1): The First Law and Inertia",
        [
            "Class 9 Physics - Force and Laws of Motion. Teacher's notes, page 1 of 3.",
            "A force is a push or a pull. Balanced forces do not change the state of motion of a body; "
            "an unbalanced force changes its speed, its direction of motion, or both.",
            "Newton's first law: an object stays at rest, or keeps moving with uniform velocity in a "
            "straight line, unless an external unbalanced force acts on it.",
            "Inertia is the tendency of a body to resist any change in its state of rest or of uniform motion.",
            "The mass of a body is a measure of its inertia: a heavier body has more inertia.",
            "Examples: passengers lurch forward when a moving bus brakes suddenly; "
            "dust falls out of a carpet when it is beaten with a stick.",
        ],
    ),
    (
        "Newton's Laws of Motion (2): The Second Law, Force and Momentum",
        [
            "Momentum (p) of a body is the product of its mass and its velocity: p = mv. "
            "Its SI unit is kg m/s.",
            "Newton's second law: the rate of change of momentum of a body is directly proportional "
            "to the unbalanced force applied on it and takes place in the direction of the force.",
            "For a body of constant mass this gives F = ma (force = mass x acceleration).",
            "Force is measured in newtons (N). One newton is the force that gives a mass of 1 kg "
            "an acceleration of 1 m/s^2.",
            "Worked example: a 2 kg trolley accelerating at 3 m/s^2 needs a force F = 2 x 3 = 6 N.",
        ],
    ),
    (
        "Newton's Laws of Motion (3): The Third Law and Conservation of Momentum",
        [
            "Newton's third law: to every action there is an equal and opposite reaction. "
            "Action and reaction act on two different bodies, so they never cancel each other.",
            "Examples: the recoil of a gun when it is fired; a swimmer pushes the water backwards "
            "and moves forwards; a rocket pushes hot gases down and rises.",
            "Law of conservation of momentum: when no external force acts on a system of bodies, "
            "the total momentum of the system remains constant.",
            "In a collision between two balls: m1 u1 + m2 u2 = m1 v1 + m2 v2, where u and v are "
            "the velocities before and after the collision.",
        ],
    ),
]

WRAP = 88

# (kind, text): kind is "h1", "h2", "p", "number" (List Number) or "bullet" (List Bullet).
NETWORKS: list[tuple[str, str]] = [
    ("h1", "Computer Networks - Unit 2: Network Models and Protocols"),
    ("p", "Teacher's notes for the second unit. Learn the seven layers in order, with one job of each."),
    ("h2", "The OSI reference model"),
    ("p", "The OSI (Open Systems Interconnection) model divides network communication into seven layers. "
          "From the bottom up:"),
    ("number", "Physical layer - sends the raw bits over the cable or the radio link."),
    ("number", "Data link layer - framing, MAC addresses and error detection on a single link."),
    ("number", "Network layer - logical (IP) addressing and routing of packets between networks."),
    ("number", "Transport layer - end-to-end delivery between processes, using port numbers (TCP, UDP)."),
    ("number", "Session layer - sets up, manages and ends sessions between applications."),
    ("number", "Presentation layer - translation, encryption and compression of data."),
    ("number", "Application layer - services used directly by programs, such as HTTP, FTP and DNS."),
    ("h2", "TCP and UDP"),
    ("p", "Both protocols work at the transport layer, but they make different promises."),
    ("bullet", "TCP is connection-oriented: a connection is set up with a three-way handshake "
               "(SYN, SYN-ACK, ACK) before any data is sent."),
    ("bullet", "TCP is reliable: lost segments are retransmitted and the data arrives in order. "
               "Flow control stops a fast sender from swamping a slow receiver."),
    ("bullet", "UDP is connectionless: each datagram is sent on its own, without a handshake."),
    ("bullet", "UDP gives no guarantee of delivery or of order, but its small 8-byte header makes it fast; "
               "it suits DNS queries, live video and online games."),
    ("bullet", "TCP is used for web pages (HTTP), e-mail (SMTP) and file transfer (FTP)."),
    ("h2", "The Domain Name System (DNS)"),
    ("p", "DNS translates human-readable domain names such as www.example.com into IP addresses. "
          "A resolver asks the root, top-level-domain and authoritative name servers in turn, "
          "and caches the answers for later requests."),
]

FIXED_TIME = datetime.datetime(2024, 1, 15, 9, 0, 0)


def newton_text() -> str:
    """The PDF's text, page by page (what the cases are checked against)."""
    return "\n\n".join(heading + "\n" + "\n".join(paragraphs) for heading, paragraphs in NEWTON_PAGES)


def networks_text() -> str:
    return "\n".join(text for _, text in NETWORKS)


def write_pdf(path: Path) -> None:
    write_pages_pdf(path, NEWTON_PAGES, title="Newton's Laws of Motion - notes", author='Physics department', wrap=WRAP)


def write_docx(path: Path) -> None:
    write_styled_docx(path, NETWORKS, title='Computer Networks - Unit 2', fixed_time=FIXED_TIME)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    write_pdf(HERE / "newton-laws.pdf")
    write_docx(HERE / "computer-networks.docx")
    print(f"wrote {HERE / 'newton-laws.pdf'} and {HERE / 'computer-networks.docx'}")


if __name__ == "__main__":
    main()
