"""Request and response schemas: the OpenAPI document at /openapi.json is generated from these."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Float, Integer, List, Nested, String, URL
from apiflask.validators import Length, OneOf, Range

from qagen.model import CONFIDENCE_LEVELS

# OpenAPI formats, for generated clients' types: a timestamp is an RFC 3339 string (a datetime),
# a session's or knowledge base's id a UUID, a link an absolute URI.
TIMESTAMP = {"format": "date-time"}
ID = {"format": "uuid"}
LINK = {"format": "uri"}

STATUSES = ["queued", "running", "awaiting_review", "complete", "failed"]
REVIEW_VALUES = ["true", "false", "True", "False", "1", "0", "yes", "no", "on", "off", ""]
# A yes/no form or query field: documented as a boolean (its text "true" or "false"); the API also
# takes the other spellings in REVIEW_VALUES, which a generated client's enum could not name apart.
FLAG = {"type": "boolean", "enum": [True, False]}
REVIEW_HELP = ("true: the job stops after parsing (status awaiting_review) for a person to check the questions "
               "(GET/PUT .../paper), then POST .../answer (docs/review.md).")
WARNINGS_HELP = ("What the parse found for a person to check on the printed paper, one sentence each "
                 "(e.g. 'The numbering jumps from 7 to 9: check whether question 8 is on the paper.'); "
                 "empty when the checks found nothing.")
CONFIDENCE_HELP = ("The parse's consistency checks in one word: high, medium (e.g. pages read with OCR, "
                   "questions without text or marks) or low (e.g. the numbering jumps).")


class ErrorBody(Schema):
    code = String(required=True, metadata={"description": "Stable machine-readable code, e.g. not_found."})
    message = String(required=True, metadata={"description": "What went wrong and what to do, for a person."})
    detail = Dict(metadata={"description": "Per-field validation problems, when a request field is invalid."})


class Error(Schema):
    error = Nested(ErrorBody, required=True)


class UploadIn(Schema):
    file = File(required=True, metadata={"description": "The paper: PDF, DOCX, PNG/JPEG or text (judged by content)."})
    knowledge_base = String(validate=Length(max=64),
                            metadata={**ID, "description": "Ground answers in this knowledge base (its id)."})
    callback_url = URL(schemes={"http", "https"}, validate=Length(max=2048),
                       metadata={**LINK, "description": "Receives a signed webhook when the session completes or "
                                                        "fails (and, with review, when it is parsed)."})
    review = String(validate=OneOf(REVIEW_VALUES),
                    metadata={**FLAG, "description": REVIEW_HELP + " Also accepted as a query parameter."})


class UploadQuery(Schema):
    review = String(validate=OneOf(REVIEW_VALUES), metadata={**FLAG, "description": REVIEW_HELP})


class Submission(Schema):
    session_id = String(required=True, metadata=ID)
    status_url = String(required=True, metadata=LINK)
    download_url = String(required=True, metadata=LINK)
    events_url = String(required=True, metadata=LINK)
    result_url = String(required=True, metadata=LINK)
    paper_url = String(required=True, metadata={**LINK, "description": "GET/PUT the parsed paper (with review)."})
    answer_url = String(required=True, metadata={**LINK, "description": "POST to answer the checked paper (with "
                                                                       "review)."})


class SessionOut(Schema):
    session_id = String(required=True, metadata=ID)
    status = String(required=True, validate=OneOf(STATUSES))
    stage = String(required=True)
    progress = Integer(required=True, validate=Range(0, 100))
    message = String(required=True)
    error = String(allow_none=True)
    filename = String(required=True)
    review = Boolean(required=True, metadata={"description": "Uploaded with review=true."})
    question_count = Integer(allow_none=True)
    warnings = List(String(), allow_none=True,
                    metadata={"description": WARNINGS_HELP + " null until the paper has been parsed."})
    confidence = String(allow_none=True, validate=OneOf(CONFIDENCE_LEVELS),
                        metadata={"description": CONFIDENCE_HELP + " null until the paper has been parsed."})
    knowledge_base_id = String(allow_none=True, metadata=ID)
    created_at = String(allow_none=True, metadata=TIMESTAMP)
    started_at = String(allow_none=True, metadata=TIMESTAMP)
    finished_at = String(allow_none=True, metadata=TIMESTAMP)
    updated_at = String(allow_none=True, metadata=TIMESTAMP)


class SessionListQuery(Schema):
    limit = Integer(load_default=20, validate=Range(1, 100))
    status = String(validate=OneOf(STATUSES))
    cursor = String(validate=Length(max=40))


class SessionList(Schema):
    sessions = List(Nested(SessionOut), required=True)
    next_cursor = String(allow_none=True, required=True)


TOKEN_HELP = ("A token from POST /api/v1/sessions/{session_id}/token, for links that cannot send headers; an API "
              "key is refused here (a URL ends up in browser history and proxy logs)")


class DownloadQuery(Schema):
    expires_in = Integer(validate=Range(60, 604_800),
                         metadata={"description": "Life of the signed URL in seconds (default from settings, max 7 days)."})
    access_token = String(metadata={"description": TOKEN_HELP})


class EventsQuery(Schema):
    access_token = String(metadata={"description": TOKEN_HELP + " (EventSource cannot send headers)"})


class SessionTokenOut(Schema):
    access_token = String(required=True, metadata={"description": "qst_...: opens this session's event stream and "
                                                                  "download as ?access_token= until it expires."})
    token_type = String(required=True, validate=OneOf(["session"]))
    session_id = String(required=True, metadata=ID)
    expires_in = Integer(required=True, metadata={"description": "Seconds the token lives."})
    expires_at = String(required=True, metadata=TIMESTAMP)
    events_url = String(required=True, metadata={**LINK, "description": "The event stream's URL with the token."})
    download_url = String(required=True, metadata={**LINK, "description": "The download's URL with the token."})


class KnowledgeIn(Schema):
    file = List(File(), required=True, metadata={"description": "One or more documents (PDF, DOCX, text, Markdown)."})
    name = String(validate=Length(max=120))


class DocumentOut(Schema):
    document_id = String(required=True)
    filename = String(required=True)
    size = Integer(required=True)
    chunks = Integer(allow_none=True)
    error = String(allow_none=True)


class SkippedOut(Schema):
    filename = String(required=True)
    reason = String(required=True)


class KnowledgeOut(Schema):
    knowledge_base_id = String(required=True, metadata=ID)
    name = String(required=True)
    status = String(required=True, validate=OneOf(["indexing", "ready", "failed"]))
    error = String(allow_none=True)
    version = String(allow_none=True)
    chunk_count = Integer(required=True)
    documents = List(Nested(DocumentOut), required=True)
    skipped = List(Nested(SkippedOut))


class Capacity(Schema):
    queued = Integer(required=True, metadata={"description": "Jobs waiting, every tenant's (docs/fairness.md)."})
    running = Integer(required=True, metadata={"description": "Jobs taken by workers and not yet finished."})
    workers = Integer(allow_none=True, metadata={"description": "Ready worker pods (Kubernetes), when known."})
    slots = Integer(allow_none=True, metadata={"description": "Jobs the workers can run at once, when known."})
    median_job_seconds = Float(allow_none=True)
    estimated_wait_seconds = Float(allow_none=True, metadata={"description": "Until a new job of yours would "
                                                              "start: behind your own waiting jobs and, round "
                                                              "robin, one per turn of each other tenant's."})


class Health(Schema):
    status = String(required=True)
    checks = Dict(keys=String(), values=String())


class Citation(Schema):
    document = String(required=True)
    page = Integer(allow_none=True)
    excerpt = String(required=True)


class AnswerOut(Schema):
    text = String(required=True)
    citations = List(Nested(Citation), required=True)
    chart = Dict(allow_none=True)
    notes = List(String(), required=True)


class OptionOut(Schema):
    label = String(required=True)
    text = String(required=True)


class PartOut(Schema):
    label = String(required=True)
    text = String(required=True)
    marks = Float(allow_none=True)
    parts = List(Nested(lambda: PartOut()), required=True)
    options = List(Nested(OptionOut), required=True)
    answer = Nested(AnswerOut, allow_none=True)


class TranslationOut(Schema):
    language = String(required=True, metadata={"description": "The language's name, e.g. Hindi; empty if unknown."})
    text = String(required=True)


class QuestionOut(Schema):
    number = String(required=True)
    text = String(required=True)
    marks = Float(allow_none=True)
    section = String(allow_none=True)
    parts = List(Nested(PartOut), required=True)
    options = List(Nested(OptionOut), required=True)
    alternatives = List(Nested(lambda: QuestionOut()), required=True)
    answer = Nested(AnswerOut, allow_none=True)
    translations = List(Nested(TranslationOut), required=True,
                        metadata={"description": "The same question printed in another language."})
    given_answer = String(allow_none=True, required=True,
                          metadata={"description": "The answer, solution or marking scheme the paper itself prints "
                                                   "after the question, verbatim; null when it prints none."})


class SectionOut(Schema):
    name = String(required=True)
    instructions = String(required=True)
    marks = Float(allow_none=True)


class PaperInFileOut(Schema):
    title = String(required=True)
    first = Integer(required=True, metadata={"description": "Index in questions of this paper's first question."})
    count = Integer(required=True, metadata={"description": "How many questions this paper has."})
    total_marks = Float(allow_none=True)


class JobUsageOut(Schema):
    model_calls = Integer(required=True)
    input_tokens = Integer(required=True)
    output_tokens = Integer(required=True)
    cost_usd = Float(required=True, metadata={"description": "From litellm's cost map; 0 for the offline engine."})
    stopped = Boolean(required=True, metadata={"description": "True when the job stopped at the monthly cost "
                                                              "quota: the items left unanswered say so."})
    stop_reason = String(required=True, allow_none=True, validate=OneOf(["cost_quota"]))


class PaperOut(Schema):
    title = String(required=True)
    instructions = String(required=True)
    total_marks = Float(allow_none=True)
    sections = List(Nested(SectionOut), required=True)
    questions = List(Nested(QuestionOut), required=True)
    papers = List(Nested(PaperInFileOut), required=True,
                  metadata={"description": "When the file holds several papers: questions[first:first+count] "
                                           "are each one's; empty for one paper."})
    warnings = List(String(), required=True, metadata={"description": WARNINGS_HELP})
    confidence = String(required=True, validate=OneOf(CONFIDENCE_LEVELS), metadata={"description": CONFIDENCE_HELP})
    usage = Nested(JobUsageOut, metadata={"description": "The job's model calls, tokens and cost, and whether it "
                                                         "stopped at the tenant's cost quota (result.json only)."})


class Empty(Schema):
    pass



class WebhookSecret(Schema):
    secret = String(required=True, metadata={"description": "whsec_...: verifies the Qagen-Signature header."})
