// Custom auth through the official JS SDK: the docs' tutorial part 2, "Adding scoped
// authorization handlers", served unchanged (tests/auth/project/scoped.json and scoped.py:
// part 1's handler kept, @auth.on.threads.create and .read more specific than it,
// @auth.on.assistants refusing every assistant action), each user a Client with the token in
// defaultHeaders. Run by tests/ecosystem/test_js_auth.py against lg-deploy dev on it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { bearerClient, collect, refused, sdkTest } from "./harness.mjs";

const alice = bearerClient("user1-token");
const bob = bearerClient("user2-token");

sdkTest("threads: the scoped handlers add the owner and hide other users' threads", async () => {
  const thread = await alice.threads.create();
  assert.deepEqual(thread.metadata, { owner: "user1" });
  await assert.rejects(bob.threads.get(thread.thread_id), refused(404));
  await assert.rejects(
    collect(bob.runs.stream(thread.thread_id, "whoami", { input: {} })),
    refused(404),
  );
  const own = await alice.threads.search({ limit: 1000 });
  assert.ok(own.some((t) => t.thread_id === thread.thread_id));
  assert.ok(own.every((t) => t.metadata.owner === "user1"), JSON.stringify(own));
  const theirs = await bob.threads.search({ limit: 1000 });
  assert.ok(!theirs.some((t) => t.thread_id === thread.thread_id));
});

sdkTest("assistants: every action is the handler's 403 with its detail", async () => {
  const denied = refused(403, /^User lacks the required permissions\.$/);
  await assert.rejects(alice.assistants.create({ graphId: "whoami" }), denied);
  await assert.rejects(alice.assistants.search(), denied);
  await assert.rejects(alice.assistants.get(randomUUID()), denied);
  await assert.rejects(bob.assistants.delete(randomUUID()), denied);
});
