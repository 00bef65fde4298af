import { assert, assertEquals, assertGreater, assertNotEquals } from "@std/assert";
import {
  AnswerBatches,
  isAnswerEventId,
  MAX_ANSWERS,
  MAX_BATCHED_ANSWER_BYTES,
  replayAnswer,
} from "../../../mcp/cluster/answer_batches.ts";
import { isPostEventId } from "../../../mcp/cluster/post_streams.ts";
import { KvWriteBehind } from "../../../lib/kv_write_behind.ts";
import { sharedKv } from "../../helpers/kv.ts";

const TTL_MS = 60_000;

async function records(kv: Deno.Kv): Promise<number> {
  return (await Array.fromAsync(kv.list({ prefix: ["mcp", "answer_batch"] }))).length;
}

async function replayed(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("answers given together are kept in one KV record, and each resumes to its own", async () => {
  await using kv = await sharedKv();
  const store = new KvWriteBehind(kv.a);
  const batches = new AnswerBatches(store, TTL_MS);
  const names = Array.from({ length: 50 }, (_, i) => batches.add("sess-1", `{"id":${i}}`)!);
  await batches.flush();
  assertEquals(await records(kv.a), 1, "50 answers, one record");
  // Read back on the other instance, as a client resuming elsewhere would.
  for (const i of [0, 17, 49]) {
    const stream = await replayAnswer(`p.${names[i]}.0`, {
      kv: kv.b,
      sessionId: "sess-1",
      pollMs: 5,
    });
    assert(stream && stream !== "finished");
    assertEquals(
      await replayed(stream.body),
      `id: p.${names[i]}.1\nevent: message\ndata: {"id":${i}}\n\n`,
    );
  }
});

Deno.test("a batched answer is finished once the client has it, and never another session's", async () => {
  await using kv = await sharedKv();
  const batches = new AnswerBatches(new KvWriteBehind(kv.a), TTL_MS);
  const name = batches.add("sess-1", '{"ok":true}')!;
  await batches.flush();
  const ctx = { kv: kv.b, sessionId: "sess-1", pollMs: 5 };
  assertEquals(await replayAnswer(`p.${name}.1`, ctx), "finished");
  assertEquals(await replayAnswer(`p.${name}.0`, { ...ctx, sessionId: "sess-2" }), null);
  assertEquals(await replayAnswer(`p.${name}.1`, { ...ctx, sessionId: "sess-2" }), null);
  const [batch] = name.split(".");
  assertEquals(await replayAnswer(`p.${batch}.5.0`, ctx), null, "no answer 5 in that batch");
});

Deno.test("a resume that comes before its batch is written waits for it", async () => {
  await using kv = await sharedKv();
  const batches = new AnswerBatches(new KvWriteBehind(kv.a), TTL_MS);
  const name = batches.add("sess-1", '{"late":true}')!;
  const resumed = replayAnswer(`p.${name}.0`, { kv: kv.b, sessionId: "sess-1", pollMs: 5 });
  await batches.flush();
  const stream = await resumed;
  assert(stream && stream !== "finished");
  assert((await replayed(stream.body)).includes('data: {"late":true}'));
});

Deno.test("a full batch is sealed and the next answer starts another", async () => {
  await using kv = await sharedKv();
  const batches = new AnswerBatches(new KvWriteBehind(kv.a), TTL_MS);
  const first = batches.add("s", "{}")!;
  for (let i = 1; i < MAX_ANSWERS; i++) batches.add("s", "{}");
  const next = batches.add("s", "{}")!;
  assertNotEquals(first.split(".")[0], next.split(".")[0]);
  assertEquals(next.split(".")[1], "0");
  await batches.flush();
  assertEquals(await records(kv.a), 2);
});

Deno.test("an answer too large for a batch is refused, so it gets records of its own", async () => {
  await using kv = await sharedKv();
  const batches = new AnswerBatches(new KvWriteBehind(kv.a), TTL_MS);
  assertEquals(batches.add("s", "x".repeat(MAX_BATCHED_ANSWER_BYTES + 1)), null);
  await batches.flush();
  assertEquals(await records(kv.a), 0);
});

Deno.test("answer event ids and POST stream ids are told apart", () => {
  const batched = "p.AAAAAAAAAAAAAAAA.12.0";
  const stream = "p.AAAAAAAAAAAAAAAA.0";
  assert(isAnswerEventId(batched));
  assert(!isPostEventId(batched));
  assert(isPostEventId(stream));
  assert(!isAnswerEventId(stream));
  assert(!isAnswerEventId("p.short.1.0"));
  assert(!isAnswerEventId("p.AAAAAAAAAAAAAAAA.1.0\n"));
});

Deno.test("batches of answers in any script stay within what one KV value holds", async () => {
  await using kv = await sharedKv();
  const failures: unknown[] = [];
  const store = new KvWriteBehind(kv.a, { onError: (err) => failures.push(err) });
  const batches = new AnswerBatches(store, TTL_MS);
  const answer = JSON.stringify({ text: "€😀ж".repeat(900) }); // two-byte characters throughout
  const names = Array.from({ length: 40 }, () => batches.add("sess-1", answer));
  assert(names.every((name) => name !== null));
  await batches.flush();
  assertEquals(failures, []);
  assertGreater(await records(kv.a), 1);
  const last = await replayAnswer(`p.${names.at(-1)}.0`, {
    kv: kv.b,
    sessionId: "sess-1",
    pollMs: 5,
  });
  assert(last && last !== "finished");
  assert((await replayed(last.body)).includes(answer));
});
