import { assertEquals } from "@std/assert";
import { withDotEnv } from "../../lib/dotenv.ts";

Deno.test("withDotEnv() adds the file's variables; the environment's own win", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      '# a comment\nPORT=9000\nSERVER_NAME="Acme MCP"\nexport LOG_LEVEL=debug\nEMPTY=\n',
    );
    assertEquals(await withDotEnv(`${dir}/.env`, { PORT: "8080", HOME: "/home/x" }), {
      PORT: "8080",
      SERVER_NAME: "Acme MCP",
      LOG_LEVEL: "debug",
      EMPTY: "",
      HOME: "/home/x",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withDotEnv() without the file is the environment as it is", async () => {
  const env = { PORT: "8080" };
  assertEquals(await withDotEnv("/no/such/folder/.env", env), env);
});
