// The QuickJS engine of the JavaScript build: componentize-qjs (the engine
// behind `jco componentize --backend quickjs`), plus the two fixes its
// components need to be weir filters. Used by build.mjs.
//
// 1. The runtime exports an `init` of its own (its pre-initializer), which
//    collides with the contract's `init`: the filter's is built as
//    `weir-init` (guest-wit/make.sh --export-init-as), then the component's
//    exports are renamed: `weir-init` becomes `init`, and the runtime's
//    `init` is no longer exported.
// 2. In its synchronous mode (weir does not turn on the component-model
//    async ABI), the runtime ends the borrows of the `request` and
//    `response` handles a phase receives only in the phase's post-return.
//    The Component Model requires them ended before the call returns, and
//    wasmtime traps ("borrow handles still remain at the end of the call").
//    Each phase export is wrapped so that its borrowed handles are dropped
//    as soon as the runtime's export returns, and the runtime's own drops of
//    `request` and `response` handles (weir never gives a filter an owned
//    one) become no-ops.
//
// Both are edits of the component's text form (wasm-tools print, parse); a
// component of another shape (another componentize-qjs version) fails the
// build with a message saying so.

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The name the filter's `init` export is built under. */
export const INIT_EXPORT = "weir-init";

/** The phase exports, with the handles their leading parameters borrow. */
const PHASE_BORROWS = {
  "on-request-headers": ["request"],
  "on-request-body": ["request"],
  "on-response-headers": ["request", "response"],
  "on-response-body": ["request", "response"],
  "on-log": ["request", "response"],
};

/**
 * Adds `import wasi:random/random` to the guest world in `wit` (the SDK's
 * QuickJS setup seeds Math.random and crypto from it); `randomWit` is its WIT.
 */
