// Builds a JavaScript handler directory into a `wasi:http/proxy` component.
// Usage (through js.sh): node js.mjs SOURCE_DIR OUTPUT.wasm
//
// SOURCE_DIR holds the handler's module (package.json "main", default
// handler.js), which answers requests the Service Worker way:
//   addEventListener("fetch", (event) => event.respondWith(new Response("hi")));
// and may import WASI interfaces of the handler world, such as
//   import { getEnvironment } from "wasi:cli/environment@0.2.10";
//
// The engine is StarlingMonkey (componentize-js), which implements the
// fetch event, Request, Response, streams and fetch() over wasi:http itself.
// It is built against one WASI 0.2 release (0.2.10 for componentize-js
// 0.23.0), and the world it is given must name that release: the build
// copies filters/handler-wit with every `0.2.N` above it lowered to it, and
// the handler's `wasi:` imports name it too (weir links every 0.2.x).
// QuickJS (componentize-qjs 0.4.5) cannot build this world: its
// pre-initializer does not link wasi:http/types.
//
// Steps: one bundle of the handler and its npm dependencies (rolldown,
// `wasi:` imports left external), the WIT at the engine's WASI release,
// then componentize-js.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const toolchain = resolve(here, "../.toolchains/js/node_modules");
const wit = resolve(here, "../handler-wit");
const { rolldown } = await import(join(toolchain, "rolldown/dist/index.mjs"));

const [source, output] = process.argv.slice(2).map((p) => resolve(p));
if (!source || !output) {
  console.error("usage: js.sh SOURCE_DIR OUTPUT.wasm");
  process.exit(2);
}
const manifestPath = join(source, "package.json");
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : {};
const main = join(source, manifest.main ?? "handler.js");
if (!existsSync(main)) {
  console.error(`${main} not found (the handler's module: package.json "main", default handler.js)`);
  process.exit(2);
}

// The WASI release the engine exports wasi:http/incoming-handler at.
const engineDir = join(toolchain, "@bytecodealliance/componentize-js/lib");
const engine = readFileSync(join(engineDir, "starlingmonkey_embedding.wasm")).toString("latin1");
const release = engine.match(/wasi:http\/incoming-handler@0\.2\.(\d+)#handle/)?.[1];
if (release === undefined) {
  console.error(`${engineDir}: no wasi:http/incoming-handler@0.2.x export in StarlingMonkey: an unsupported componentize-js`);
  process.exit(1);
}
const lower = (text) => text.replace(/\b0\.2\.(\d+)\b/g, (v, n) => (Number(n) > Number(release) ? `0.2.${release}` : v));

const work = mkdtempSync(join(tmpdir(), "weir-handler-js-"));
try {
  mkdirSync(join(work, "wit/deps"), { recursive: true });
  writeFileSync(join(work, "wit/world.wit"), lower(readFileSync(join(wit, "world.wit"), "utf8")));
  for (const file of readdirSync(join(wit, "deps"))) {
    writeFileSync(join(work, "wit/deps", file), lower(readFileSync(join(wit, "deps", file), "utf8")));
  }

  const bundle = await rolldown({
    input: main,
    platform: "neutral",
    external: (id) => id.startsWith("wasi:"),
    logLevel: "warn",
  });
  const bundled = join(work, "bundle.js");
  await bundle.write({ file: bundled, format: "esm" });
  await bundle.close();
  for (const [, spec] of readFileSync(bundled, "utf8").matchAll(/from\s*["'](wasi:[^"']+)["']/g)) {
    if (lower(spec) !== spec) {
      console.error(`${main}: import "${spec}": the JavaScript engine is built against WASI 0.2.${release}: import "${lower(spec)}"`);
      process.exit(2);
    }
  }

  const { componentize } = await import(join(toolchain, "@bytecodealliance/componentize-js/src/componentize.js"));
  const { component } = await componentize({
    sourcePath: bundled,
    witPath: join(work, "wit"),
    worldName: "handler",
  });
  writeFileSync(output, component);
} finally {
  rmSync(work, { recursive: true, force: true });
}
