// Builds a JavaScript filter directory into a weir filter component.
// Usage (through build.sh): node build.mjs SOURCE_DIR OUTPUT.wasm
//
// SOURCE_DIR holds the filter's module (package.json "main", default
// filter.js) whose default export is a Filter subclass. Its package.json may
// declare the capabilities it uses: { "weir": { "capabilities": ["key-value",
// "secrets", "http"] } }; the component imports only those, so weir asks
// for grants only for those.
//
// Steps: the guest WIT (filters/guest-wit/make.sh), an entry module that
// exports the filter through the SDK, one bundle of entry + filter + SDK +
// npm dependencies (rolldown), then componentize-js (StarlingMonkey).

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const toolchain = resolve(here, "../.toolchains/js/node_modules");
const { rolldown } = await import(join(toolchain, "rolldown/dist/index.mjs"));
const { componentize } = await import(join(toolchain, "@bytecodealliance/componentize-js/src/componentize.js"));

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

const work = mkdtempSync(join(tmpdir(), "weir-js-build-"));
try {
  const wit = join(work, "wit");
  execFileSync(join(here, "../guest-wit/make.sh"), [wit, ...capabilities], { stdio: "inherit" });

  const entry = join(work, "entry.js");
  writeFileSync(
    entry,
    `import FilterClass from ${JSON.stringify(main)};
import { exportFilter } from "weir-filter";
const exported = exportFilter(FilterClass);
export const init = exported.init;
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
    logLevel: "warn",
  });
  const bundled = join(work, "bundle.js");
  await bundle.write({ file: bundled, format: "esm" });
  await bundle.close();

  // StarlingMonkey's fetch() needs wasi:http: only for filters granted it.
  const disableFeatures = capabilities.includes("http") ? ["fetch-event"] : ["http", "fetch-event"];
  const { component } = await componentize({
    sourcePath: bundled,
    witPath: wit,
    worldName: "guest",
    disableFeatures,
  });
  writeFileSync(output, component);
} finally {
  rmSync(work, { recursive: true, force: true });
}
