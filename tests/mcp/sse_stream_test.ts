import { assertEquals, assertThrows } from "@std/assert";
import { createSseStream } from "../../mcp/sse_stream.ts";

Deno.test("createSseStream() writes events and ends on close()", async () => {
  let closed = 0;
  const stream = createSseStream({ keepAliveMs: 0, onClose: () => closed++ });
  stream.send("message", '{"a":1}');
  stream.send("multi", "one\ntwo");
  stream.comment("hi\nthere");
  stream.close();
  stream.close();
  assertEquals(stream.send("message", "late"), false);
  assertEquals(
    await new Response(stream.body).text(),
    'event: message\ndata: {"a":1}\n\nevent: multi\ndata: one\ndata: two\n\n: hi there\n\n',
  );
  assertEquals(closed, 1);
  assertEquals(stream.closed, true);
});

Deno.test("createSseStream() runs onClose when the reader cancels, and stops its keep-alive", async () => {
  let closed = 0;
  let kept = 0;
  const stream = createSseStream({
    keepAliveMs: 10,
    onClose: () => closed++,
    onKeepAlive: () => kept++,
  });
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
  assertEquals((await reader.read()).value, ": keepalive\n\n");
  await reader.cancel();
  assertEquals(closed, 1);
  assertEquals(kept >= 1, true);
  assertEquals(stream.closed, true);
});

Deno.test("createSseStream() refuses an event name with a newline", () => {
  const stream = createSseStream({ keepAliveMs: 0 });
  assertThrows(() => stream.send("a\nb", "x"), SyntaxError);
  stream.close();
});

Deno.test("createSseStream() writes event ids and a priming event with retry:", async () => {
  const stream = createSseStream({ keepAliveMs: 0 });
  stream.prime("7", 1000);
  stream.send("message", "{}", "8");
  stream.prime("9");
  stream.close();
  assertEquals(
    await new Response(stream.body).text(),
    "id: 7\nretry: 1000\ndata: \n\nid: 8\nevent: message\ndata: {}\n\nid: 9\ndata: \n\n",
  );
});

Deno.test("createSseStream() refuses an event id with a newline", () => {
  const stream = createSseStream({ keepAliveMs: 0 });
  assertThrows(
    () => stream.send("message", "{}", "1\nevent: x"),
    SyntaxError,
    "Cannot serialize event id",
  );
  assertThrows(() => stream.prime("1\r"), SyntaxError);
  stream.close();
});
