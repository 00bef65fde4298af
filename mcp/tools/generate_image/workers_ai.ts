/**
 * The Cloudflare Workers AI image backend: runs `@cf/black-forest-labs/flux-1-schnell` through the REST
 * API and returns the image it answers with (base64 JPEG in Cloudflare's `{result, success, errors}`
 * envelope). Every failure becomes a rejection whose message starts "Cannot generate image: " and never
 * contains the API token.
 *
 * @see https://developers.cloudflare.com/workers-ai/models/flux-1-schnell/
 * @module
 */
import type { ImageGenerator } from "../../tool.ts";

/** The Workers AI model this backend runs. */
export const WORKERS_AI_MODEL = "@cf/black-forest-labs/flux-1-schnell";

/** Cloudflare's API base URL. */
export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** How long to wait for Workers AI by default, in ms. */
export const WORKERS_AI_TIMEOUT_MS = 30_000;

/** The backend name reported in results and logs. */
export const WORKERS_AI_GENERATOR_NAME = "workers-ai";

/** Options for {@linkcode createWorkersAiImageGenerator}. */
export interface WorkersAiOptions {
  /** The Cloudflare account id. */
  readonly accountId: string;
  /** A Cloudflare API token with Workers AI access. */
  readonly apiToken: string;
  /** API base URL; defaults to {@linkcode CLOUDFLARE_API_BASE_URL} (tests point it at a fake). */
  readonly baseUrl?: string | undefined;
  /** Time limit per request in ms; defaults to {@linkcode WORKERS_AI_TIMEOUT_MS}. */
  readonly timeoutMs?: number | undefined;
  /** The fetch to use; defaults to the global one. */
  readonly fetch?: typeof fetch | undefined;
}

const PREFIX = "Cannot generate image: ";

/**
 * Creates the Workers AI generator.
 *
 * @param options Account, token and optional base URL, timeout and fetch.
 * @returns An {@linkcode ImageGenerator} named `workers-ai`.
 * @throws {TypeError} When `accountId` or `apiToken` is empty, or `timeoutMs` is not a positive number.
 *
 * @example
 * ```ts
 * const image = createWorkersAiImageGenerator({ accountId: "abc", apiToken: "secret" });
 * const { bytes, mimeType } = await image.generate({ prompt: "a red fox", steps: 4 });
 * ```
 */
export function createWorkersAiImageGenerator(options: WorkersAiOptions): ImageGenerator {
  const { accountId, apiToken } = options;
  if (!accountId) throw new TypeError('Cannot create Workers AI generator: "accountId" is empty');
  if (!apiToken) throw new TypeError('Cannot create Workers AI generator: "apiToken" is empty');
  const timeoutMs = options.timeoutMs ?? WORKERS_AI_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new TypeError(
      `Cannot create Workers AI generator: "timeoutMs" must be a positive number, got ${timeoutMs}`,
    );
  }
  const base = (options.baseUrl ?? CLOUDFLARE_API_BASE_URL).replace(/\/+$/, "");
  const url = `${base}/accounts/${encodeURIComponent(accountId)}/ai/run/${WORKERS_AI_MODEL}`;
  const fetchFn = options.fetch ?? fetch;

  return {
    name: WORKERS_AI_GENERATOR_NAME,
    async generate({ prompt, steps }, signal) {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      try {
        const response = await fetchFn(url, {
          method: "POST",
          headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
          body: JSON.stringify({ prompt, steps }),
          signal: combined,
        });
        const body = await response.text();
        return processResponse(response.status, body);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith(PREFIX)) throw error;
        if (timeout.signal.aborted) {
          throw new Error(`${PREFIX}Workers AI did not answer within ${formatMs(timeoutMs)}`);
        }
        if (signal?.aborted) throw new Error(`${PREFIX}the request was cancelled`);
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${PREFIX}Workers AI could not be reached: ${reason}`);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Checks one Workers AI answer and extracts the image; throws with a clear message otherwise. */
function processResponse(
  status: number,
  body: string,
): { bytes: Uint8Array; mimeType: string; note: string } {
  const json = parseJson(body);
  if (status < 200 || status > 299) {
    const reason = json === undefined ? "" : firstError(json);
    throw new Error(`${PREFIX}Workers AI answered HTTP ${status}${reason ? `: ${reason}` : ""}`);
  }
  if (!isRecord(json)) throw new Error(`${PREFIX}Workers AI answered with a body that is not JSON`);
  if (json.success === false) {
    throw new Error(
      `${PREFIX}Workers AI reported failure: ${firstError(json) || "no reason given"}`,
    );
  }
  const image = isRecord(json.result) ? json.result.image : undefined;
  if (typeof image !== "string" || image === "") {
    throw new Error(`${PREFIX}Workers AI answered without result.image`);
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(image);
  } catch {
    throw new Error(`${PREFIX}Workers AI answered with result.image that is not valid base64`);
  }
  const mimeType = sniffImageType(bytes);
  if (!mimeType) throw new Error(`${PREFIX}backend returned data that is not an image`);
  return { bytes, mimeType, note: `Generated by Cloudflare Workers AI (${WORKERS_AI_MODEL}).` };
}

/** `image/png` or `image/jpeg` from the magic bytes, else undefined. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const [a, b, c, d] = bytes;
  if (a === 0x89 && b === 0x50 && c === 0x4e && d === 0x47) return "image/png";
  if (a === 0xff && b === 0xd8 && c === 0xff) return "image/jpeg";
  return undefined;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The first `errors[].message` of a Cloudflare envelope (with its code), or "". */
function firstError(json: unknown): string {
  if (!isRecord(json) || !Array.isArray(json.errors)) return "";
  const first: unknown = json.errors[0];
  if (!isRecord(first) || typeof first.message !== "string") return "";
  return typeof first.code === "number" ? `${first.message} (code ${first.code})` : first.message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
