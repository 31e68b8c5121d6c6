"""Write the generated notes of the blind half of the answer evaluation.

Two files under notes/blind/, both with fixed content and reproducible bytes:

- human-circulation-notes.pdf: a few pages of biology notes (reportlab, invariant=1);
- database-design-notes.docx: database notes with Heading styles (python-docx; fixed
  core properties and zip timestamps).

Run from the repository root: .venv/bin/python devtools/answer_eval/make_blind_notes.py
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "notes" / "blind"

# ---------------------------------------------------------------- PDF content

CIRCULATION = [
    ("title", "Human Biology - Unit 5: The Circulatory System"),
    ("p", "Revision notes for Class X. Learn the labelled diagram of the heart from the "
          "textbook (Fig. 5.2); these notes give the text that goes with it."),
    ("h", "5.1 Functions of the circulatory system"),
    ("li", "Transports oxygen from the lungs to every cell and carbon dioxide from the "
           "cells back to the lungs."),
    ("li", "Carries digested food (glucose, amino acids) from the small intestine to the "
           "tissues, and waste such as urea to the organs that remove it."),
    ("li", "Carries hormones from the glands that make them to their target organs."),
    ("li", "Distributes heat, helping to keep body temperature constant."),
    ("li", "Defends the body against infection (white blood cells, antibodies) and seals "
           "wounds by clotting."),
    ("h", "5.2 The heart"),
    ("p", "The human heart is a muscular pump about the size of a closed fist, lying between "
          "the lungs, slightly to the left, and protected by the rib cage. It is enclosed in a "
          "double membrane, the pericardium, whose fluid reduces friction as the heart beats. "
          "Its wall is made of cardiac muscle, which contracts rhythmically throughout life "
          "without tiring."),
    ("p", "The heart has four chambers. The two upper chambers, the atria (singular atrium), "
          "receive blood returning to the heart; the two lower chambers, the ventricles, pump "
          "blood out of the heart. A thick muscular wall, the septum, separates the right side "
          "from the left side, so that oxygenated and deoxygenated blood never mix."),
    ("li", "Right atrium: receives deoxygenated blood from the body through the venae cavae "
           "(superior and inferior vena cava)."),
    ("li", "Right ventricle: pumps deoxygenated blood to the lungs through the pulmonary artery."),
    ("li", "Left atrium: receives oxygenated blood from the lungs through the pulmonary veins."),
    ("li", "Left ventricle: pumps oxygenated blood to the whole body through the aorta. Its wall "
           "is the thickest of the four chambers because it must push blood all round the body."),
    ("p", "Valves keep the blood flowing in one direction. The tricuspid valve lies between the "
          "right atrium and right ventricle, the bicuspid (mitral) valve between the left atrium "
          "and left ventricle, and semilunar valves guard the openings of the pulmonary artery "
          "and the aorta. The sounds of the heartbeat, 'lub' and 'dub', are made by these valves "
          "closing."),
    ("h", "5.3 The cardiac cycle and heart rate"),
    ("p", "One heartbeat consists of contraction (systole) and relaxation (diastole) of the "
          "chambers. Both atria contract together, filling the ventricles; then both ventricles "
          "contract together, forcing blood into the arteries. The beat starts at the "
          "sino-atrial node (SA node), a patch of special muscle in the wall of the right atrium "
          "that acts as the natural pacemaker. At rest an adult heart beats about 72 times a "
          "minute and pumps about 5 litres of blood a minute; during exercise the rate rises to "
          "deliver more oxygen to the muscles."),
    ("h", "5.4 Blood vessels"),
    ("p", "Blood travels in a closed system of three kinds of vessel."),
    ("p", "Arteries carry blood away from the heart. They have thick, muscular and elastic walls "
          "and a narrow lumen, because the blood in them is under high pressure and flows in "
          "pulses; the pulse felt at the wrist is the stretching of an artery at each beat. "
          "Except for the pulmonary artery, arteries carry oxygenated blood."),
    ("p", "Veins carry blood towards the heart. They have thin walls with little muscle and a "
          "wide lumen, because the blood in them is under low pressure. Veins contain valves that "
          "prevent the backflow of blood, and the squeezing of the skeletal muscles around them "
          "helps to push the blood along. Except for the pulmonary veins, veins carry "
          "deoxygenated blood."),
    ("p", "Capillaries are the smallest vessels, with walls only one cell thick. They form "
          "networks (capillary beds) in every tissue and link the arterioles to the venules. "
          "Exchange of materials between blood and cells takes place only across the capillary "
          "walls: oxygen and glucose pass out to the cells, and carbon dioxide and wastes pass "
          "into the blood."),
    ("h", "5.5 Double circulation"),
    ("p", "In humans the blood passes through the heart twice for each complete circuit of the "
          "body, which is called double circulation."),
    ("li", "Pulmonary circulation: right ventricle - pulmonary artery - lungs - pulmonary veins - "
           "left atrium. Here the blood picks up oxygen and gives up carbon dioxide."),
    ("li", "Systemic circulation: left ventricle - aorta - body organs - venae cavae - right "
           "atrium. Here the blood delivers oxygen to the tissues."),
    ("p", "Double circulation keeps oxygenated and deoxygenated blood apart and allows the blood "
          "to be sent to the body at a high pressure, which mammals and birds need because of "
          "their high energy demand. Fish have a single circulation: blood passes through the "
          "heart only once in each circuit."),
    ("h", "5.6 Blood pressure"),
    ("p", "Blood pressure is the force exerted by the blood on the walls of the vessels. It is "
          "measured with a sphygmomanometer on the upper arm and written as two numbers: the "
          "systolic pressure (when the ventricles contract) over the diastolic pressure (when "
          "they relax). A normal reading for a young adult is about 120/80 mm of mercury. "
          "Persistently high blood pressure (hypertension) strains the heart and can damage "
          "arteries; it is linked to smoking, obesity, too much salt, stress and lack of "
          "exercise."),
    ("h", "5.7 Composition of blood"),
    ("p", "Blood is a fluid connective tissue. An adult has about 5 to 6 litres. About 55 per "
          "cent of it is plasma and about 45 per cent is formed elements (cells and cell "
          "fragments)."),
    ("li", "Plasma: a pale yellow liquid, about 90 per cent water, carrying dissolved food, "
           "carbon dioxide, urea, hormones, salts and plasma proteins such as fibrinogen."),
    ("li", "Red blood cells (erythrocytes): biconcave discs without a nucleus, packed with "
           "haemoglobin, which combines with oxygen in the lungs and releases it in the tissues. "
           "They are made in the red bone marrow and live about 120 days."),
    ("li", "White blood cells (leucocytes): larger cells with a nucleus that defend the body. "
           "Phagocytes engulf and digest bacteria; lymphocytes produce antibodies."),
    ("li", "Platelets (thrombocytes): small cell fragments that help the blood to clot at a "
           "wound. They release substances that turn soluble fibrinogen into insoluble fibrin "
           "threads, which trap blood cells and form a clot, stopping blood loss and the entry "
           "of germs."),
    ("h", "5.8 Blood groups"),
    ("p", "The ABO system was discovered by Karl Landsteiner in 1901. A person's group depends "
          "on the antigens present on the red blood cells: group A has antigen A, group B has "
          "antigen B, group AB has both and group O has neither. Group O is called the universal "
          "donor and group AB the universal recipient. Blood is also Rh positive or Rh negative "
          "depending on whether the Rh (D) antigen is present. Before a transfusion the blood of "
          "donor and recipient is cross-matched, because mismatched blood clumps "
          "(agglutination)."),
    ("h", "5.9 The lymphatic system"),
    ("p", "Some plasma leaks out of the capillaries and bathes the cells as tissue fluid. Most of "
          "it returns to the capillaries; the rest drains into lymph vessels and is then called "
          "lymph. Lymph flows slowly through lymph nodes, where lymphocytes filter out germs, and "
          "is returned to the blood in veins near the neck. Lymph vessels in the villi of the "
          "small intestine (lacteals) absorb digested fats."),
    ("h", "Questions to practise"),
    ("li", "Trace the path of a red blood cell from the right atrium to the aorta."),
    ("li", "Why is the wall of the left ventricle thicker than that of the right ventricle?"),
    ("li", "Explain how the structure of a capillary suits its function."),
]


def make_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 11
    body.leading = 15
    bullet = styles["Bullet"]
    bullet.fontSize = 11
    bullet.leading = 15
    story = []
    for kind, text in CIRCULATION:
        if kind == "title":
            story.append(Paragraph(text, styles["Title"]))
        elif kind == "h":
            story.append(Spacer(1, 6))
            story.append(Paragraph(text, styles["Heading2"]))
        elif kind == "li":
            story.append(Paragraph(text, bullet, bulletText="\u2022"))
        else:
            story.append(Paragraph(text, body))
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, invariant=1,
        leftMargin=2.5 * cm, rightMargin=2.5 * cm, topMargin=2.5 * cm, bottomMargin=2.5 * cm,
        title="The Circulatory System", author="Biology department", subject="Class X notes",
        creator="make_blind_notes.py", producer="reportlab",
    )
    doc.build(story)


# --------------------------------------------------------------- DOCX content

DATABASES = [
    ("title", "Database Systems - Relational Design Notes"),
    ("p", "Second-year course, weeks 3 to 6. These notes summarise the lectures on keys, "
          "normalisation, transactions and indexing."),
    ("h1", "1. Keys"),
    ("p", "A relation (table) is a set of tuples (rows); each column is an attribute with a "
          "domain of allowed values."),
    ("li", "Super key: any set of attributes whose values uniquely identify a tuple."),
    ("li", "Candidate key: a minimal super key, i.e. no attribute can be removed from it "
           "without losing uniqueness."),
    ("li", "Primary key: the candidate key chosen by the designer to uniquely identify each "
           "row of a table. It may not contain NULL values, and no two rows may have the same "
           "value of it (entity integrity)."),
    ("li", "Alternate key: a candidate key that was not chosen as the primary key."),
    ("li", "Foreign key: an attribute (or set of attributes) in one table that refers to the "
           "primary key of another table, linking the two tables. Its values must either match "
           "an existing value of that primary key or be NULL (referential integrity)."),
    ("li", "Composite key: a key made of more than one attribute, e.g. (student_id, course_id) "
           "in an ENROLMENT table."),
    ("h1", "2. Functional dependencies"),
    ("p", "A functional dependency X -> Y holds when each value of X is associated with exactly "
          "one value of Y. For example, in STUDENT(roll_no, name, dept, hod), roll_no -> name "
          "and dept -> hod."),
    ("p", "Y is fully functionally dependent on X if it depends on the whole of X and not on "
          "any proper subset of it. If Y depends on only part of a composite key, the "
          "dependency is a partial dependency. If X -> Y and Y -> Z where Y is not a key, "
          "then Z depends on X transitively (a transitive dependency)."),
    ("h1", "3. Normalisation"),
    ("p", "Normalisation is the process of organising the attributes of a database into tables "
          "so as to reduce redundancy and avoid insertion, update and deletion anomalies. It "
          "proceeds by decomposing a table into smaller tables without losing information "
          "(lossless decomposition)."),
    ("h2", "3.1 First normal form (1NF)"),
    ("p", "A relation is in first normal form if every attribute contains only atomic "
          "(indivisible) values and there are no repeating groups. A column holding a list of "
          "phone numbers violates 1NF."),
    ("h2", "3.2 Second normal form (2NF)"),
    ("p", "A relation is in second normal form if it is in first normal form and every "
          "non-key attribute is fully functionally dependent on the whole primary key, that is, "
          "there are no partial dependencies. 2NF matters only for tables whose primary key is "
          "composite; a 1NF table with a single-attribute key is automatically in 2NF."),
    ("h2", "3.3 Third normal form (3NF)"),
    ("p", "A relation is in third normal form if it is in 2NF and no non-key attribute is "
          "transitively dependent on the primary key. In STUDENT(roll_no, name, dept, hod) the "
          "dependency roll_no -> dept -> hod is transitive, so hod is moved to a separate "
          "DEPARTMENT(dept, hod) table."),
    ("h2", "3.4 Boyce-Codd normal form (BCNF)"),
    ("p", "A relation is in BCNF if, for every non-trivial functional dependency X -> Y, X is a "
          "super key. BCNF is slightly stronger than 3NF."),
    ("h1", "4. Transactions"),
    ("p", "A transaction is a sequence of operations performed as a single logical unit of "
          "work, for example transferring money from one account to another. It ends with "
          "COMMIT (make the changes permanent) or ROLLBACK (undo them)."),
    ("h2", "4.1 ACID properties"),
    ("li", "Atomicity: either all operations of the transaction are carried out or none are."),
    ("li", "Consistency: a transaction takes the database from one consistent state to another, "
           "respecting all integrity constraints."),
    ("li", "Isolation: concurrent transactions do not see each other's uncommitted changes; the "
           "result is as if they ran one after another."),
    ("li", "Durability: once a transaction has committed, its changes are permanent and survive "
           "a system crash or power failure; this is achieved with the log on stable storage."),
    ("h2", "4.2 Concurrency problems"),
    ("p", "Without proper control, interleaved transactions can cause lost updates, dirty reads "
          "(reading uncommitted data) and unrepeatable reads. Two-phase locking (2PL), in which "
          "a transaction acquires all its locks before releasing any, guarantees serialisable "
          "schedules."),
    ("h1", "5. Indexing"),
    ("p", "An index is an auxiliary structure that speeds up the retrieval of rows by the value "
          "of one or more columns, at the cost of extra storage and slower inserts and updates. "
          "Most relational systems use B+ tree indexes, which keep keys sorted and support both "
          "equality and range searches; hash indexes support only equality searches."),
]


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    for kind, text in DATABASES:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind == "h1":
            document.add_heading(text, level=1)
        elif kind == "h2":
            document.add_heading(text, level=2)
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    fixed = datetime.datetime(2024, 1, 15, 9, 0, 0)
    props = document.core_properties
    props.author = "Database course"
    props.title = "Relational design notes"
    props.created = fixed
    props.modified = fixed
    props.last_modified_by = "Database course"
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    # Rewrite the package with fixed zip timestamps so that the bytes do not change.
    buffer.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 15, 9, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    path.write_bytes(out.getvalue())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    make_pdf(OUT / "human-circulation-notes.pdf")
    make_docx(OUT / "database-design-notes.docx")
    print("wrote", OUT / "human-circulation-notes.pdf", "and", OUT / "database-design-notes.docx")


if __name__ == "__main__":
    main()
