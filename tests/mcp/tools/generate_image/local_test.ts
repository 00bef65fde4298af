import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { decode } from "fast-png";
import {
  createLocalImageGenerator,
  LOCAL_GENERATOR_NAME,
  LOCAL_IMAGE_SIZE,
} from "../../../../mcp/tools/generate_image/local.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test("createLocalImageGenerator() renders a valid 256x256 RGB PNG", async () => {
  const image = createLocalImageGenerator();
  assertEquals(image.name, LOCAL_GENERATOR_NAME);
  const { bytes, mimeType, note } = await image.generate({ prompt: "a red fox", steps: 4 });
  assertEquals(mimeType, "image/png");
  assertEquals([...bytes.subarray(0, 8)], PNG_SIGNATURE);
  const png = decode(bytes);
  assertEquals([png.width, png.height, png.channels, png.depth], [
    LOCAL_IMAGE_SIZE,
    LOCAL_IMAGE_SIZE,
    3,
    8,
  ]);
  assert(note?.includes("local placeholder"), note);
  assert(note?.includes("not AI-generated"), note);
});

Deno.test("createLocalImageGenerator() is deterministic for the same prompt and steps", async () => {
  const a = await createLocalImageGenerator().generate({ prompt: "a lighthouse", steps: 5 });
  const b = await createLocalImageGenerator().generate({ prompt: "a lighthouse", steps: 5 });
  assertEquals(a.bytes, b.bytes);
});

Deno.test("createLocalImageGenerator() draws different images for different prompts", async () => {
  const image = createLocalImageGenerator();
  const a = await image.generate({ prompt: "a lighthouse", steps: 4 });
  const b = await image.generate({ prompt: "a lighthouse!", steps: 4 });
  assertNotEquals(a.bytes, b.bytes);
  assertNotEquals(decode(a.bytes).data, decode(b.bytes).data);
});

Deno.test("createLocalImageGenerator() draws different images for different steps", async () => {
  const image = createLocalImageGenerator();
  const four = await image.generate({ prompt: "a lighthouse", steps: 4 });
  const eight = await image.generate({ prompt: "a lighthouse", steps: 8 });
  assertNotEquals(decode(four.bytes).data, decode(eight.bytes).data);
});

Deno.test("createLocalImageGenerator() is not a flat fill", async () => {
  const { bytes } = await createLocalImageGenerator().generate({ prompt: "texture", steps: 8 });
  const { data } = decode(bytes);
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 3) {
    colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
  }
  assert(colours.size > 100, `only ${colours.size} distinct colours`);
});

Deno.test("createLocalImageGenerator() rejects when the signal is already aborted", async () => {
  await assertRejects(() =>
    createLocalImageGenerator().generate({ prompt: "p", steps: 4 }, AbortSignal.abort())
  );
});
