/**
 * Picks the image backend from configuration: Workers AI when a Cloudflare account id and API token are
 * both set, else the local placeholder.
 *
 * @module
 */
import type { ImageGenerator } from "../../tool.ts";
import { createLocalImageGenerator } from "./local.ts";
import { createWorkersAiImageGenerator } from "./workers_ai.ts";

/** The configuration {@linkcode imageGeneratorFromConfig} reads (e.g. from `CLOUDFLARE_*` env vars). */
export interface ImageGeneratorConfig {
  readonly cloudflareAccountId?: string | undefined;
  readonly cloudflareApiToken?: string | undefined;
  readonly cloudflareApiBaseUrl?: string | undefined;
}

/**
 * Builds the image backend for `config`.
 *
 * @returns Workers AI when both `cloudflareAccountId` and `cloudflareApiToken` are non-empty, else
 * the local placeholder generator.
 *
 * @example
 * ```ts
 * const image = imageGeneratorFromConfig({ cloudflareAccountId: undefined });
 * image.name; // "local-placeholder"
 * ```
 */
export function imageGeneratorFromConfig(config: ImageGeneratorConfig): ImageGenerator {
  const accountId = config.cloudflareAccountId?.trim();
  const apiToken = config.cloudflareApiToken?.trim();
  if (accountId && apiToken) {
    return createWorkersAiImageGenerator({
      accountId,
      apiToken,
      baseUrl: config.cloudflareApiBaseUrl?.trim() || undefined,
    });
  }
  return createLocalImageGenerator();
}