export function addRandomImport(wit, randomWit) {
  const world = join(wit, "guest.wit");
  const text = readFileSync(world, "utf8");
  const version = readFileSync(randomWit, "utf8").match(/^package wasi:random@([\w.-]+);/m)?.[1];
  if (!version || !/^world guest \{$/m.test(text)) throw new Error(`${world}: no world guest, or no wasi:random package`);
  mkdirSync(join(wit, "deps"), { recursive: true });
  copyFileSync(randomWit, join(wit, "deps", "random.wit"));
  writeFileSync(world, text.replace(/^world guest \{$/m, `world guest {\n    import wasi:random/random@${version};`));
}

/** Builds the component: componentize-qjs, then the fixes above. */
export async function componentizeQuickJs({ toolchain, wasmTools, source, sourcePath, wit, world, work }) {
  const { componentize } = await import(join(toolchain, "componentize-qjs/index.js"));
  const { component } = await componentize({
    witPath: wit,
    jsSource: source,
    jsPath: sourcePath,
    world,
    // The non-async runtime: weir runs components without the
    // component-model async ABI.
    sync: true,
  });
  const raw = join(work, "quickjs.wasm");
  writeFileSync(raw, component);
  const wat = join(work, "quickjs.wat");
  execFileSync(wasmTools, ["print", "--name-unnamed", raw, "-o", wat], { stdio: "inherit" });
  writeFileSync(wat, patch(readFileSync(wat, "utf8")));
  const out = join(work, "patched.wasm");
  execFileSync(wasmTools, ["parse", wat, "-o", out], { stdio: "inherit" });
  execFileSync(wasmTools, ["validate", out], { stdio: "inherit" });
  // The text form named every function and local: those names would add a
  // third to the component. Custom sections are not needed to run it.
  const stripped = join(work, "stripped.wasm");
  execFileSync(wasmTools, ["strip", "--all", out, "-o", stripped], { stdio: "inherit" });
  return readFileSync(stripped);
}

// An identifier of the text format: $name or $"any text".
const ID = String.raw`\$(?:"[^"]*"|[^\s()"]+)`;
const quote = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function unexpected(what) {
  return new Error(
    `the QuickJS component does not have the shape weir's build expects (${what}); ` +
      `this componentize-qjs version is not supported: use the version scripts/setup-languages.sh pins`,
  );
}

/** The index of the one line matching `re`. */
function onlyLine(lines, re, what) {
  const hits = [];
  lines.forEach((line, i) => re.test(line) && hits.push(i));
  if (hits.length !== 1) throw unexpected(`${what}: ${hits.length} lines`);
  return hits[0];
}

function patch(text) {
  const lines = text.split("\n");

  // wasm-tools prints the identifier of an export declared in a type
  // before its name, where its parser does not take it back: move it into
  // the declaration, e.g. (export $t "request" (type (sub resource))) ->
  // (export "request" (type $t (sub resource))).
  const declared = new RegExp(String.raw`^(\s*)\(export (${ID}) (?:\(;\d+;\) )?("[^"]*") \((\w+) \(`);
  lines.forEach((line, i) => {
    lines[i] = line.replace(declared, "$1(export $3 ($4 $2 (");
  });

  // The core instance that hands weir:filter/http's functions to the
  // bindings module: its [resource-drop] exports are the runtime's drops.
  const realDrop = {};
  let httpInstance = -1;
  for (const resource of ["request", "response"]) {
    const re = new RegExp(String.raw`^\s*\(export "\[resource-drop\]${resource}" \(func (${ID})\)\)$`);
    const at = onlyLine(lines, re, `the [resource-drop]${resource} import`);
    realDrop[resource] = lines[at].match(re)[1];
    lines[at] = lines[at].replace(`(func ${realDrop[resource]})`, "(func $weir-noop-drop)");
    let start = at;
    while (start >= 0 && !/^\s*\(core instance /.test(lines[start])) start--;
    if (start < 0 || (httpInstance !== -1 && start !== httpInstance)) throw unexpected("the http core instance");
    httpInstance = start;
  }
  const indent = lines[httpInstance].match(/^\s*/)[0];
  const insertions = new Map(); // line index -> lines to insert before it
  insertions.set(httpInstance, [
    `(core module $weir-noop (func (export "drop") (param i32)))`,
    `(core instance $weir-noop-instance (instantiate $weir-noop))`,
    `(alias core export $weir-noop-instance "drop" (core func $weir-noop-drop))`,
  ].map((l) => indent + l));

  for (const [name, borrows] of Object.entries(PHASE_BORROWS)) {
    // The bindings module's core function of this export, and its signature.
    const exportRe = new RegExp(String.raw`^\s*\(export "${quote(name)}" \(func (${ID})\)\)$`);
    const exported = lines[onlyLine(lines, exportRe, `the core export ${name}`)].match(exportRe)[1];
    const defRe = new RegExp(String.raw`^\s*\(func ${quote(exported)} \(;\d+;\) \(type ${ID}\)((?: \(param ${ID} [if](?:32|64)\))*)((?: \(result [if](?:32|64)\))?)$`);
    const def = lines[onlyLine(lines, defRe, `the signature of ${name}`)].match(defRe);
    const params = [...def[1].matchAll(/\(param \S+ (\w+)\)/g)].map((m) => m[1]);
    const result = def[2] ? def[2].match(/\(result (\w+)\)/)[1] : null;
    if (params.length < borrows.length || params.slice(0, borrows.length).some((t) => t !== "i32")) {
      throw unexpected(`the parameters of ${name}`);
    }

    // The component-level alias of that export and its lift.
    const aliasRe = new RegExp(String.raw`^\s*\(alias core export ${ID} "${quote(name)}" \(core func (${ID}) \(;\d+;\)\)\)$`);
    const coreFunc = lines[onlyLine(lines, aliasRe, `the alias of ${name}`)].match(aliasRe)[1];
    const liftNeedle = `(canon lift (core func ${coreFunc})`;
    const lift = onlyLine(lines, { test: (l) => l.includes(liftNeedle) }, `the lift of ${name}`);
    const wrapped = `$weir-${name}-wrapped`;
    lines[lift] = lines[lift].replace(liftNeedle, `(canon lift (core func ${wrapped})`);

    const sig = `${params.map((t) => ` (param ${t})`).join("")}${result ? ` (result ${result})` : ""}`;
    const body = [
      ...params.map((_, i) => `local.get ${i}`),
      "call $export",
      ...borrows.flatMap((resource, i) => [`local.get ${i}`, `call $drop-${resource}`]),
    ].join(" ");
    const at = lines[lift].match(/^\s*/)[0];
    const mod = `$weir-${name}`;
    insertions.set(lift, [
      `(core module ${mod}`,
      `  (import "export" "f" (func $export${sig}))`,
      ...[...new Set(borrows)].map((r) => `  (import "drop" "${r}" (func $drop-${r} (param i32)))`),
      `  (func (export "f")${sig} ${body}))`,
      `(core instance ${mod}-export (export "f" (func ${coreFunc})))`,
      `(core instance ${mod}-drop${[...new Set(borrows)].map((r) => ` (export "${r}" (func ${realDrop[r]}))`).join("")})`,
      `(core instance ${mod}-instance (instantiate ${mod} (with "export" (instance ${mod}-export)) (with "drop" (instance ${mod}-drop))))`,
      `(alias core export ${mod}-instance "f" (core func ${wrapped}))`,
    ].map((l) => at + l));
  }

  // The outermost component's exports: the filter's init under its name,
  // the runtime's not at all.
  const top = (name) => new RegExp(String.raw`^  \(export (?:${ID} )?(?:\(@name "[^"]*"\) )?(?:\(;\d+;\) )?"${quote(name)}" \(func ${ID}\)\)$`);
  const runtimeInit = onlyLine(lines, top("init"), "the runtime's init export");
  const filterInit = onlyLine(lines, top(INIT_EXPORT), "the filter's init export");
  lines[filterInit] = lines[filterInit].replaceAll(`"${INIT_EXPORT}"`, `"init"`);
  lines[runtimeInit] = "";

  const out = [];
  lines.forEach((line, i) => {
    if (insertions.has(i)) out.push(...insertions.get(i));
    out.push(line);
  });
  return out.join("\n");
}
