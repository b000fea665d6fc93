// Custom auth through the official JS SDK: the docs' permission-based access served unchanged
// (tests/auth/project/permissions.json and permissions.py: deny by default, threads by
// permission, runs owned by their creator, store namespaces per user; tokens writer-token,
// reader-token, locked-token), each user a Client with the token in defaultHeaders.
// Run by tests/ecosystem/test_js_auth.py against lg-deploy dev on it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { bearerClient, collect, refused, sdkClient, sdkTest } from "./harness.mjs";

const writer = bearerClient("writer-token");
const reader = bearerClient("reader-token");

sdkTest("threads by permission: the writer creates (owner added), the reader may not", async () => {
  const topic = randomUUID();
  const thread = await writer.threads.create({ metadata: { topic } });
  assert.deepEqual(thread.metadata, { topic, owner: "writer" });
  assert.deepEqual((await writer.threads.get(thread.thread_id)).metadata.owner, "writer");
  await assert.rejects(reader.threads.create(), refused(403, /^Unauthorized$/));
  await assert.rejects(reader.threads.get(thread.thread_id), refused(404));
});

sdkTest("deny by default: what no specific handler allows is 403", async () => {
  const thread = await writer.threads.create();
  const forbidden = refused(403, /^Forbidden$/);
  await assert.rejects(writer.threads.search(), forbidden);
  await assert.rejects(
    writer.threads.update(thread.thread_id, { metadata: { x: 1 } }),
    forbidden,
  );
  await assert.rejects(writer.assistants.search(), forbidden);
  await assert.rejects(writer.crons.search(), forbidden);
});

sdkTest("a streamed run: the graph sees the user's permissions and extra fields", async () => {
  const thread = await writer.threads.create();
  const parts = await collect(
    writer.runs.stream(thread.thread_id, "whoami", { input: {}, streamMode: ["values"] }),
  );
  const { seen } = parts.filter((p) => p.event === "values").at(-1).data;
  assert.equal(seen.langgraph_auth_user_id, "writer");
  assert.deepEqual(seen.langgraph_auth_permissions, ["threads:write", "threads:read"]);
  assert.equal(seen.attributes.org_id, "org-456");
  assert.equal(seen.attributes.display_name, "Wanda Writer");
});

sdkTest("store: each user's namespaces are under their identity", async () => {
  const key = randomUUID();
  await writer.store.putItem(["memories"], key, { v: 1 });
  const item = await writer.store.getItem(["memories"], key);
  assert.deepEqual([item.namespace, item.value], [["writer", "memories"], { v: 1 }]);
  assert.equal(await reader.store.getItem(["memories"], key), null);
  const found = await writer.store.searchItems(["memories"]);
  assert.ok(found.items.some((i) => i.key === key));
  assert.ok(found.items.every((i) => i.namespace[0] === "writer"), JSON.stringify(found));
  assert.deepEqual((await reader.store.searchItems(["memories"])).items, []);
});

sdkTest("authenticate's refusals: 401 'Missing token', 429 with Retry-After", async () => {
  const noToken = sdkClient({ apiKey: null });
  await assert.rejects(noToken.threads.create(), (error) => {
    refused(401, /^Missing token$/)(error);
    // the handler's headers are kept (the official server drops them: tests/auth/
    // test_official_parity.py lists it)
    assert.equal(error.response.headers.get("www-authenticate"), "Bearer");
    return true;
  });
  await assert.rejects(bearerClient("locked-token").threads.create(), (error) => {
    refused(429, /^Too many attempts$/)(error);
    assert.equal(error.response.headers.get("retry-after"), "30");
    return true;
  });
  await assert.rejects(bearerClient("nobody-token").threads.create(), refused(401));
});
