import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { ConfigError } from "../../lib/config.ts";
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

Deno.test("withDotEnv() expands ${NAME} and $NAME as --env-file does, but not in single quotes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      [
        "PORT=9000",
        "PUBLIC_URL=http://localhost:${PORT}",
        'GREETING="hello $USER_NAME"',
        "LITERAL='${PORT} stays'",
        "MISSING=[${NOPE}]",
      ].join("\n"),
    );
    const env = await withDotEnv(`${dir}/.env`, { USER_NAME: "ada" });
    assertEquals(env.PUBLIC_URL, "http://localhost:9000");
    assertEquals(env.GREETING, "hello ada");
    assertEquals(env.LITERAL, "${PORT} stays");
    assertEquals(env.MISSING, "[]");
    // The environment wins in a reference too.
    const overridden = await withDotEnv(`${dir}/.env`, { PORT: "7000" });
    assertEquals(overridden.PUBLIC_URL, "http://localhost:7000");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withDotEnv() names the file when it exists but cannot be read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/.env`); // a folder where the file should be
    const err = await assertRejects(() => withDotEnv(`${dir}/.env`, {}), ConfigError);
    assertEquals(err.variable, `${dir}/.env`);
    assertStringIncludes(err.message, "make it a readable file or remove it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
