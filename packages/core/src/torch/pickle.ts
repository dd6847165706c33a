/**
 * A minimal, safe unpickler for the subset of the pickle format that `torch.save` writes (protocols 2 to 5).
 *
 * Hand-written because no maintained npm package unpickles in both Node and the browser without executing code,
 * and we must never execute anything: globals are resolved only against a small allow-list (OrderedDict, torch's
 * tensor rebuild functions, storage classes); any other global becomes an inert {@link PickleGlobal} placeholder
 * that is kept as data (e.g. an optimizer's state in a training checkpoint) and never called.
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

/** Hooks that give meaning to globals and persistent ids. */
export interface UnpickleHooks {
  /** Resolves `module.name`; return undefined to get an inert PickleGlobal. */
  findClass?: (module: string, name: string) => unknown;
  /** Resolves a persistent id (torch uses these for tensor storages). */
  persistentLoad?: (pid: unknown) => unknown;
}

/** A callable global known to the hooks: called with the REDUCE arguments. */
export interface PickleCallable {
  readonly pickleCall: (args: unknown[]) => unknown;
}

function isCallable(x: unknown): x is PickleCallable {
  return typeof x === "object" && x !== null && typeof (x as PickleCallable).pickleCall === "function";
}

const MARK = Symbol("mark");

/** Python dicts with non-string keys are rare in checkpoints; we use a Map to keep insertion order and any key. */
export type PyDict = Map<unknown, unknown>;

/**
 * Unpickles `bytes`. Dicts become `Map`, lists and tuples arrays, str strings, int numbers (or bigint beyond 2^53),
 * bytes Uint8Array, None null.
 */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks = {}): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder("utf-8");
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

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
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.slice(i + 1);
        stack.length = i;
        return items;
      }
    }
    throw new PickleError("MARK not found on the stack");
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    return stack.pop();
  };
  const top = () => stack[stack.length - 1];
  const resolve = (module: string, name: string) => {
    const found = hooks.findClass?.(module, name);
    return found === undefined ? new PickleGlobal(module, name) : found;
  };
  const call = (fn: unknown, args: unknown[]) => {
    if (isCallable(fn)) return fn.pickleCall(args);
    if (fn instanceof PickleGlobal) return new PickleObject(fn, args);
    throw new PickleError(`cannot call a ${typeof fn} while unpickling`);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (items.length % 2 !== 0) throw new PickleError("odd number of items for SETITEMS");
    for (let i = 0; i < items.length; i += 2) {
      if (dict instanceof Map) dict.set(items[i], items[i + 1]);
      else if (dict instanceof PickleObject) {
        // e.g. a dict subclass we do not model: keep its items as state.
        if (!(dict.state instanceof Map)) dict.state = new Map();
        (dict.state as Map<unknown, unknown>).set(items[i], items[i + 1]);
      } else throw new PickleError("SETITEM(S) on a non-dict");
    }
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(take(u32())));
        break;
      case 0x49: {
        // INT (text); "01"/"00" are True/False in protocol 0
        const s = line();
        stack.push(s === "01" ? true : s === "00" ? false : Number(s));
        break;
      }
      case 0x47: {
        // BINFLOAT: big-endian double
        need(8, "BINFLOAT");
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(dec.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(dec.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        need(8, "BINUNICODE8");
        stack.push(dec.decode(take(Number(view.getBigUint64(pos, true)))));
        break;
      case 0x54: // BINSTRING
        stack.push(dec.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(dec.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) throw new PickleError("ADDITEMS on a non-set");
        for (const it of items) s.add(it);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) throw new PickleError("APPEND on a non-list");
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw new PickleError("APPENDS on a non-list");
        l.push(...items);
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
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: {
        // BINGET
        const k = u8();
        if (!memo.has(k)) throw new PickleError(`BINGET of unknown memo key ${k}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x6a: {
        // LONG_BINGET
        const k = u32();
        if (!memo.has(k)) throw new PickleError(`LONG_BINGET of unknown memo key ${k}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        stack.push(resolve(String(module), String(name)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x62: {
        // BUILD: set state; for OrderedDict-like Maps there is nothing to do, otherwise keep it inert.
        const state = pop();
        const obj = top();
        if (obj instanceof PickleObject) obj.state = state;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) throw new PickleError("persistent id found but no persistentLoad hook given");
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new PickleError(
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${at} (torch.save writes protocol 2; is this a torch checkpoint?)`,
        );
    }
  }
}
