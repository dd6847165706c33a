import { describe, expect, it } from "vitest";
import { PickleError, PickleGlobal, unpickle } from "./index";

// Protocol-2 opcodes used to build hostile pickles by hand.
const OP = { PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, EMPTY_LIST: 0x5d, EMPTY_DICT: 0x7d, APPEND: 0x61, APPENDS: 0x65, TUPLE: 0x74, TUPLE2: 0x86, LIST: 0x6c, DUP: 0x32, MEMOIZE: 0x94, BINPUT: 0x71, BINGET: 0x68, LONG4: 0x8b, SETITEM: 0x73, STACK_GLOBAL: 0x93, BININT1: 0x4b } as const;
const pickle = (...ops: (number | number[])[]) => new Uint8Array([OP.PROTO, 2, ...ops.flat(), OP.STOP]);
const repeat = (n: number, ...ops: number[]) => Array.from({ length: n }, () => ops).flat();

/** Runs `fn`, returning the error it throws, and the time it took. */
function attempt(fn: () => unknown): { error: unknown; ms: number } {
  const t = performance.now();
  try {
    fn();
    return { error: undefined, ms: performance.now() - t };
  } catch (error) {
    return { error, ms: performance.now() - t };
  }
}

describe("unpickler", () => {
  it("never calls unknown globals and reports unknown opcodes", () => {
    // protocol 2: GLOBAL os.system, then REDUCE with ("echo",) -> an inert PickleObject, not a call
    const enc = new TextEncoder();
    const bytes = new Uint8Array([0x80, 2, 0x63, ...enc.encode("os\nsystem\n"), 0x58, 4, 0, 0, 0, ...enc.encode("echo"), 0x85, 0x52, 0x2e]);
    const out = unpickle(bytes) as { cls: PickleGlobal; args: unknown[] };
    expect(out.cls.toString()).toBe("os.system");
    expect(out.args).toEqual(["echo"]);
    expect(() => unpickle(new Uint8Array([0x80, 2, 0xff]))).toThrow(/unsupported pickle opcode 0xff at byte 2/);
  });

  it("builds what Python's pickler writes: nested lists and dicts, shared values, batched APPENDS", () => {
    // {"a": [1, [2, 3]], "b": <the same list>} with the list memoised and fetched again
    const out = unpickle(
      pickle(OP.EMPTY_DICT, 0x8c, 1, 0x61, OP.EMPTY_LIST, OP.BINPUT, 0, OP.MARK, OP.BININT1, 1, OP.MARK, OP.BININT1, 2, OP.BININT1, 3, OP.LIST, OP.APPENDS, OP.SETITEM, 0x8c, 1, 0x62, OP.BINGET, 0, OP.SETITEM),
    ) as Map<string, unknown>;
    expect(out.get("a")).toEqual([1, [2, 3]]);
    expect(out.get("b")).toBe(out.get("a"));
    const long = unpickle(pickle(OP.EMPTY_LIST, OP.MARK, repeat(300_000, OP.NONE), OP.APPENDS)) as unknown[];
    expect(long.length).toBe(300_000); // a spread of this many items would overflow the call stack
  });

  // Each hostile pickle must end in a PickleError naming what was exceeded, quickly (bounded work per byte).
  const hostile: [string, Uint8Array, RegExp][] = [
    ["146 KB of MARKs", pickle(repeat(146_000, OP.MARK)), /more than 1000 open MARKs/],
    ["MARKs then STOP", pickle(repeat(10, OP.MARK)), /STOP with 0 values on the stack and 10 open MARKs/],
    ["lists nested 1e6 deep", pickle(repeat(1_000_000, OP.EMPTY_LIST), repeat(999_999, OP.APPEND)), /containers nested more than 100 deep/],
    ["tuples nested 1e5 deep through the memo", pickle(OP.NONE, repeat(100_000, OP.BINPUT, 0, OP.BINGET, 0, 0x85)), /nested more than 100 deep/],
    ["a list that holds itself", pickle(OP.EMPTY_LIST, OP.DUP, OP.APPEND), /holds itself/],
    ["a cycle through a sealed list", pickle(OP.EMPTY_LIST, OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, OP.DUP, OP.APPEND), /holds itself|already placed inside another/],
    ["a changed list inside another", pickle(OP.EMPTY_LIST, OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, OP.NONE, OP.APPEND), /APPEND changes a container already placed inside another/],
    ["1.1e6 values on the stack", pickle(repeat(1_100_000, OP.NONE)), /more than 1000000 values on the pickle stack/],
    ["a 100 KB integer", pickle(OP.LONG4, [0xa0, 0x86, 0x01, 0x00], repeat(100_000, 0x7f)), /100000-byte integer/],
    ["STACK_GLOBAL of lists", pickle(OP.EMPTY_LIST, OP.EMPTY_LIST, OP.STACK_GLOBAL), /STACK_GLOBAL needs a module and a name as strings, got a list or tuple of 0 items/],
    ["APPEND to a dict", pickle(OP.EMPTY_DICT, OP.NONE, OP.APPEND), /APPEND on a dict of 0 entries, not a list/],
    ["an empty stack", pickle(OP.APPEND), /stack underflow/],
  ];
  it.each(hostile)("refuses %s with a PickleError, in bounded time", (_, bytes, message) => {
    const { error, ms } = attempt(() => unpickle(bytes));
    expect(error).toBeInstanceOf(PickleError);
    expect((error as Error).message).toMatch(message);
    expect(ms).toBeLessThan(5000);
  });

  it("keeps shared structure shared: a 'billion laughs' pickle (40 levels, each the one below twice) is built in linear time", () => {
    const { error, ms } = attempt(() => unpickle(pickle(OP.NONE, repeat(40, OP.MEMOIZE, OP.DUP, OP.TUPLE2)), { limits: { maxDepth: 50 } }));
    expect(error).toBeUndefined();
    expect(ms).toBeLessThan(1000);
  });

  it("takes tighter limits", () => {
    const nested3 = pickle(repeat(3, OP.EMPTY_LIST), OP.APPEND, OP.APPEND); // [[[]]]
    expect(unpickle(nested3, { limits: { maxDepth: 3 } })).toEqual([[[]]]);
    expect(() => unpickle(nested3, { limits: { maxDepth: 2 } })).toThrow(/nested more than 2 deep/);
    expect(() => unpickle(pickle(repeat(3, OP.MARK), repeat(3, OP.TUPLE)), { limits: { maxOpenMarks: 2 } })).toThrow(/more than 2 open MARKs/);
  });
});
