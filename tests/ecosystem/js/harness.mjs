// What every node test file here shares: the server's URL (LG_DEPLOY_URL), official SDK
// clients that record every non-2xx exchange, and sdkTest(): a top-level test (one pytest case
// each, through ./reporter.mjs) whose failure lists the non-2xx exchanges it caused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "@langchain/langgraph-sdk";

export const URL_ = process.env.LG_DEPLOY_URL;
assert.ok(URL_, "LG_DEPLOY_URL must name the server");

// Every request an SDK client sends and, when it is not 2xx, the answer: shown with a failure.
const failedExchanges = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  if (!response.ok) {
    const answer = await response.clone().text();
    failedExchanges.push(
      `${init?.method ?? "GET"} ${input} ${init?.body ?? ""}\n  -> ${response.status} ${answer}`,
    );
  }
  return response;
}

/**
 * The official Client on the server, built only from the SDK's own options (apiKey,
 * defaultHeaders…), with no retries: a 5xx must show, not be hidden by a second try.
 */
export function sdkClient(options = {}) {
  return new Client({
    apiUrl: URL_,
    ...options,
    callerOptions: { maxRetries: 0, fetch: recordingFetch },
  });
}

/** A Client sending `Authorization: Bearer <token>` (defaultHeaders) and no x-api-key. */
export const bearerClient = (token) =>
  sdkClient({ apiKey: null, defaultHeaders: { Authorization: `Bearer ${token}` } });

/** A top-level test whose failure also lists the non-2xx exchanges it caused. */
export function sdkTest(name, fn) {
  test(name, { timeout: 60_000 }, async () => {
    const before = failedExchanges.length;
    try {
      await fn();
    } catch (error) {
      const seen = failedExchanges.slice(before);
      if (seen.length) error.message += `\nnon-2xx answers:\n${seen.join("\n")}`;
      throw error;
    }
  });
}

export const human = (content) => ({ messages: [{ role: "user", content }] });
export const words = (n) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The sorted ids of a search's items (`field`: thread_id, assistant_id…). */
export const ids = (items, field = "thread_id") => items.map((item) => item[field]).sort();

export async function collect(stream) {
  const parts = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/**
 * A check for assert.rejects: the SDK's HTTPError with `status` and a JSON body whose string
 * `detail` matches `detail` (a RegExp; any when left out).
 */
export function refused(status, detail = /./) {
  return (error) => {
    assert.equal(error.status, status, String(error));
    const body = JSON.parse(error.text);
    assert.equal(typeof body.detail, "string", error.text);
    assert.match(body.detail, detail);
    return true;
  };
}
