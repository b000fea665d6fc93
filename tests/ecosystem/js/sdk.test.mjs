// The official JS SDK (@langchain/langgraph-sdk, pinned in package.json) against a running
// server: LG_DEPLOY_URL names it, the graphs are those of ./project (tests/ecosystem/js).
// Run by tests/ecosystem/test_js_sdk.py: `node --test` with ./reporter.mjs, one pytest case
// per sdkTest() below (./harness.mjs). Each test builds its requests only through the SDK's
// Client, so what the server sees is exactly what the SDK sends.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { collect, human, sdkClient, sdkTest, sleep, words } from "./harness.mjs";

const client = sdkClient();

/** The text an AI message got over `messages` (messages-tuple) events, by message id. */
function streamedText(parts) {
  const byId = new Map();
  for (const { event, data } of parts) {
    if (event !== "messages") continue;
    const [chunk] = data;
    if (chunk.type !== "AIMessageChunk" || typeof chunk.content !== "string") continue;
    byId.set(chunk.id, (byId.get(chunk.id) ?? "") + chunk.content);
  }
  return byId;
}

async function waitForStatus(threadId, runId, wanted) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const run = await client.runs.get(threadId, runId);
    if (wanted.includes(run.status)) return run;
    assert.ok(Date.now() < deadline, `run ${runId} still ${run.status}, wanted ${wanted}`);
    await sleep(50);
  }
}

sdkTest("threads: create, get, update, search by metadata, delete", async () => {
  const tag = randomUUID();
  const a = await client.threads.create({ metadata: { suite: "ecojs", tag, n: 1 } });
  const b = await client.threads.create({ metadata: { suite: "ecojs", tag, n: 2 } });
  assert.equal(a.status, "idle");
  assert.deepEqual(a.metadata, { suite: "ecojs", tag, n: 1 });

  const got = await client.threads.get(a.thread_id);
  assert.equal(got.thread_id, a.thread_id);
  assert.deepEqual(got.metadata, a.metadata);

  const updated = await client.threads.update(a.thread_id, { metadata: { extra: true } });
  assert.deepEqual(updated.metadata, { suite: "ecojs", tag, n: 1, extra: true });

  const both = await client.threads.search({ metadata: { tag }, limit: 10 });
  assert.deepEqual(both.map((t) => t.thread_id).sort(), [a.thread_id, b.thread_id].sort());
  const second = await client.threads.search({ metadata: { tag, n: 2 } });
  assert.deepEqual(second.map((t) => t.thread_id), [b.thread_id]);
  const idle = await client.threads.search({ metadata: { tag }, status: "idle" });
  assert.equal(idle.length, 2);

  // a thread given its own id (useStream's submit({ threadId }) path)
  const ownId = randomUUID();
  const own = await client.threads.create({ threadId: ownId, metadata: { tag } });
  assert.equal(own.thread_id, ownId);
  const again = await client.threads.create({ threadId: ownId, ifExists: "do_nothing" });
  assert.equal(again.thread_id, ownId);

  await client.threads.delete(b.thread_id);
  await assert.rejects(client.threads.get(b.thread_id), (e) => e.status === 404);
});

sdkTest("threads.search: the most recently updated thread first, as a chat history lists", async () => {
  const tag = randomUUID();
  const older = await client.threads.create({ metadata: { tag } });
  const newer = await client.threads.create({ metadata: { tag } });
  await client.runs.wait(older.thread_id, "agent", { input: human("SAY continued") });
  const listed = await client.threads.search({ metadata: { tag } });
  assert.deepEqual(
    listed.map((t) => t.thread_id),
    [older.thread_id, newer.thread_id],
    "the thread just continued moves to the top",
  );
});

