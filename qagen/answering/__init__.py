"""Answering: every question and part sent to the model concurrently, under one shared rate limit.

Worker side only: the offline engine is called directly; litellm is imported (qagen.llm.loading)
only for another model.
"""
