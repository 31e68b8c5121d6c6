// An integrator's flow with a client generated from qagen's /openapi.json (openapi-typescript types,
// openapi-fetch calls), type-checked by tsc against that document and run with Node:
// upload, status until done, result.json, the download's redirect and the PDF behind it,
// a knowledge base, the sessions list. tests/api/test_generated_clients.py runs it and reads
// the one JSON line it prints. No hand-written HTTP: every call goes through `client`.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

declare const process: { argv: string[]; exitCode?: number };

type Session = components["schemas"]["SessionOut"];

const [baseUrl, apiKey] = process.argv.slice(2);
const PAPER = "Quiz\n1. Define velocity. [1]\n2. State Newton's first law. [2]\n";
const NOTES = "Velocity is the rate of change of displacement with time.\n";
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

function form(fields: Record<string, string | Blob>, file: [string, string]): FormData {
  const body = new FormData();
  body.append("file", new Blob([file[1]], { type: "text/plain" }), file[0]);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

async function waitUntilDone(session_id: string): Promise<Session> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const { data, error } = await client.GET("/api/v1/sessions/{session_id}", { params: { path: { session_id } } });
    if (error) throw new Error(`status: ${JSON.stringify(error)}`);
    if (data.status === "complete" || data.status === "failed") return data;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the session did not finish");
}

async function main(): Promise<void> {
  const upload = await client.POST("/api/v1/upload", {
    params: { header: { "Idempotency-Key": `ts-${Date.now()}-${Math.random().toString(36).slice(2)}` } },
    body: { file: PAPER },
    bodySerializer: (body) => form({}, ["quiz.txt", body.file]),
  });
  if (!upload.data) throw new Error(`upload: ${upload.response.status} ${JSON.stringify(upload.error)}`);
  const session_id = upload.data.session_id;
  const path = { session_id };

  const done = await waitUntilDone(session_id);
  const result = await client.GET("/api/v1/sessions/{session_id}/result.json", { params: { path } });
  if (!result.data) throw new Error(`result: ${JSON.stringify(result.error)}`);

  // The 302 as it is (Node's fetch hands a manual redirect over), then the PDF behind it.
  const redirect = await client.GET("/api/v1/download/{session_id}", { params: { path }, redirect: "manual" });
  const pdf = await client.GET("/api/v1/download/{session_id}", { params: { path }, parseAs: "arrayBuffer" });
  const head = pdf.data ? new TextDecoder().decode(new Uint8Array(pdf.data).slice(0, 5)) : "";

  const created = await client.POST("/api/v1/knowledge", {
    body: { file: [NOTES], name: "Physics notes" },
    bodySerializer: (body) => form({ name: body.name ?? "" }, ["notes.txt", body.file[0]]),
  });
  if (!created.data) throw new Error(`knowledge: ${created.response.status} ${JSON.stringify(created.error)}`);
  const kb = await client.GET("/api/v1/knowledge/{kb_id}", {
    params: { path: { kb_id: created.data.knowledge_base_id } },
  });
  const listed = await client.GET("/api/v1/sessions", { params: { query: { limit: 100 } } });

  console.log(JSON.stringify({
    upload_status: upload.response.status,
    location: upload.response.headers.get("Location"),
    session_id,
    status: done.status,
    questions: result.data.questions.map((question) => question.number),
    answered: result.data.questions.every((question) => Boolean(question.answer?.text)),
    redirect_status: redirect.response.status,
    redirect_location: redirect.response.headers.get("Location"),
    pdf_status: pdf.response.status,
    pdf_content_type: pdf.response.headers.get("Content-Type"),
    pdf_head: head,
    knowledge_status: created.response.status,
    knowledge_base_id: kb.data?.knowledge_base_id,
    knowledge_name: kb.data?.name,
    listed: (listed.data?.sessions ?? []).some((session) => session.session_id === session_id),
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