sdkTest("runs.stream: values, messages-tuple, updates and custom from a prebuilt agent", async () => {
  const thread = await client.threads.create();
  const parts = await collect(
    client.runs.stream(thread.thread_id, "agent", {
      input: human('CALL lookup {"topic": "durability"}\nSAY durable runs survive restarts'),
      streamMode: ["values", "messages-tuple", "updates", "custom"],
    }),
  );
  assert.equal(parts[0].event, "metadata");
  assert.ok(parts[0].data.run_id, "the metadata event names the run");
  const events = new Set(parts.map((p) => p.event));
  for (const e of ["values", "messages", "updates", "custom"]) assert.ok(events.has(e), e);
  assert.ok(!events.has("error"), JSON.stringify(parts.filter((p) => p.event === "error")));

  // custom: what the tool wrote, in order
  assert.deepEqual(
    parts.filter((p) => p.event === "custom").map((p) => p.data),
    [
      { lookup: "durability", progress: "started" },
      { lookup: "durability", progress: "done" },
    ],
  );
  // updates: the agent's nodes in order, model -> tools -> model
  const nodes = parts.filter((p) => p.event === "updates").map((p) => Object.keys(p.data)[0]);
  assert.deepEqual(nodes, ["model", "tools", "model"]);

  // messages-tuple: the tool call's chunks name the tool, the answer comes token by token
  const toolChunks = parts
    .filter((p) => p.event === "messages")
    .flatMap((p) => p.data[0].tool_call_chunks ?? []);
  assert.ok(toolChunks.some((c) => c.name === "lookup"), JSON.stringify(toolChunks));
  const texts = [...streamedText(parts).values()].filter(Boolean);
  assert.deepEqual(texts, ["durable runs survive restarts"]);
  const answerChunks = parts.filter(
    (p) => p.event === "messages" && p.data[0].type === "AIMessageChunk" && p.data[0].content,
  );
  assert.ok(answerChunks.length >= 4, `${answerChunks.length} answer chunks`);
  const [, metadata] = answerChunks[0].data;
  assert.equal(metadata.langgraph_node, "model");

  // values: the final state
  const last = parts.filter((p) => p.event === "values").at(-1).data;
  assert.deepEqual(
    last.messages.map((m) => m.type),
    ["human", "ai", "tool", "ai"],
  );
  assert.equal(last.messages[2].content, "durability is documented");
  assert.equal(last.messages[3].content, "durable runs survive restarts");
});

sdkTest("runs.wait: a tool-calling agent's final state, on a thread and stateless", async () => {
  const thread = await client.threads.create();
  const input = human('CALL add {"a": 2, "b": 3}');
  const values = await client.runs.wait(thread.thread_id, "agent", { input });
  assert.equal(values.messages.at(-2).content, "5");
  assert.equal(values.messages.at(-1).content, "Result: 5");
  const state = await client.threads.getState(thread.thread_id);
  assert.equal(state.values.messages.length, 4);
  assert.deepEqual(state.next, []);

  const stateless = await client.runs.wait(null, "agent", { input: human("SAY stateless") });
  assert.equal(stateless.messages.at(-1).content, "stateless");
});

sdkTest("threads.getState and getHistory: what useStream reads after a run", async () => {
  const thread = await client.threads.create();
  await client.runs.wait(thread.thread_id, "agent", { input: human("SAY first") });
  await client.runs.wait(thread.thread_id, "agent", { input: human("SAY second") });
  const state = await client.threads.getState(thread.thread_id);
  assert.deepEqual(
    state.values.messages.map((m) => m.content),
    ["SAY first", "first", "SAY second", "second"],
  );
  assert.ok(state.checkpoint.checkpoint_id);
  const history = await client.threads.getHistory(thread.thread_id, { limit: 10 });
  assert.ok(history.length >= 4, `${history.length} checkpoints`);
  assert.equal(history[0].checkpoint.checkpoint_id, state.checkpoint.checkpoint_id);
  const ids = history.map((h) => h.checkpoint.checkpoint_id);
  assert.equal(new Set(ids).size, ids.length, "history lists each checkpoint once");
  const runs = await client.runs.list(thread.thread_id);
  assert.equal(runs.length, 2);
  assert.ok(runs.every((r) => r.status === "success"));
});

sdkTest("streamResumable: joinStream with lastEventId resumes in the middle", async () => {
  const thread = await client.threads.create();
  const text = words(30);
  let runId;
  const controller = new AbortController();
  const first = [];
  for await (const part of client.runs.stream(thread.thread_id, "slow", {
    input: human(`SAY ${text}`),
    streamMode: ["custom", "messages-tuple"],
    streamResumable: true,
    onDisconnect: "continue",
    signal: controller.signal,
    onRunCreated: (meta) => {
      runId = meta.run_id;
    },
  })) {
    first.push(part);
    if (first.filter((p) => p.event === "custom").length === 5) break;
  }
  controller.abort();
  assert.ok(runId, "onRunCreated named the run");
  const lastEventId = first.at(-1).id;
  assert.ok(lastEventId, "resumable stream parts carry an id");

  // the run goes on without a client
  const run = await client.runs.get(thread.thread_id, runId);
  assert.ok(["pending", "running"].includes(run.status), run.status);

  const rest = await collect(client.runs.joinStream(thread.thread_id, runId, { lastEventId }));
  assert.ok(rest.length > 0, "joined the running run");
  const tokens = [...first, ...rest].filter((p) => p.event === "custom").map((p) => p.data.token);
  assert.deepEqual(
    tokens,
    Array.from({ length: 30 }, (_, i) => i),
    "every token exactly once, none lost and none repeated at the seam",
  );
  const ids = rest.map((p) => p.id).filter(Boolean);
  assert.ok(!ids.includes(lastEventId), "nothing before lastEventId again");
  assert.equal([...streamedText([...first, ...rest]).values()].join(""), text);
  assert.equal((await waitForStatus(thread.thread_id, runId, ["success"])).status, "success");

  // after the run: joining from the same id replays the same rest, then ends
  const replay = await collect(client.runs.joinStream(thread.thread_id, runId, { lastEventId }));
  assert.deepEqual(
    replay.filter((p) => p.event === "custom").map((p) => p.data.token),
    rest.filter((p) => p.event === "custom").map((p) => p.data.token),
  );
});

