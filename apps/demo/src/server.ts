/**
 * `pnpm demo [--port 5173] [--host 127.0.0.1]`: serves the demo page (dist/page, built by vite) and its API:
 *
 *   GET  /api/samples             the sample speaker clips and synthetic listeners (with their styles)
 *   GET  /api/initial             the first sample clip's generic reactions (made once at start, then cached)
 *   GET  /api/speech/<n>.wav      a sample clip's speech
 *   POST /api/generate            a DemoRequest (JSON; uploads base64) -> NDJSON lines: {"progress":[step,total]}...,
 *                                 then {"result": DemoResult} or {"error": message}
 *
 * Node's own http module: the API is five routes, a framework would add more than it saves.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DemoInputError, DemoModel } from "./model";
import type { DemoRequest, DemoResult } from "./model";

/** Uploads are base64 in JSON: a 30 s 44.1 kHz stereo WAV is ~7 MB, so 24 MB leaves room for the face files. */
export const MAX_BODY_BYTES = 24 * 1024 * 1024;
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

async function body(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new DemoInputError(`the request is over ${MAX_BODY_BYTES / 1024 / 1024} MB; upload a shorter clip`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

export interface DemoServerOptions {
  /** default 5173; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** the built page (default: dist/page beside the server) */
  pageDir?: string;
  /** the first clip's generation (default 4 generic reactions to sample clip 1, 10 steps) */
  first?: Partial<DemoRequest>;
  log?: (line: string) => void;
}

/** Starts the server (the model loads first; the first clip's reactions are made in the background). */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pageDir = options.pageDir ?? fileURLToPath(new URL("./page/", import.meta.url));
  const model = await DemoModel.create();
  const initial: Promise<DemoResult> = model.generate({ speaker: { sample: "1" }, listener: null, k: 4, steps: 10, ...options.first });
  initial.then((r) => log(`first clip's reactions ready (${r.seconds.toFixed(1)} s)`)).catch((err) => log(`first clip failed: ${(err as Error).message}`));

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (req.method === "GET" && url.pathname === "/api/samples") return json(res, 200, model.samples);
      if (req.method === "GET" && url.pathname === "/api/initial") return json(res, 200, await initial);
      const speech = url.pathname.match(/^\/api\/speech\/(\w+)\.wav$/);
      if (req.method === "GET" && speech) {
        const wav = await model.sampleWav(speech[1]!);
        res.writeHead(200, { "content-type": "audio/wav", "content-length": wav.length });
        return res.end(wav);
      }
      if (req.method === "POST" && url.pathname === "/api/generate") {
        let request: DemoRequest;
        try {
          request = JSON.parse(await body(req)) as DemoRequest;
        } catch (err) {
          throw err instanceof DemoInputError ? err : new DemoInputError(`the request is not JSON (${(err as Error).message})`);
        }
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        try {
          const result = await model.generate(request, (step, total) => res.write(`${JSON.stringify({ progress: [step, total] })}\n`));
          res.end(`${JSON.stringify({ result })}\n`);
        } catch (err) {
          res.end(`${JSON.stringify({ error: err instanceof DemoInputError ? err.message : `generation failed: ${(err as Error).message}` })}\n`);
          if (!(err instanceof DemoInputError)) log(`generation failed: ${(err as Error).stack}`);
        }
        return;
      }
      if (req.method === "GET" && !url.pathname.startsWith("/api/")) {
        const file = normalize(join(pageDir, url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname)));
        if (!file.startsWith(pageDir)) return json(res, 403, { error: "outside the page" });
        const data = await readFile(file).catch(() => null);
        if (!data) return json(res, 404, { error: `no such file: ${url.pathname}` });
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
        return res.end(data);
      }
      json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      if (res.headersSent) return res.end();
      json(res, err instanceof DemoInputError ? 400 : 500, { error: (err as Error).message });
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5173, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        model.dispose();
      }),
  };
}

// run as a program: pnpm demo [--port N] [--host H]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "5173" }, host: { type: "string", default: "127.0.0.1" } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`demo: --port must be a whole number from 0 to 65535, got '${values.port}'\n`);
    process.exit(2);
  }
  startDemoServer({ port, host: values.host }).then(
    (s) => process.stderr.write(`PerFRDiff-TS demo: ${s.url}\n`),
    (err: Error) => {
      process.stderr.write(`demo: ${err.message}\n`);
      process.exit(1);
    },
  );
}
