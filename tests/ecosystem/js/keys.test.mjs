// Built-in API keys, tenants and roles through the official JS SDK: each client is the SDK's
// Client with only its own credential options (apiKey, sent as x-api-key; defaultHeaders with
// Authorization: Bearer; the LANGGRAPH_API_KEY environment variable).
// Run by tests/ecosystem/test_js_auth.py against a keyed lg-deploy dev on the graphs of
// ./project: LG_DEPLOY_KEYS is {"a", "a_developer2": developers of tenant acme, "a_operator":
// its operator, "a_viewer": its viewer, "b": developer of tenant globex}, made by `lg-deploy
// tenants create` and `keys create` (tests/ecosystem/js/support.py KEYS).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  bearerClient,
  collect,
  human,
  ids,
  refused,
  sdkClient,
  sdkTest,
  words,
} from "./harness.mjs";

const KEYS = JSON.parse(process.env.LG_DEPLOY_KEYS ?? "{}");
for (const who of ["a", "a_developer2", "a_operator", "a_viewer", "b"]) {
  assert.ok(KEYS[who], `LG_DEPLOY_KEYS.${who}`);
}

const acme = sdkClient({ apiKey: KEYS.a });
const acmeViewer = sdkClient({ apiKey: KEYS.a_viewer });
const globex = sdkClient({ apiKey: KEYS.b });
const lastMessage = (values) => values.messages.at(-1).content;

sdkTest("apiKey: a tenant's developer creates a thread, streams a run and joins one", async () => {
  const thread = await acme.threads.create({ metadata: { tag: randomUUID() } });
  const parts = await collect(
    acme.runs.stream(thread.thread_id, "agent", {
      input: human("SAY hello acme"),
      streamMode: ["values", "messages-tuple"],
    }),
  );
  assert.ok(!parts.some((p) => p.event === "error"), JSON.stringify(parts.at(-1)));
  assert.ok(parts.some((p) => p.event === "messages"), "tokens streamed");
  assert.equal(lastMessage(parts.filter((p) => p.event === "values").at(-1).data), "hello acme");

  const run = await acme.runs.create(thread.thread_id, "slow", {
    input: human(`SAY ${words(10)}`),
    streamMode: ["custom"],
    streamResumable: true,
  });
  const joined = await collect(
    acme.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }),
  );
  assert.deepEqual(
    joined.filter((p) => p.event === "custom").map((p) => p.data.token),
    Array.from({ length: 10 }, (_, i) => i),
  );
  assert.equal(lastMessage(await acme.runs.join(thread.thread_id, run.run_id)), words(10));
  assert.deepEqual(
    (await acme.runs.list(thread.thread_id)).map((r) => r.status),
    ["success", "success"],
  );
});

sdkTest("LANGGRAPH_API_KEY: a Client given no apiKey sends the environment's key", async () => {
  process.env.LANGGRAPH_API_KEY = KEYS.a;
  let fromEnv;
  try {
    fromEnv = sdkClient();
  } finally {
    delete process.env.LANGGRAPH_API_KEY;
  }
  const thread = await fromEnv.threads.create();
  assert.equal((await acme.threads.get(thread.thread_id)).thread_id, thread.thread_id);
  await assert.rejects(globex.threads.get(thread.thread_id), refused(404));
});

sdkTest("no key, a wrong key or a wrong Bearer: 401 with a detail and WWW-Authenticate", async () => {
  const strangers = {
    "no key": sdkClient({ apiKey: null }),
    "wrong key": sdkClient({ apiKey: `${KEYS.a}x` }),
    "wrong bearer": bearerClient("lgd_no"),
  };
  const tag = randomUUID();
  for (const [who, client] of Object.entries(strangers)) {
    const unauthorized = (error) => {
      refused(401)(error);
      assert.match(error.response.headers.get("www-authenticate"), /^Bearer/, who);
      return true;
    };
    await assert.rejects(client.threads.create({ metadata: { tag } }), unauthorized, who);
    await assert.rejects(client.threads.search(), unauthorized, who);
    await assert.rejects(client.assistants.search(), unauthorized, who);
    await assert.rejects(
      collect(client.runs.stream(null, "agent", { input: human("SAY never") })),
      unauthorized,
      who,
    );
    await assert.rejects(client.store.searchItems(["notes"]), unauthorized, who);
  }
  assert.deepEqual(await acme.threads.search({ metadata: { tag } }), [], "nothing was created");
});

