// Builds a JavaScript filter directory into a weir filter component.
// Usage (through build.sh): node build.mjs SOURCE_DIR OUTPUT.wasm
//
// SOURCE_DIR holds the filter's module (package.json "main", default
// filter.js) whose default export is a Filter subclass. Its package.json may
// declare the capabilities it uses: { "weir": { "capabilities": ["key-value",
// "secrets", "http"] } }; the component imports only those, so weir asks
// for grants only for those.
//
// The JavaScript engine (package.json "weir": { "engine": ... }):
//   quickjs         the default: QuickJS (componentize-qjs, as
//                   `jco componentize --backend quickjs`), small components
//                   and cheap calls, synchronous phases only
//   starlingmonkey  SpiderMonkey (componentize-js): fetch() and async
//                   phases, a 12 MB component
// A filter that declares "http" (fetch) and names no engine is built on
// StarlingMonkey. WEIR_JS_ENGINE sets the engine of the filters that name
// none (e.g. to compare both builds of a filter).
//
// Steps: the guest WIT (filters/guest-wit/make.sh), an entry module that
// exports the filter through the SDK, one bundle of entry + filter + SDK +
// npm dependencies (rolldown), then the engine's componentizer.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const toolchain = resolve(here, "../.toolchains/js/node_modules");
const { rolldown } = await import(join(toolchain, "rolldown/dist/index.mjs"));
const wasmTools = resolve(here, "../.toolchains/wasm/bin/wasm-tools");

const [source, output] = process.argv.slice(2).map((p) => resolve(p));
if (!source || !output) {
  console.error("usage: build.sh SOURCE_DIR OUTPUT.wasm");
  process.exit(2);
}

const manifestPath = join(source, "package.json");
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : {};
const main = join(source, manifest.main ?? "filter.js");
const capabilities = manifest.weir?.capabilities ?? [];
if (!existsSync(main)) {
  console.error(`${main} not found (the filter's module: package.json "main", default filter.js)`);
  process.exit(2);
}

const ENGINES = ["quickjs", "starlingmonkey"];
const declared = manifest.weir?.engine;
const fromEnv = process.env.WEIR_JS_ENGINE || undefined;
for (const [where, value] of [[`${manifestPath}: "weir".engine`, declared], ["WEIR_JS_ENGINE", fromEnv]]) {
  if (value !== undefined && !ENGINES.includes(value)) {
    console.error(`${where}: unknown engine "${value}" (expected ${ENGINES.join(" or ")})`);
    process.exit(2);
  }
}
let engine = declared ?? fromEnv ?? "quickjs";
if (capabilities.includes("http") && engine === "quickjs") {
  if (declared === "quickjs") {
    console.error(
      `${manifestPath}: the "http" capability (fetch) needs the StarlingMonkey engine: ` +
        `QuickJS has no fetch() and no async phases. Set "weir": { "engine": "starlingmonkey" }.`,
    );
    process.exit(2);
  }
  // fetch() exists only in StarlingMonkey.
  console.log(`${source}: built on StarlingMonkey (its "http" capability, fetch(), needs it)`);
  engine = "starlingmonkey";
}

const work = mkdtempSync(join(tmpdir(), "weir-js-build-"));
try {
  const wit = join(work, "wit");
  const quickjs = engine === "quickjs";
  const quickjsBuild = quickjs ? await import("./quickjs.mjs") : null;
  const initArgs = quickjs ? ["--export-init-as", quickjsBuild.INIT_EXPORT] : [];
  execFileSync(join(here, "../guest-wit/make.sh"), [wit, ...initArgs, ...capabilities], { stdio: "inherit" });
  // The entry's export of the contract's `init` (camelCase of its WIT name).
  const initName = quickjs ? quickjsBuild.INIT_EXPORT.replace(/-(\w)/g, (_, c) => c.toUpperCase()) : "init";
  // QuickJS: the SDK's run-time setup (weir-filter/quickjs.js) seeds from wasi:random.
  if (quickjs) quickjsBuild.addRandomImport(wit, join(here, "../guest-wit/deps/random.wit"));
  const prelude = quickjs
    ? `import { install } from "weir-filter/quickjs.js";
install();
`
    : "";

  const entry = join(work, "entry.js");
  writeFileSync(
    entry,
    `import FilterClass from ${JSON.stringify(main)};
import { exportFilter } from "weir-filter";
${prelude}const exported = exportFilter(FilterClass);
export const ${initName} = exported.init;
export const onRequestHeaders = exported.onRequestHeaders;
export const onRequestBody = exported.onRequestBody;
export const onResponseHeaders = exported.onResponseHeaders;
export const onResponseBody = exported.onResponseBody;
export const onLog = exported.onLog;
`,
  );

  const bundle = await rolldown({
    input: entry,
    platform: "neutral",
    external: (id) => id.startsWith("weir:") || id.startsWith("wasi:"),
    resolve: { alias: { "weir-filter": join(here, "weir-filter") } },
    // The SDK maps a few WIT types per engine (weir-filter/engine.js).
    transform: { define: { __WEIR_ENGINE__: JSON.stringify(engine) } },
    logLevel: "warn",
  });
  const bundled = join(work, "bundle.js");
  await bundle.write({ file: bundled, format: "esm" });
  await bundle.close();

  let component;
  if (quickjs) {
    component = await quickjsBuild.componentizeQuickJs({
      toolchain,
      wasmTools,
      source: readFileSync(bundled, "utf8"),
      sourcePath: bundled,
      wit,
      world: "guest",
      work,
    });
  } else {
    const { componentize } = await import(join(toolchain, "@bytecodealliance/componentize-js/src/componentize.js"));
    // StarlingMonkey's fetch() needs wasi:http: only for filters granted it.
    const disableFeatures = capabilities.includes("http") ? ["fetch-event"] : ["http", "fetch-event"];
    ({ component } = await componentize({
      sourcePath: bundled,
      witPath: wit,
      worldName: "guest",
      disableFeatures,
    }));
  }
  writeFileSync(output, component);
} finally {
  rmSync(work, { recursive: true, force: true });
}
