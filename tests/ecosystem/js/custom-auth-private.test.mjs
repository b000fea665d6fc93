// Custom auth (langgraph.json auth.path) through the official JS SDK: the docs' "Make
// conversations private" tutorial served unchanged (tests/auth/project/langgraph.json and
// private.py: Bearer tokens user1-token and user2-token, every resource its creator's), each
// user a Client with the token in defaultHeaders, as the tutorial's clients send it.
// Run by tests/ecosystem/test_js_auth.py against lg-deploy dev on that project (its other
// projects: custom-auth-scoped.test.mjs, custom-auth-permissions.test.mjs).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { bearerClient, collect, ids, refused, sdkClient, sdkTest } from "./harness.mjs";

const alice = bearerClient("user1-token");
const bob = bearerClient("user2-token");

sdkTest("a user's Bearer token: the thread created gets the user as its owner", async () => {
  const topic = randomUUID();
  const thread = await alice.threads.create({ metadata: { topic } });
  assert.deepEqual(thread.metadata, { topic, owner: "user1" });
  assert.deepEqual((await alice.threads.get(thread.thread_id)).metadata, { topic, owner: "user1" });
});

sdkTest("runs.stream: the graph sees the token's user, the run gets its owner", async () => {
  const thread = await alice.threads.create();
  const parts = await collect(
    alice.runs.stream(thread.thread_id, "whoami", { input: {}, streamMode: ["values"] }),
  );
  assert.ok(!parts.some((p) => p.event === "error"), JSON.stringify(parts.at(-1)));
  const { seen } = parts.filter((p) => p.event === "values").at(-1).data;
  assert.equal(seen.langgraph_auth_user_id, "user1");
  assert.equal(seen.user.identity, "user1");
  const runs = await alice.runs.list(thread.thread_id);
  assert.deepEqual(
    runs.map((r) => [r.status, r.metadata.owner]),
    [["success", "user1"]],
  );
  const joined = await alice.runs.join(thread.thread_id, runs[0].run_id);
  assert.equal(joined.seen.langgraph_auth_user_id, "user1");
});

sdkTest("another user's thread is 404: read, state, update, its runs, delete", async () => {
  const topic = randomUUID();
  const thread = await alice.threads.create({ metadata: { topic } });
  const threadId = thread.thread_id;
  await alice.runs.wait(threadId, "whoami", { input: {} });
  const [run] = await alice.runs.list(threadId);
  const attempts = {
    "threads.get": () => bob.threads.get(threadId),
    "threads.getState": () => bob.threads.getState(threadId),
    "threads.getHistory": () => bob.threads.getHistory(threadId),
    "threads.update": () => bob.threads.update(threadId, { metadata: { topic: "bob's" } }),
    "runs.list": () => bob.runs.list(threadId),
    "runs.get": () => bob.runs.get(threadId, run.run_id),
    "runs.cancel": () => bob.runs.cancel(threadId, run.run_id),
    "runs.wait": () => bob.runs.wait(threadId, "whoami", { input: {} }),
    "runs.stream": () => collect(bob.runs.stream(threadId, "whoami", { input: {} })),
    "threads.delete": () => bob.threads.delete(threadId),
  };
  for (const [what, attempt] of Object.entries(attempts)) {
    await assert.rejects(attempt(), refused(404), what);
  }
  // joining the run reveals nothing of it: /join is 404 (the thread is checked first, as
  // officially); a join stream ends with one error event
  await assert.rejects(bob.runs.join(threadId, run.run_id), refused(404), "runs.join");
  const streamed = await collect(bob.runs.joinStream(threadId, run.run_id));
  assert.deepEqual(streamed.map((p) => p.event), ["error"]);

  assert.deepEqual((await alice.threads.get(threadId)).metadata.topic, topic);
  assert.deepEqual(
    (await alice.runs.list(threadId)).map((r) => r.run_id),
    [run.run_id],
    "bob made no run",
  );
});

sdkTest("search and count: each user sees only their own threads", async () => {
  const topic = randomUUID();
  const mine = await alice.threads.create({ metadata: { topic } });
  const theirs = await bob.threads.create({ metadata: { topic } });
  assert.deepEqual(ids(await alice.threads.search({ metadata: { topic } })), [mine.thread_id]);
  assert.deepEqual(ids(await bob.threads.search({ metadata: { topic } })), [theirs.thread_id]);
  assert.equal(await alice.threads.count({ metadata: { topic } }), 1);
  assert.ok((await bob.threads.search({ limit: 1000 })).every((t) => t.metadata.owner === "user2"));
});

sdkTest("assistants: a user's assistant gets its owner and is 404 for another user", async () => {
  const team = randomUUID();
  const assistant = await alice.assistants.create({ graphId: "whoami", metadata: { team } });
  assert.deepEqual(assistant.metadata, { team, owner: "user1" });
  assert.deepEqual(
    ids(await alice.assistants.search({ metadata: { team } }), "assistant_id"),
    [assistant.assistant_id],
  );
  assert.deepEqual(await bob.assistants.search({ metadata: { team } }), []);
  await assert.rejects(bob.assistants.get(assistant.assistant_id), refused(404));
});

sdkTest("no Authorization header, an unknown token or only an apiKey: 401", async () => {
  const strangers = {
    "no header": sdkClient({ apiKey: null }),
    "unknown token": bearerClient("nobody-token"),
    // custom auth replaces the built-in keys: x-api-key is not what private.py reads
    "apiKey only": sdkClient({ apiKey: "user1-token" }),
  };
  for (const [who, client] of Object.entries(strangers)) {
    await assert.rejects(client.threads.create(), refused(401), who);
    await assert.rejects(client.threads.search(), refused(401), who);
    await assert.rejects(
      collect(client.runs.stream(null, "whoami", { input: {} })),
      refused(401),
      who,
    );
  }
  const unknown = bearerClient("nobody-token");
  await assert.rejects(unknown.threads.search(), refused(401, /^Invalid token$/));
});
