/**
 * A small stand-in for `jsr:@std/assert`, which is unreachable from these machines (JSR is offline here).
 * It exports std's names with std's argument order, built on `node:assert/strict`, so tests read as std
 * tests and switching back is one line in deno.json: `"@std/assert": "jsr:@std/assert@^1"`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";

/** Thrown when an assertion fails (the same class as node's). */
export const AssertionError = nodeAssert.AssertionError;

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = "Expected expression to be truthy"): asserts expr {
  if (!expr) throw new AssertionError({ message: msg });
}

/** Asserts that `expr` is falsy. */
export function assertFalse(expr: unknown, msg = "Expected expression to be falsy"): void {
  if (expr) throw new AssertionError({ message: msg });
}

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts the value is neither null nor undefined. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === undefined || actual === null) {
    throw new AssertionError({
      message: msg ?? `Expected actual: "${actual}" to not be null or undefined`,
    });
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) {
    throw new AssertionError({ message: msg ?? `Expected "${actual}" > "${expected}"` });
  }
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) {
    throw new AssertionError({ message: msg ?? `Expected "${actual}" < "${expected}"` });
  }
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError({
      message: msg ?? `Expected actual: "${actual}" to contain: "${expected}"`,
    });
  }
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Asserts that `actual` does not match `expected`. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.doesNotMatch(actual, expected, msg);
}

/** Asserts that every item of `expected` is deeply equal to some item of `actual`. */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void {
  const items = Array.from(actual);
  const missing = Array.from(expected).filter((e) => !items.some((a) => isDeepStrictEqual(a, e)));
  if (missing.length > 0) {
    throw new AssertionError({
      message: msg ??
        `Expected actual: ${JSON.stringify(items)} to include: ${JSON.stringify(missing)}`,
    });
  }
}

/** Asserts that `actual` has (at least) the properties of `expected`, recursively. */
export function assertObjectMatch(
  actual: Record<PropertyKey, unknown>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  const pick = (a: unknown, e: unknown): unknown => {
    if (e === null || typeof e !== "object" || a === null || typeof a !== "object") return a;
    if (Array.isArray(e)) return Array.isArray(a) ? e.map((item, i) => pick(a[i], item)) : a;
    const out: Record<PropertyKey, unknown> = {};
    for (const key of Object.keys(e)) {
      if (key in (a as object)) {
        out[key] = pick((a as Record<string, unknown>)[key], (e as Record<string, unknown>)[key]);
      }
    }
    return out;
  };
  nodeAssert.deepStrictEqual(pick(actual, expected), expected, msg);
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    throw new AssertionError({
      message: msg ?? `Expected object to be an instance of "${expectedType.name}"`,
    });
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(err: unknown, cls?: ErrorClass<E>, includes?: string): E {
  if (cls && !(err instanceof cls)) {
    throw new AssertionError({
      message: `Expected error to be instance of "${cls.name}", but was "${
        (err as Error)?.constructor?.name
      }": ${(err as Error)?.message}`,
    });
  }
  if (includes !== undefined && !String((err as Error)?.message).includes(includes)) {
    throw new AssertionError({
      message: `Expected error message to include "${includes}", but got "${
        (err as Error)?.message
      }"`,
    });
  }
  return err as E;
}

/** Asserts that `fn` throws; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  throw new AssertionError({ message: "Expected function to throw" });
}

/** Asserts that `fn` rejects; resolves to the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  throw new AssertionError({ message: "Expected function to reject" });
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  throw new AssertionError({ message: msg ? `Failed assertion: ${msg}` : "Failed assertion" });
}
