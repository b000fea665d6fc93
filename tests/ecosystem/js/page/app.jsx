// A small chat page on useStream (@langchain/langgraph-sdk/react), driven by
// tests/ecosystem/test_use_stream.py in headless Chromium. It talks to the server as a chat
// UI does (agent-chat-ui's shapes: a human message with text parts, streamResumable, the
// thread id kept in the URL, resume through submit(..., { command: { resume } })).
//
// Query string: api (server URL, another origin: CORS), assistant (graph id), threadId (kept
// up to date by the page, so a reload stays on the thread), resumeInput ("empty" sends
// submit({}, ...) as agent-chat-ui does; "none" sends submit(undefined, ...)), and the
// credentials a chat UI hands useStream: apiKey (sent as x-api-key) and bearer (defaultHeaders
// with Authorization: Bearer <bearer>).
//
// What the test reads: #status ("loading" | "idle"), #thread, #messages li (data-type),
// #interrupt (the interrupt's JSON; buttons #approve, #reject), #error, and
// window.__aiTexts: each distinct text the last AI message showed, in order.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useStream } from "@langchain/langgraph-sdk/react";

const params = new URLSearchParams(window.location.search);
const RESUME_INPUT = { empty: {}, none: undefined }[params.get("resumeInput") ?? "empty"];
const API_KEY = params.get("apiKey") ?? undefined;
// made once: useStream makes a new Client whenever defaultHeaders is another object
const DEFAULT_HEADERS = params.has("bearer")
  ? { Authorization: `Bearer ${params.get("bearer")}` }
  : undefined;
window.__aiTexts = [];

function textOf(message) {
  if (typeof message.content === "string") return message.content;
  return message.content.map((part) => part.text ?? "").join("");
}

function keepThreadInUrl(threadId) {
  const next = new URLSearchParams(window.location.search);
  next.set("threadId", threadId);
  window.history.replaceState(null, "", `?${next}`);
}

function Chat() {
  const [threadId, setThreadId] = useState(params.get("threadId"));
  const [draft, setDraft] = useState("");
  const stream = useStream({
    apiUrl: params.get("api"),
    apiKey: API_KEY,
    defaultHeaders: DEFAULT_HEADERS,
    assistantId: params.get("assistant"),
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      keepThreadInUrl(id);
    },
    reconnectOnMount: true,
    fetchStateHistory: true,
  });
  const messages = stream.messages;
  const lastAi = messages.findLast((m) => m.type === "ai");
  const aiText = lastAi ? textOf(lastAi) : "";

  useEffect(() => {
    if (aiText && window.__aiTexts.at(-1) !== aiText) window.__aiTexts.push(aiText);
  }, [aiText]);

  const send = (event) => {
    event.preventDefault();
    const message = {
      id: crypto.randomUUID(),
      type: "human",
      content: [{ type: "text", text: draft }],
    };
    stream.submit(
      { messages: [message] },
      {
        streamMode: ["values"],
        streamSubgraphs: true,
        streamResumable: true,
        optimisticValues: (prev) => ({ ...prev, messages: [...(prev.messages ?? []), message] }),
      },
    );
    setDraft("");
  };
  const decide = (decision) =>
    stream.submit(RESUME_INPUT, {
      command: { resume: { decisions: [decision] } },
      streamMode: ["values"],
      streamSubgraphs: true,
      streamResumable: true,
    });

  return (
    <main>
      <p>
        thread <span id="thread">{threadId ?? ""}</span> ·{" "}
        <span id="status">{stream.isLoading ? "loading" : "idle"}</span>
      </p>
      <ul id="messages">
        {messages.map((m, i) => (
          <li key={m.id ?? i} data-type={m.type}>
            {textOf(m)}
          </li>
        ))}
      </ul>
      {stream.interrupt && !stream.isLoading && (
        <div id="interrupt">
          <pre>{JSON.stringify(stream.interrupt.value)}</pre>
          <button id="approve" type="button" onClick={() => decide({ type: "approve" })}>
            Approve
          </button>
          <button
            id="reject"
            type="button"
            onClick={() => decide({ type: "reject", message: "rejected in the page" })}
          >
            Reject
          </button>
        </div>
      )}
      <p id="error">{stream.error ? String(stream.error.message ?? stream.error) : ""}</p>
      <form onSubmit={send}>
        <textarea id="draft" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button id="send" type="submit" disabled={stream.isLoading || !draft}>
          Send
        </button>
      </form>
    </main>
  );
}

createRoot(document.getElementById("root")).render(<Chat />);
