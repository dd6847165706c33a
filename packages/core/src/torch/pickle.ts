/**
 * A minimal, safe unpickler for the subset of the pickle format that `torch.save` writes (protocols 2 to 5).
 *
 * Hand-written because no maintained npm package unpickles in both Node and the browser without executing code,
 * and we must never execute anything: globals are resolved only against a small allow-list (OrderedDict, torch's
 * tensor rebuild functions, storage classes); any other global becomes an inert {@link PickleGlobal} placeholder
 * that is kept as data (e.g. an optimizer's state in a training checkpoint) and never called.
 *
 * Hostile files must not hang or exhaust memory (as PyTorch's `weights_only` loader guards against): every opcode
 * takes at least one byte and does bounded work (marks live on their own stack, so a MARK costs O(1) and a
 * container's items are moved, never rescanned), so time and memory grow linearly with the pickle's length; on top,
 * {@link PickleLimits} bound the open MARKs, the stack, the memo, container nesting and integer sizes, and a
 * container may not change once it sits inside another (what Python's pickler writes for acyclic data), so results
 * never hold cycles and their nesting depth is known. Shared sub-objects (memo GETs) stay shared: code that walks a
 * result must not expand them (see {@link describePickleValue}).
 */

/** A reference to a Python global (`module.name`) that the unpickler does not know how to build. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object built by calling an unknown global: kept inert (its class and arguments), never executed. */
export class PickleObject {
  state: unknown = undefined;
  constructor(
    readonly cls: PickleGlobal,
    readonly args: unknown[],
  ) {}
}

/** Raised for malformed or unsupported pickle data; the message names the opcode and byte offset. */
export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