sdkTest("a viewer key reads its tenant's threads; creating, running or deleting is 403", async () => {
  const tag = randomUUID();
  const thread = await acme.threads.create({ metadata: { tag } });
  assert.equal((await acmeViewer.threads.get(thread.thread_id)).thread_id, thread.thread_id);
  assert.deepEqual(ids(await acmeViewer.threads.search({ metadata: { tag } })), [thread.thread_id]);
  assert.ok(await acmeViewer.threads.getState(thread.thread_id));

  await assert.rejects(acmeViewer.threads.create({ metadata: { tag } }), refused(403, /viewer/));
  await assert.rejects(
    collect(acmeViewer.runs.stream(thread.thread_id, "agent", { input: human("SAY no") })),
    refused(403),
  );
  await assert.rejects(
    acmeViewer.runs.wait(thread.thread_id, "agent", { input: human("SAY no") }),
    refused(403),
  );
  await assert.rejects(
    acmeViewer.threads.update(thread.thread_id, { metadata: { x: 1 } }),
    refused(403),
  );
  await assert.rejects(acmeViewer.threads.delete(thread.thread_id), refused(403));
  await assert.rejects(acmeViewer.store.putItem(["notes"], "k", { v: 1 }), refused(403));

  const unchanged = await acme.threads.get(thread.thread_id);
  assert.deepEqual(unchanged.metadata, { tag });
  assert.deepEqual(await acme.runs.list(thread.thread_id), []);
  assert.deepEqual(await acme.threads.search({ metadata: { tag } }).then(ids), [thread.thread_id]);
});

sdkTest("tenant B: A's ids are 404, its searches list none of A's", async () => {
  const tag = randomUUID();
  const thread = await acme.threads.create({ metadata: { tag } });
  const threadId = thread.thread_id;
  const run = await acme.runs.create(threadId, "slow", {
    input: human(`SAY ${words(20)}`),
    streamResumable: true,
  });
  const runId = run.run_id;

  const attempts = {
    "threads.get": () => globex.threads.get(threadId),
    "threads.getState": () => globex.threads.getState(threadId),
    "threads.getHistory": () => globex.threads.getHistory(threadId),
    "threads.update": () => globex.threads.update(threadId, { metadata: { tag: "globex" } }),
    "threads.updateState": () => globex.threads.updateState(threadId, { values: {} }),
    "runs.get": () => globex.runs.get(threadId, runId),
    "runs.list": () => globex.runs.list(threadId),
    "runs.cancel": () => globex.runs.cancel(threadId, runId),
    "runs.create": () => globex.runs.create(threadId, "agent", { input: human("SAY no") }),
    "runs.stream": () => collect(globex.runs.stream(threadId, "agent", { input: human("SAY no") })),
    "threads.delete": () => globex.threads.delete(threadId),
  };
  for (const [what, attempt] of Object.entries(attempts)) {
    await assert.rejects(attempt(), refused(404), what);
  }
  // joining a run of a thread it cannot see is 404, as for a thread that does not exist (an
  // authenticated caller's thread is checked first, as the official server does with auth);
  // a join stream ends with the error event of a run that does not exist
  const missing = randomUUID();
  await assert.rejects(globex.runs.join(threadId, runId), refused(404), "runs.join");
  await assert.rejects(globex.runs.join(missing, missing), refused(404), "runs.join: none");
  const joined = await collect(globex.runs.joinStream(threadId, runId, { lastEventId: "-1" }));
  assert.deepEqual(joined, await collect(globex.runs.joinStream(threadId, missing)));
  assert.deepEqual(joined.map((p) => p.event), ["error"]);
  assert.deepEqual(await globex.threads.search({ metadata: { tag } }), []);
  assert.equal(await globex.threads.count({ metadata: { tag } }), 0);
  assert.ok(!ids(await globex.threads.search({ limit: 1000 })).includes(threadId));
  // thread ids are global: B cannot take A's, nor get A's thread back by asking for it
  await assert.rejects(globex.threads.create({ threadId, ifExists: "do_nothing" }), refused(409));

  // A's thread and run went on untouched
  const done = await acme.runs.join(threadId, runId);
  assert.equal(lastMessage(done), words(20));
  assert.equal((await acme.runs.get(threadId, runId)).status, "success");
  assert.equal((await acme.threads.get(threadId)).metadata.tag, tag, "B changed nothing");
  assert.equal(await acme.threads.count({ metadata: { tag } }), 1);
});

