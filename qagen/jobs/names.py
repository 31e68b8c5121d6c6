"""Celery task names, shared by the API (which sends by name) and the worker (which defines them).

Sending by name keeps the pipeline's libraries out of the API process and image.
"""

PROCESS_QUESTION_PAPER = "qagen.process_question_paper"
INDEX_KNOWLEDGE_BASE = "qagen.index_knowledge_base"
