/**
 * The demo page: asks the server for K reactions (the first sample clip's on load), then plays the speaker's face
 * beside the K reaction faces, in time with the speech (or with a clock while the audio is paused, so the faces move
 * without a click), with the timeline picture and the set's metrics. `window.demo` exposes the state for the tests.
 */
import { drawFace, rgbImage } from "@perfrdiff/viz";
// the server's answers (types only: nothing of the server is bundled into the page)
import type { DemoResult as Result, DemoSamples as Samples } from "../src/model";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SIZE = 192;
const FACE = 58;
const floats = (b64: string) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

const state = {
  result: null as Result | null,
  speaker3dmm: new Float32Array(0),
  coefficients: new Float32Array(0),
  frame: -1,
  generating: false,
  error: "",
  started: performance.now(),
};
(window as unknown as { demo: typeof state }).demo = state;

function showError(message: string) {
  state.error = message;
  $("error").textContent = message;
}

function show(result: Result, audioUrl: string | null) {
  state.result = result;
  state.speaker3dmm = floats(result.speaker3dmm);
  state.coefficients = floats(result.coefficients);
  state.started = performance.now();
  const canvas = $<HTMLCanvasElement>("faces");
  canvas.width = (result.k + 1) * SIZE;
  canvas.height = SIZE;
  $("labels").innerHTML = ["speaker", ...Array.from({ length: result.k }, (_, i) => `reaction ${i + 1}`)].map((l) => `<span style="width:${SIZE}px">${l}</span>`).join("");
  $("timeline").innerHTML = result.timeline;
  const m = result.metrics;
  $("metrics").textContent =
    `${result.k} ${result.personalised ? `reactions personalised to ${result.listener}` : "generic reactions"} in ${result.seconds.toFixed(1)} s. ` +
    `FRDiv ${m.FRDiv.toFixed(3)} (how much the K reactions differ), FRVar ${m.FRVar.toFixed(3)} (how much each moves), FRSyn ${m.FRSyn} (frames of lag to the speaker)`;
  const audio = $<HTMLAudioElement>("audio");
  if (audioUrl) {
    audio.src = audioUrl;
    audio.muted = true; // browsers play muted media without a click; unmute with the controls
    audio.play().catch(() => undefined);
  } else audio.removeAttribute("src");
}

function draw() {
  const r = state.result;
  if (r) {
    const audio = $<HTMLAudioElement>("audio");
    const seconds = audio.src && !audio.paused ? audio.currentTime : ((performance.now() - state.started) / 1000) % (r.frames / r.fps);
    const frame = Math.min(r.frames - 1, Math.floor(seconds * r.fps));
    if (frame !== state.frame) {
      state.frame = frame;
      const img = rgbImage((r.k + 1) * SIZE, SIZE, [245, 245, 245]);
      drawFace(img, 0, 0, SIZE, state.speaker3dmm.subarray(frame * FACE, (frame + 1) * FACE), { frame: [0, 0, 0] });
      for (let i = 0; i < r.k; i++) drawFace(img, (i + 1) * SIZE, 0, SIZE, state.coefficients.subarray((i * r.frames + frame) * FACE, (i * r.frames + frame + 1) * FACE));
      const canvas = $<HTMLCanvasElement>("faces");
      const rgba = new ImageData(img.width, img.height);
      for (let p = 0, q = 0; p < img.data.length; p += 3, q += 4) {
        rgba.data[q] = img.data[p]!;
        rgba.data[q + 1] = img.data[p + 1]!;
        rgba.data[q + 2] = img.data[p + 2]!;
        rgba.data[q + 3] = 255;
      }
      canvas.getContext("2d")!.putImageData(rgba, 0, 0);
    }
  }
  requestAnimationFrame(draw);
}

/** A file input's content as base64, or undefined. */
async function fileBase64(id: string): Promise<string | undefined> {
  const file = $<HTMLInputElement>(id).files?.[0];
  if (!file) return undefined;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function generate() {
  if (state.generating) return;
  showError("");
  state.generating = true;
  const button = $<HTMLButtonElement>("generate");
  button.disabled = true;
  const progress = $<HTMLProgressElement>("progress");
  progress.value = 0;
  $("status").textContent = "generating...";
  try {
    const wav = await fileBase64("wav");
    const speaker = wav ? { wav, emotion: await fileBase64("emotion"), threeDmm: await fileBase64("threeDmm") } : { sample: $<HTMLSelectElement>("speaker").value };
    const history = await fileBase64("history");
    const chosen = $<HTMLSelectElement>("listener").value;
    const listener = history ? { history } : chosen ? { sample: chosen } : null;
    const body = JSON.stringify({ speaker, listener, k: Number($<HTMLInputElement>("k").value), steps: Number($<HTMLInputElement>("steps").value) });
    const res = await fetch("api/generate", { method: "POST", headers: { "content-type": "application/json" }, body });
    if (!res.ok) throw new Error((await res.json().catch(() => ({ error: `HTTP ${res.status}` }))).error);
    // NDJSON: progress lines, then the result or an error
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (line.progress) progress.value = line.progress[0] / line.progress[1];
        if (line.error) throw new Error(line.error);
        if (line.result) {
          const file = $<HTMLInputElement>("wav").files?.[0];
          show(line.result as Result, file ? URL.createObjectURL(file) : `api/speech/${(speaker as { sample: string }).sample}.wav`);
          $("status").textContent = "done";
        }
      }
      if (done) break;
    }
  } catch (err) {
    showError((err as Error).message);
    $("status").textContent = "";
  } finally {
    state.generating = false;
    button.disabled = false;
  }
}

async function start() {
  const samples = (await (await fetch("api/samples")).json()) as Samples;
  $("speaker").innerHTML = samples.speakers.map((s) => `<option value="${s.name}">${s.name}: ${s.clip}</option>`).join("");
  const describe = (style: Record<string, unknown>) => `${style.smileStyle} smile, expressiveness ${(style.expressiveness as number).toFixed(2)}, latency ${(style.latency as number).toFixed(2)} s`;
  $("listener").innerHTML = `<option value="">nobody (generic)</option>${samples.listeners.map((l) => `<option value="${l.name}">${l.name}: ${describe(l.style)}</option>`).join("")}`;
  $("generate").addEventListener("click", () => void generate());
  requestAnimationFrame(draw);
  $("status").textContent = "making the first clip's reactions...";
  const first = await fetch("api/initial");
  if (!first.ok) throw new Error((await first.json()).error);
  show((await first.json()) as Result, "api/speech/1.wav");
  $("status").textContent = "";
}

start().catch((err: Error) => showError(err.message));