sdkTest("tenants' simultaneous getState of one thread are not answered as one", async () => {
  // the SDK coalesces identical in-flight reads, keyed by every header: the credential too
  const thread = await acme.threads.create();
  await acme.runs.wait(thread.thread_id, "agent", { input: human("SAY only acme") });
  const [mine, theirs] = await Promise.allSettled([
    acme.threads.getState(thread.thread_id),
    globex.threads.getState(thread.thread_id),
  ]);
  assert.equal(mine.status, "fulfilled", String(mine.reason));
  assert.equal(lastMessage(mine.value.values), "only acme");
  assert.equal(theirs.status, "rejected");
  assert.ok(refused(404)(theirs.reason));
});

sdkTest("cancel: a developer cancels its own runs, an operator anyone's in the tenant", async () => {
  const colleague = sdkClient({ apiKey: KEYS.a_developer2 });
  const operator = sdkClient({ apiKey: KEYS.a_operator });
  const thread = await acme.threads.create();
  const start = () =>
    acme.runs.create(thread.thread_id, "slow", { input: human(`SAY ${words(200)}`) });
  const status = async (run) => (await acme.runs.get(thread.thread_id, run.run_id)).status;

  const first = await start();
  await assert.rejects(
    colleague.runs.cancel(thread.thread_id, first.run_id),
    refused(403, /operator/),
  );
  assert.ok(["pending", "running"].includes(await status(first)), "the refusal changed nothing");
  await operator.runs.cancel(thread.thread_id, first.run_id, true);
  assert.equal(await status(first), "interrupted");

  const second = await start();
  await acme.runs.cancel(thread.thread_id, second.run_id, true);
  assert.equal(await status(second), "interrupted");
});

sdkTest("Authorization: Bearer in defaultHeaders is the same credential as apiKey", async () => {
  const acmeBearer = bearerClient(KEYS.a);
  const tag = randomUUID();
  const thread = await acmeBearer.threads.create({ metadata: { tag } });
  const parts = await collect(
    acmeBearer.runs.stream(thread.thread_id, "agent", {
      input: human("SAY by bearer"),
      streamMode: ["values"],
    }),
  );
  assert.equal(lastMessage(parts.at(-1).data), "by bearer");
  assert.deepEqual(ids(await acme.threads.search({ metadata: { tag } })), [thread.thread_id]);
  assert.equal(lastMessage((await acme.threads.getState(thread.thread_id)).values), "by bearer");
  await assert.rejects(bearerClient(KEYS.b).threads.get(thread.thread_id), refused(404));
  await assert.rejects(bearerClient(KEYS.a_viewer).threads.create(), refused(403));
});

sdkTest("assistants: A's are 404 for B and not in B's search; the graphs' are everyone's", async () => {
  const tag = randomUUID();
  const assistant = await acme.assistants.create({ graphId: "agent", metadata: { tag } });
  assert.deepEqual(
    ids(await acme.assistants.search({ metadata: { tag } }), "assistant_id"),
    [assistant.assistant_id],
  );
  assert.deepEqual(await globex.assistants.search({ metadata: { tag } }), []);
  await assert.rejects(globex.assistants.get(assistant.assistant_id), refused(404));
  await assert.rejects(
    globex.runs.wait(null, assistant.assistant_id, { input: human("SAY no") }),
    refused(404),
  );
  await assert.rejects(globex.assistants.delete(assistant.assistant_id), refused(404));
  // the system assistant of each graph is shared, and each tenant runs it on its own
  const graphs = async (client) =>
    (await client.assistants.search({ metadata: { created_by: "system" } })).map((a) => a.graph_id);
  assert.deepEqual((await graphs(acme)).sort(), (await graphs(globex)).sort());
  const values = await globex.runs.wait(null, "agent", { input: human("SAY globex too") });
  assert.equal(lastMessage(values), "globex too");
  const kept = await acme.assistants.get(assistant.assistant_id);
  assert.equal(kept.assistant_id, assistant.assistant_id);
});

sdkTest("store: the same namespace and key are a different item in each tenant", async () => {
  const namespace = ["notes", randomUUID()];
  await acme.store.putItem(namespace, "plan", { by: "acme" });
  assert.equal(await globex.store.getItem(namespace, "plan"), null);
  assert.deepEqual((await globex.store.searchItems(namespace)).items, []);
  await globex.store.putItem(namespace, "plan", { by: "globex" });
  assert.deepEqual((await acme.store.getItem(namespace, "plan")).value, { by: "acme" });
  assert.deepEqual((await globex.store.getItem(namespace, "plan")).value, { by: "globex" });
  assert.deepEqual(
    (await acmeViewer.store.searchItems(namespace)).items.map((item) => item.value),
    [{ by: "acme" }],
  );
  await globex.store.deleteItem(namespace, "plan");
  assert.deepEqual((await acme.store.getItem(namespace, "plan")).value, { by: "acme" });
});
