// hello-js: answers 200 text/plain "hello from a weir handler\n" with
// `x-handler: hello`, or the environment variable GREETING's value when set.
import { getEnvironment } from "wasi:cli/environment@0.2.10";

function greeting() {
  for (const [name, value] of getEnvironment()) {
    if (name === "GREETING") return value;
  }
  return "hello from a weir handler\n";
}

addEventListener("fetch", (event) =>
  event.respondWith(
    new Response(greeting(), {
      headers: { "content-type": "text/plain", "x-handler": "hello" },
    }),
  ),
);
