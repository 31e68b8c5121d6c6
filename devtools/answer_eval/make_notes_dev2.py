"""Write the PDF and DOCX notes of the second batch of dev cases (cases/dev-2.yaml); fixed content, same bytes each run.

    .venv/bin/python devtools/answer_eval/make_notes_dev2.py

Writes notes/dev2/os-process-scheduling.pdf (three pages, a heading per page; reportlab, invariant=1)
and notes/dev2/sql-basics.docx (Heading and List styles; python-docx, fixed dates and zip times).
The text below is the source the cases' key facts and evidence are checked against.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from notes_files import write_docx as write_styled_docx
from notes_files import write_pages_pdf

HERE = Path(__file__).resolve().parent / "notes" / "dev2"

# One entry per page: (heading, paragraphs). Each paragraph is wrapped at WRAP characters (never inside a word).
OS_PAGES: list[tuple[str, list[str]]] = [
    (
        "Operating Systems - Unit 2 (1): Processes",
        [
            "B.Sc. Computer Science, semester 3. Teacher's notes, page 1 of 3.",
            "A process is a program in execution. A program is a passive entity, a file of instructions "
            "stored on disk; a process is an active entity, with a program counter that shows the next "
            "instruction to run and a set of resources such as memory, open files and I/O devices.",
            "Process states: as it runs, a process moves between five states - new (being created), ready "
            "(waiting to be given the CPU), running (its instructions are being executed), waiting or blocked "
            "(waiting for an event such as the completion of I/O) and terminated (finished).",
            "Process Control Block (PCB): the operating system keeps one PCB for every process. It is a data "
            "structure holding all the information needed to manage that process: the process ID (PID), the "
            "process state, the program counter, the contents of the CPU registers, CPU-scheduling information "
            "such as the priority, memory-management information, and I/O status information such as the "
            "list of open files.",
            "A context switch happens when the CPU moves from one process to another: the state of the running "
            "process is saved in its PCB and the saved state of the next process is loaded. The time spent "
            "switching is pure overhead, because no useful work is done during it.",
        ],
    ),
    (
        "Operating Systems - Unit 2 (2): CPU Scheduling",
        [
            "The short-term scheduler (CPU scheduler) selects one of the processes in the ready queue and "
            "allocates the CPU to it. The dispatcher then gives control of the CPU to that process.",
            "Non-preemptive scheduling: once a process gets the CPU, it keeps the CPU until it terminates or "
            "moves to the waiting state.",
            "Preemptive scheduling: the operating system can take the CPU away from a running process, for "
            "example when a process of higher priority arrives or when the running process's time slice ends.",
            "Scheduling criteria: CPU utilisation and throughput (the number of processes completed per unit "
            "of time) should be as high as possible; turnaround time, waiting time and response time should "
            "be as low as possible.",
            "Turnaround time = completion time - arrival time. Waiting time = turnaround time - burst time.",
        ],
    ),
    (
        "Operating Systems - Unit 2 (3): Scheduling Algorithms",
        [
            "First Come First Served (FCFS): the process that requests the CPU first gets it first; the ready "
            "queue is a simple FIFO queue. FCFS is non-preemptive and easy to implement, but it suffers from "
            "the convoy effect: short processes wait behind one long process, and the average waiting time "
            "becomes large.",
            "Shortest Job First (SJF): the CPU goes to the process with the smallest next CPU burst. SJF gives "
            "the minimum average waiting time for a given set of processes, but long processes may starve. "
            "Its preemptive version is called Shortest Remaining Time First (SRTF).",
            "Round Robin (RR): every process in the ready queue gets the CPU in turn for a small fixed unit of "
            "time called the time quantum or time slice, typically 10 to 100 milliseconds. If the process has "
            "not finished when its quantum expires, it is preempted and put at the tail of the ready queue. "
            "Round Robin is preemptive and was designed for time-sharing systems. A very large quantum makes "
            "RR behave like FCFS, while a very small one causes too many context switches.",
            "Priority scheduling: the CPU is given to the process with the highest priority. Processes of low "
            "priority may wait indefinitely (starvation); the remedy is aging, which gradually raises the "
            "priority of processes that have waited for a long time.",
        ],
    ),
]

WRAP = 90

# (kind, text): kind is "h1", "h2", "p" or "bullet" (List Bullet).
SQL: list[tuple[str, str]] = [
    ("h1", "Databases - Unit 3: SQL Basics"),
    ("p", "SQL (Structured Query Language) is the standard language for creating, querying and changing "
          "relational databases. A relational database stores data in tables; each row of a table is a "
          "record (tuple) and each column is a field (attribute)."),
    ("h2", "Categories of SQL commands"),
    ("bullet", "DDL (Data Definition Language) defines the structure of the database objects: CREATE, "
               "ALTER, DROP and TRUNCATE."),
    ("bullet", "DML (Data Manipulation Language) works on the data stored inside the tables: INSERT, "
               "UPDATE and DELETE, with SELECT to retrieve it."),
    ("bullet", "DCL (Data Control Language) gives and takes away access rights: GRANT and REVOKE."),
    ("bullet", "TCL (Transaction Control Language) manages transactions: COMMIT saves the changes of a "
               "transaction permanently, ROLLBACK undoes the changes made since the last COMMIT, and "
               "SAVEPOINT marks a point to which a transaction can later be rolled back."),
    ("h2", "DELETE, TRUNCATE and DROP"),
    ("p", "DELETE removes the rows that match a WHERE condition and can be rolled back. TRUNCATE removes all "
          "the rows of a table but keeps the table's structure. DROP removes the whole table, its structure "
          "as well as its data."),
    ("h2", "Querying with SELECT"),
    ("p", "The general form of a query is: SELECT columns FROM table WHERE condition GROUP BY column "
          "HAVING condition ORDER BY column;"),
    ("bullet", "The WHERE clause filters individual rows before grouping; the HAVING clause filters groups "
               "after GROUP BY has formed them."),
    ("bullet", "ORDER BY sorts the result, in ascending order by default (ASC) or in descending order with DESC."),
    ("bullet", "DISTINCT removes duplicate rows from the result."),
    ("h2", "Aggregate functions"),
    ("p", "Aggregate functions compute a single value from a set of rows: COUNT, SUM, AVG, MAX and MIN. "
          "COUNT(*) counts all the rows, including those with NULL values, whereas COUNT(column) counts only "
          "the rows in which that column is not NULL."),
    ("h2", "Constraints"),
    ("bullet", "NOT NULL: the column cannot be left empty."),
    ("bullet", "UNIQUE: no two rows may have the same value in the column."),
    ("bullet", "CHECK: every value must satisfy a condition, for example CHECK (age >= 18)."),
    ("bullet", "DEFAULT: supplies a value when none is given in an INSERT."),
]

FIXED_TIME = datetime.datetime(2024, 2, 20, 9, 0, 0)


def os_text() -> str:
    """The PDF's text, page by page (what the cases are checked against)."""
    return "\n\n".join(heading + "\n" + "\n".join(paragraphs) for heading, paragraphs in OS_PAGES)


def sql_text() -> str:
    return "\n".join(text for _, text in SQL)


def write_pdf(path: Path) -> None:
    write_pages_pdf(path, OS_PAGES, title='Operating Systems - Processes and CPU Scheduling', author='Computer Science department', wrap=WRAP, keep_hyphenated_words=True)


def write_docx(path: Path) -> None:
    write_styled_docx(path, SQL, title='Databases - Unit 3: SQL Basics', fixed_time=FIXED_TIME)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    write_pdf(HERE / "os-process-scheduling.pdf")
    write_docx(HERE / "sql-basics.docx")
    print(f"wrote {HERE / 'os-process-scheduling.pdf'} and {HERE / 'sql-basics.docx'}")


if __name__ == "__main__":
    main()
