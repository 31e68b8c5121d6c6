"""Answering: every question and part sent to the model concurrently, under one shared rate limit.

Worker side only (imports litellm through qagen.llm).
"""
