import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError, loadConfig } from "../../lib/config.ts";

Deno.test("loadConfig() defaults the hostile-input limits", () => {
  assertEquals(loadConfig({}).limits, {
    registerPerHour: 30,
    authorizePerHour: 120,
    trustedProxyHeader: undefined,
    maxStreamsPerGrant: 20,
    maxSessionsPerGrant: 50,
  });
});

Deno.test("loadConfig() reads the limits and the trusted proxy header", () => {
  const config = loadConfig({
    REGISTER_RATE_LIMIT: "0",
    AUTHORIZE_RATE_LIMIT: "5",
    TRUSTED_PROXY_HEADER: "CF-Connecting-IP",
    MAX_STREAMS_PER_GRANT: "3",
    MAX_SESSIONS_PER_GRANT: "4",
  });
  assertEquals(config.limits, {
    registerPerHour: 0,
    authorizePerHour: 5,
    trustedProxyHeader: "cf-connecting-ip",
    maxStreamsPerGrant: 3,
    maxSessionsPerGrant: 4,
  });
});

Deno.test("loadConfig() names the variable of a bad limit and says how to fix it", () => {
  for (
    const [variable, value, hint] of [
      ["REGISTER_RATE_LIMIT", "lots", "0 turns it off"],
      ["MAX_STREAMS_PER_GRANT", "0", "at least 1"],
      ["MAX_SESSIONS_PER_GRANT", "-1", "at least 1"],
      ["TRUSTED_PROXY_HEADER", "x-forwarded-for, x-real-ip", "one header name"],
    ]
  ) {
    const err = assertThrows(() => loadConfig({ [variable!]: value }), ConfigError);
    assertEquals(err.variable, variable);
    assertStringIncludes(err.message, hint!);
  }
});
