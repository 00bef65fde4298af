import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  createWorkersAiImageGenerator,
  sniffImageType,
  WORKERS_AI_GENERATOR_NAME,
} from "../../../../mcp/tools/generate_image/workers_ai.ts";
import { generateImage } from "../../../../mcp/tools/generate_image.ts";
import { makeContext } from "../_context.ts";
import { delay, envelope, JPEG_BYTES, startFakeWorkersAi } from "./_fake_workers_ai.ts";

const ACCOUNT = "acc123";
const TOKEN = "cf-secret-token-XYZ";
const PATH = `/client/v4/accounts/${ACCOUNT}/ai/run/@cf/black-forest-labs/flux-1-schnell`;
const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);

/** Runs one generation against a fake answering with `handler`; returns the rejection message. */
async function failureOf(
  handler: Parameters<typeof startFakeWorkersAi>[0],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string> {
  await using fake = startFakeWorkersAi(handler);
  const image = createWorkersAiImageGenerator({
    accountId: ACCOUNT,
    apiToken: TOKEN,
    baseUrl: fake.baseUrl,
    timeoutMs: options.timeoutMs,
  });
  const error = await assertRejects(() =>
    image.generate({ prompt: "a fox", steps: 4 }, options.signal)
  );
  assert(!error.message.includes(TOKEN), "the message leaks the API token");
  return error.message;
}

Deno.test("createWorkersAiImageGenerator() posts prompt and steps with the bearer token", async () => {
  await using fake = startFakeWorkersAi(() => envelope(JPEG_BYTES.toBase64()));
  const image = createWorkersAiImageGenerator({
    accountId: ACCOUNT,
    apiToken: TOKEN,
    baseUrl: fake.baseUrl,
  });
  assertEquals(image.name, WORKERS_AI_GENERATOR_NAME);
  const result = await image.generate({ prompt: "a fox in the snow", steps: 6 });
  assertEquals(result.mimeType, "image/jpeg");
  assertEquals(result.bytes, JPEG_BYTES);
  assert(result.note?.includes("@cf/black-forest-labs/flux-1-schnell"));
  assertEquals(fake.requests, [{
    method: "POST",
    path: PATH,
    authorization: `Bearer ${TOKEN}`,
    contentType: "application/json",
    body: { prompt: "a fox in the snow", steps: 6 },
  }]);
});

Deno.test("createWorkersAiImageGenerator() detects a PNG answer", async () => {
  await using fake = startFakeWorkersAi(() => envelope(PNG_BYTES.toBase64()));
  const image = createWorkersAiImageGenerator({
    accountId: ACCOUNT,
    apiToken: TOKEN,
    baseUrl: `${fake.baseUrl}/`,
  });
  const result = await image.generate({ prompt: "p", steps: 4 });
  assertEquals(result.mimeType, "image/png");
  assertEquals(fake.requests[0]?.path, PATH);
});

Deno.test("createWorkersAiImageGenerator() reports 401 with Cloudflare's error message", async () => {
  const message = await failureOf(() =>
    Response.json(
      { success: false, errors: [{ code: 10000, message: "Authentication error" }], result: null },
      { status: 401 },
    )
  );
  assertEquals(
    message,
    "Cannot generate image: Workers AI answered HTTP 401: Authentication error (code 10000)",
  );
});

Deno.test("createWorkersAiImageGenerator() reports 500 with an HTML body", async () => {
  const message = await failureOf(() =>
    new Response("<html><body>Internal Server Error</body></html>", {
      status: 500,
      headers: { "content-type": "text/html" },
    })
  );
  assertEquals(message, "Cannot generate image: Workers AI answered HTTP 500");
});

Deno.test("createWorkersAiImageGenerator() rejects a 200 with invalid JSON", async () => {
  const message = await failureOf(() => new Response("{not json", { status: 200 }));
  assertEquals(message, "Cannot generate image: Workers AI answered with a body that is not JSON");
});

Deno.test("createWorkersAiImageGenerator() rejects a 200 with success false", async () => {
  const message = await failureOf(() =>
    Response.json({
      result: null,
      success: false,
      errors: [{ code: 5006, message: "Error: oneOf at '/' not met" }],
      messages: [],
    })
  );
  assertEquals(
    message,
    "Cannot generate image: Workers AI reported failure: Error: oneOf at '/' not met (code 5006)",
  );
});

Deno.test("createWorkersAiImageGenerator() rejects success false without errors", async () => {
  const message = await failureOf(() => Response.json({ success: false, errors: [] }));
  assertEquals(message, "Cannot generate image: Workers AI reported failure: no reason given");
});

Deno.test("createWorkersAiImageGenerator() rejects an answer without result.image", async () => {
  const message = await failureOf(() => Response.json({ result: {}, success: true, errors: [] }));
  assertEquals(message, "Cannot generate image: Workers AI answered without result.image");
});

Deno.test("createWorkersAiImageGenerator() rejects result.image that is not base64", async () => {
  const message = await failureOf(() => envelope("@@@ not base64 @@@"));
  assertEquals(
    message,
    "Cannot generate image: Workers AI answered with result.image that is not valid base64",
  );
});

Deno.test("createWorkersAiImageGenerator() rejects base64 that is not an image", async () => {
  const message = await failureOf(() => envelope(btoa("hello, this is text")));
  assertEquals(message, "Cannot generate image: backend returned data that is not an image");
});

Deno.test("createWorkersAiImageGenerator() times out a slow answer", async () => {
  const started = Date.now();
  const message = await failureOf(async (_request, closing) => {
    await delay(2_000, closing);
    return envelope(JPEG_BYTES.toBase64());
  }, { timeoutMs: 200 });
  assertEquals(message, "Cannot generate image: Workers AI did not answer within 200 ms");
  assert(Date.now() - started < 1_500, "the timeout did not cut the request short");
});

Deno.test("createWorkersAiImageGenerator() states whole-second timeouts in seconds", async () => {
  const message = await failureOf(async (_request, closing) => {
    await delay(3_000, closing);
    return envelope(JPEG_BYTES.toBase64());
  }, { timeoutMs: 1_000 });
  assertEquals(message, "Cannot generate image: Workers AI did not answer within 1 s");
});

Deno.test("createWorkersAiImageGenerator() stops when the caller aborts", async () => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 100);
  try {
    const message = await failureOf(async (_request, closing) => {
      await delay(2_000, closing);
      return envelope(JPEG_BYTES.toBase64());
    }, { signal: controller.signal });
    assertEquals(message, "Cannot generate image: the request was cancelled");
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("createWorkersAiImageGenerator() rejects at once for an already aborted signal", async () => {
  const message = await failureOf(() => envelope(JPEG_BYTES.toBase64()), {
    signal: AbortSignal.abort(),
  });
  assertEquals(message, "Cannot generate image: the request was cancelled");
});

Deno.test("createWorkersAiImageGenerator() reports an unreachable endpoint", async () => {
  const fake = startFakeWorkersAi(() => envelope(""));
  const baseUrl = fake.baseUrl;
  await fake.close();
  const image = createWorkersAiImageGenerator({ accountId: ACCOUNT, apiToken: TOKEN, baseUrl });
  const error = await assertRejects(() => image.generate({ prompt: "p", steps: 4 }));
  assert(
    error.message.startsWith("Cannot generate image: Workers AI could not be reached: "),
    error.message,
  );
  assert(!error.message.includes(TOKEN));
});

Deno.test("createWorkersAiImageGenerator() throws on missing credentials or a bad timeout", () => {
  assertThrows(
    () => createWorkersAiImageGenerator({ accountId: "", apiToken: TOKEN }),
    TypeError,
    '"accountId" is empty',
  );
  assertThrows(
    () => createWorkersAiImageGenerator({ accountId: ACCOUNT, apiToken: "" }),
    TypeError,
    '"apiToken" is empty',
  );
  assertThrows(
    () => createWorkersAiImageGenerator({ accountId: ACCOUNT, apiToken: TOKEN, timeoutMs: 0 }),
    TypeError,
    '"timeoutMs" must be a positive number',
  );
});

Deno.test("sniffImageType() tells PNG and JPEG from other bytes", () => {
  assertEquals(sniffImageType(PNG_BYTES), "image/png");
  assertEquals(sniffImageType(JPEG_BYTES), "image/jpeg");
  assertEquals(sniffImageType(new TextEncoder().encode("GIF89a")), undefined);
  assertEquals(sniffImageType(new Uint8Array()), undefined);
});

Deno.test("generateImage with a failing Workers AI backend returns an isError result", async () => {
  await using fake = startFakeWorkersAi(() =>
    Response.json(
      { success: false, errors: [{ code: 10000, message: "Authentication error" }] },
      { status: 401 },
    )
  );
  const image = createWorkersAiImageGenerator({
    accountId: ACCOUNT,
    apiToken: TOKEN,
    baseUrl: fake.baseUrl,
  });
  const result = await generateImage.run({ prompt: "a fox", steps: 4 }, makeContext({ image }));
  assertEquals(result, {
    isError: true,
    content: [{
      type: "text",
      text:
        "Cannot generate image: Workers AI answered HTTP 401: Authentication error (code 10000)",
    }],
  });
});

Deno.test("generateImage with Workers AI returns the JPEG and names the backend", async () => {
  await using fake = startFakeWorkersAi(() => envelope(JPEG_BYTES.toBase64()));
  const image = createWorkersAiImageGenerator({
    accountId: ACCOUNT,
    apiToken: TOKEN,
    baseUrl: fake.baseUrl,
  });
  const result = await generateImage.run({ prompt: "a fox", steps: 5 }, makeContext({ image }));
  const [block, text] = result.content;
  assert(block?.type === "image");
  assertEquals(block.mimeType, "image/jpeg");
  assertEquals(Uint8Array.fromBase64(block.data), JPEG_BYTES);
  assert(text?.type === "text");
  assertEquals(
    text.text,
    "Generated by the workers-ai backend in 5 steps. " +
      "Generated by Cloudflare Workers AI (@cf/black-forest-labs/flux-1-schnell).",
  );
});
