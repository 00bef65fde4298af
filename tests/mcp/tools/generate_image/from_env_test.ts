import { assertEquals } from "@std/assert";
import { imageGeneratorFromConfig } from "../../../../mcp/tools/generate_image/from_env.ts";
import { envelope, JPEG_BYTES, startFakeWorkersAi } from "./_fake_workers_ai.ts";

Deno.test("imageGeneratorFromConfig() picks Workers AI when account id and token are set", () => {
  const image = imageGeneratorFromConfig({ cloudflareAccountId: "a", cloudflareApiToken: "t" });
  assertEquals(image.name, "workers-ai");
});

Deno.test("imageGeneratorFromConfig() falls back to the local placeholder", () => {
  assertEquals(imageGeneratorFromConfig({}).name, "local-placeholder");
  assertEquals(imageGeneratorFromConfig({ cloudflareAccountId: "a" }).name, "local-placeholder");
  assertEquals(imageGeneratorFromConfig({ cloudflareApiToken: "t" }).name, "local-placeholder");
  assertEquals(
    imageGeneratorFromConfig({ cloudflareAccountId: " ", cloudflareApiToken: "t" }).name,
    "local-placeholder",
  );
  assertEquals(
    imageGeneratorFromConfig({ cloudflareAccountId: undefined, cloudflareApiToken: "" }).name,
    "local-placeholder",
  );
});

Deno.test("imageGeneratorFromConfig() sends requests to cloudflareApiBaseUrl", async () => {
  await using fake = startFakeWorkersAi(() => envelope(JPEG_BYTES.toBase64()));
  const image = imageGeneratorFromConfig({
    cloudflareAccountId: "acc",
    cloudflareApiToken: "tok",
    cloudflareApiBaseUrl: fake.baseUrl,
  });
  const result = await image.generate({ prompt: "p", steps: 4 });
  assertEquals(result.mimeType, "image/jpeg");
  assertEquals(
    fake.requests[0]?.path,
    "/client/v4/accounts/acc/ai/run/@cf/black-forest-labs/flux-1-schnell",
  );
  assertEquals(fake.requests[0]?.authorization, "Bearer tok");
});
