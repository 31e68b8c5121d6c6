"""Celery task names, shared by the API (which sends by name) and the worker (which defines them).

Sending by name keeps the pipeline's libraries out of the API process and image.
This is the only place a task name is spelled.
"""

PROCESS_QUESTION_PAPER = "qagen.process_question_paper"
INDEX_KNOWLEDGE_BASE = "qagen.index_knowledge_base"
# Webhooks are sent by their own dispatcher (python -m qagen.webhooks), not by Celery; these
# two only hand an event to it (messages of an older version; an operator's repair).
DELIVER_WEBHOOK = "qagen.deliver_webhook"
REQUEUE_STALLED_WEBHOOKS = "qagen.requeue_stalled_webhooks"
