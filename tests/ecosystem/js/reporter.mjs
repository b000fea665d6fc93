// A node:test reporter writing one JSON line per finished top-level test:
// {"name", "ok", "skipped", "duration_ms", "error"} (error: the failure's stack, or null).
// tests/ecosystem/test_js_sdk.py reads these lines to report each case on its own.
export default async function* jsonLines(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    if (event.data.nesting !== 0) continue;
    const { name, details } = event.data;
    const failure = details.error?.cause ?? details.error;
    yield `${JSON.stringify({
      name,
      ok: event.type === "test:pass",
      skipped: Boolean(event.data.skip),
      duration_ms: details.duration_ms,
      error: failure ? String(failure.stack ?? failure) : null,
    })}\n`;
  }
}