/** Bounds on what one pickle may build; an exceeded bound is a {@link PickleError} that names it. */
export interface PickleLimits {
  /** MARKs open at once (torch checkpoints: a handful). Default 1000. */
  maxOpenMarks: number;
  /** Values on the stack above the innermost MARK. Default 1,000,000. */
  maxStack: number;
  /** Memo entries. Default 1,000,000. */
  maxMemo: number;
  /** Containers inside containers (a state dict in a checkpoint dict: 2; an optimizer state: ~5). Default 100. */
  maxDepth: number;
  /** Bytes of one LONG1/LONG4 integer (torch writes none beyond 8). Default 64. */
  maxLongBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: Readonly<PickleLimits> = { maxOpenMarks: 1000, maxStack: 1_000_000, maxMemo: 1_000_000, maxDepth: 100, maxLongBytes: 64 };

/** Hooks that give meaning to globals and persistent ids. */
export interface UnpickleHooks {
  /** Resolves `module.name`; return undefined to get an inert PickleGlobal. */
  findClass?: (module: string, name: string) => unknown;
  /** Resolves a persistent id (torch uses these for tensor storages). */
  persistentLoad?: (pid: unknown) => unknown;
  /** Tighter or looser bounds than {@link DEFAULT_PICKLE_LIMITS}. */
  limits?: Partial<PickleLimits>;
}

/** A callable global known to the hooks: called with the REDUCE arguments. */
export interface PickleCallable {
  readonly pickleCall: (args: unknown[]) => unknown;
}

function isCallable(x: unknown): x is PickleCallable {
  return typeof x === "object" && x !== null && typeof (x as PickleCallable).pickleCall === "function";
}

/** Python dicts with non-string keys are rare in checkpoints; we use a Map to keep insertion order and any key. */
export type PyDict = Map<unknown, unknown>;

/**
 * A short description of an unpickled value for error messages, in bounded time however large or shared the value
 * is (it looks at most one level down): `a string 'abc'`, `a list of 3 items`, `os.system(...)`.
 */
export function describePickleValue(x: unknown): string {
  if (x === null) return "None";
  if (typeof x === "string") return `a string '${x.length > 40 ? `${x.slice(0, 40)}...` : x}'`;
  if (typeof x === "number" || typeof x === "bigint" || typeof x === "boolean") return `${typeof x === "boolean" ? "a boolean" : "the number"} ${String(x).slice(0, 30)}`;
  if (Array.isArray(x)) return `a list or tuple of ${x.length} items`;
  if (x instanceof Map) return `a dict of ${x.size} entries`;
  if (x instanceof Set) return `a set of ${x.size} items`;
  if (x instanceof Uint8Array) return `${x.length} bytes`;
  if (x instanceof PickleGlobal) return `the global ${x.toString().slice(0, 100)}`;
  if (x instanceof PickleObject) return `an object built by ${x.cls.toString().slice(0, 100)}(...)`;
  return `a ${typeof x}`;
}

/**
 * Unpickles `bytes`. Dicts become `Map`, lists and tuples arrays, str strings, int numbers (or bigint beyond 2^53),
 * bytes Uint8Array, None null.
 */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks = {}): unknown {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...hooks.limits };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder("utf-8");
  // the values above the innermost MARK; the stacks under the open MARKs wait in `marks` (Python's metastack)
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  // containers' nesting depth (a container inside nothing: 1), and those placed in another (no longer changed)
  const depths = new WeakMap<object, number>();
  const sealed = new WeakSet<object>();
  let pos = 0;
  let at = 0;

  const fail = (message: string): never => {
    throw new PickleError(`${message} (byte ${at})`);
  };
  const need = (n: number, op: string) => {
    if (pos + n > bytes.length) throw new PickleError(`truncated pickle: opcode ${op} needs ${n} bytes at ${pos}`);
  };
  const u8 = () => {
    need(1, "arg");
    return bytes[pos++];
  };
  const u16 = () => {
    need(2, "arg");
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4, "arg");
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4, "arg");
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const take = (n: number) => {
    if (n < 0) fail(`negative length ${n}`);
    need(n, "data");
    const s = bytes.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`unterminated text argument at ${pos}`);
    const s = dec.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const push = (v: unknown) => {
    if (stack.length >= limits.maxStack) fail(`more than ${limits.maxStack} values on the pickle stack (limit maxStack)`);
    stack.push(v);
  };
  const isContainer = (x: unknown) => Array.isArray(x) || x instanceof Map || x instanceof Set || x instanceof PickleObject;
  const depthOf = (x: unknown): number => (typeof x === "object" && x !== null ? (depths.get(x) ?? (isContainer(x) ? 1 : 0)) : 0);
  /** Records that `items` now sit inside `container` (new or not yet sealed): they are sealed, its depth updated. */
  const contain = <T extends object>(container: T, items: Iterable<unknown>): T => {
    let d = depths.get(container) ?? 1;
    for (const it of items) {
      if (typeof it !== "object" || it === null) continue;
      if (it === container) fail("a container that holds itself (cyclic data is not supported)");
      sealed.add(it);
      d = Math.max(d, depthOf(it) + 1);
    }
    if (d > limits.maxDepth) fail(`containers nested more than ${limits.maxDepth} deep (limit maxDepth)`);
    depths.set(container, d);
    return container;
  };
  const mutable = (x: unknown, op: string) => {
    if (typeof x === "object" && x !== null && sealed.has(x)) fail(`${op} changes a container already placed inside another`);
  };
  const popMark = (): unknown[] => {
    const below = marks.pop();
    if (!below) return fail("MARK not found on the stack");
    const items = stack;
    stack = below;
    return items;
  };
  const pop = () => {
    if (stack.length === 0) fail("stack underflow");
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const resolve = (module: string, name: string) => {
    const found = hooks.findClass?.(module, name);
    return found === undefined ? new PickleGlobal(module, name) : found;
  };
  const call = (fn: unknown, args: unknown[]) => {
    contain(args, args);
    if (isCallable(fn)) return fn.pickleCall(args);
    if (fn instanceof PickleGlobal) return contain(new PickleObject(fn, args), [args]);
    return fail(`cannot call ${describePickleValue(fn)} while unpickling`);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (items.length % 2 !== 0) fail("odd number of items for SETITEMS");
    mutable(dict, "SETITEM(S)");
    let target: Map<unknown, unknown>;
    if (dict instanceof Map) target = dict;
    else if (dict instanceof PickleObject) {
      // e.g. a dict subclass we do not model: keep its items as state.
      if (!(dict.state instanceof Map)) dict.state = new Map();
      target = dict.state as Map<unknown, unknown>;
    } else return fail(`SETITEM(S) on ${describePickleValue(dict)}, not a dict`);
    contain(target, items);
    if (target !== dict) contain(dict as object, [target]);
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const memoize = (key: number) => {
    if (!memo.has(key) && memo.size >= limits.maxMemo) fail(`more than ${limits.maxMemo} memo entries (limit maxMemo)`);
    memo.set(key, top());
  };
  const memoGet = (key: number, op: string) => {
    if (!memo.has(key)) fail(`${op} of unknown memo key ${key}`);
    push(memo.get(key));
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length > limits.maxLongBytes) fail(`a ${b.length}-byte integer (limit maxLongBytes ${limits.maxLongBytes})`);
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const tuple = (items: unknown[]) => contain(items, items);

  for (;;) {
    at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length > 0) fail(`STOP with ${stack.length} values on the stack and ${marks.length} open MARKs (expected one value)`);
        return stack[0];
      case 0x28: // MARK
        if (marks.length >= limits.maxOpenMarks) fail(`more than ${limits.maxOpenMarks} open MARKs (limit maxOpenMarks)`);
        marks.push(stack);
        stack = [];
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x8a: // LONG1
        push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        push(decodeLong(take(u32())));
        break;
      case 0x49: {
        // INT (text); "01"/"00" are True/False in protocol 0
        const s = line();
        push(s === "01" ? true : s === "00" ? false : Number(s));
        break;
      }
      case 0x47: {
        // BINFLOAT: big-endian double
        need(8, "BINFLOAT");
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        push(dec.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(dec.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        need(8, "BINUNICODE8");
        push(dec.decode(take(Number(view.getBigUint64(pos, true)))));
        break;
      case 0x54: // BINSTRING
        push(dec.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        push(dec.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) return fail(`ADDITEMS on ${describePickleValue(s)}, not a set`);
        mutable(s, "ADDITEMS");
        contain(s, items);
        for (const it of items) s.add(it);
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        push(tuple(popMark()));
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) return fail(`APPEND on ${describePickleValue(l)}, not a list`);
        mutable(l, "APPEND");
        contain(l, [v]);
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) return fail(`APPENDS on ${describePickleValue(l)}, not a list`);
        mutable(l, "APPENDS");
        contain(l, items);
        for (const it of items) l.push(it); // not push(...items): a spread of 300k items overflows the call stack
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memoize(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoize(u32());
        break;
      case 0x94: // MEMOIZE
        memoize(memo.size);
        break;
      case 0x68: // BINGET
        memoGet(u8(), "BINGET");
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32(), "LONG_BINGET");
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail(`STACK_GLOBAL needs a module and a name as strings, got ${describePickleValue(module)} and ${describePickleValue(name)}`);
        push(resolve(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(call(fn, Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        push(call(cls, Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x62: {
        // BUILD: set state; for OrderedDict-like Maps there is nothing to do, otherwise keep it inert.
        const state = pop();
        const obj = top();
        if (obj instanceof PickleObject) {
          mutable(obj, "BUILD");
          contain(obj, [state]);
          obj.state = state;
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) return fail("persistent id found but no persistentLoad hook given");
        push(hooks.persistentLoad(pid));
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      default:
        throw new PickleError(
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${at} (torch.save writes protocol 2; is this a torch checkpoint?)`,
        );
    }
  }
}