sdkTest("interrupt: a HITL agent stops, the thread shows it, command resume finishes", async () => {
  const thread = await client.threads.create();
  const input = human('CALL refund {"order": "A-1", "amount": 5}\nSAY refund done');
  const parts = await collect(
    client.runs.stream(thread.thread_id, "approval", { input, streamMode: ["values", "updates"] }),
  );
  const interrupted = parts.filter((p) => p.event === "values").at(-1).data;
  assert.ok(Array.isArray(interrupted.__interrupt__), JSON.stringify(interrupted));
  const [request] = interrupted.__interrupt__;
  assert.ok(request.id, "an interrupt has an id");
  assert.deepEqual(request.value.action_requests.map((a) => [a.name, a.args]), [
    ["refund", { order: "A-1", amount: 5 }],
  ]);
  assert.ok(parts.some((p) => p.event === "updates" && "__interrupt__" in p.data));

  const paused = await client.threads.get(thread.thread_id);
  assert.equal(paused.status, "interrupted");
  assert.deepEqual(Object.keys(paused.interrupts).length, 1);
  const state = await client.threads.getState(thread.thread_id);
  assert.equal(state.tasks[0].interrupts[0].id, request.id);

  const resumed = await collect(
    client.runs.stream(thread.thread_id, "approval", {
      command: { resume: { decisions: [{ type: "approve" }] } },
      streamMode: ["values"],
    }),
  );
  const done = resumed.filter((p) => p.event === "values").at(-1).data;
  assert.equal(done.__interrupt__, undefined);
  assert.deepEqual(
    done.messages.slice(-2).map((m) => m.content),
    ["refunded 5.00 on A-1", "refund done"],
  );
  assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
});

sdkTest("interrupt: runs.wait returns the interrupt, a rejecting resume skips the tool", async () => {
  const thread = await client.threads.create();
  const input = human('CALL refund {"order": "B-2", "amount": 7}\nSAY not refunded');
  const waited = await client.runs.wait(thread.thread_id, "approval", { input });
  assert.equal(waited.__interrupt__[0].value.action_requests[0].name, "refund");
  const rejected = await client.runs.wait(thread.thread_id, "approval", {
    command: { resume: { decisions: [{ type: "reject", message: "no refunds today" }] } },
  });
  const tool = rejected.messages.find((m) => m.type === "tool");
  assert.match(tool.content, /no refunds today/);
  assert.equal(rejected.messages.at(-1).content, "not refunded");
});

sdkTest("interrupt: agent-chat-ui's 'Mark as resolved' (input {} beside command goto END)", async () => {
  // useStream's submit({}, { command: { goto: END } }) sends exactly this body
  const thread = await client.threads.create();
  const input = human('CALL refund {"order": "C-3", "amount": 1}\nSAY never said');
  await client.runs.wait(thread.thread_id, "approval", { input });
  const parts = await collect(
    client.runs.stream(thread.thread_id, "approval", {
      input: {},
      command: { goto: "__end__" },
      streamMode: ["values"],
    }),
  );
  assert.ok(!parts.some((p) => p.event === "error"), JSON.stringify(parts.at(-1)));
  const runs = await client.runs.list(thread.thread_id);
  assert.deepEqual(
    runs.map((r) => r.status),
    ["success", "success"],
  );
});

sdkTest("runs.cancel: a running run stops, the thread takes the next run", async () => {
  const thread = await client.threads.create();
  const run = await client.runs.create(thread.thread_id, "slow", {
    input: human(`SAY ${words(200)}`),
  });
  await waitForStatus(thread.thread_id, run.run_id, ["running"]);
  await client.runs.cancel(thread.thread_id, run.run_id, true);
  const cancelled = await client.runs.get(thread.thread_id, run.run_id);
  assert.equal(cancelled.status, "interrupted");
  // as the official server: a cancelled run leaves its thread interrupted, not busy
  assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");

  const next = await client.runs.wait(thread.thread_id, "slow", { input: human("SAY after") });
  assert.equal(next.messages.at(-1).content, "after");
});
