// {{name}}: answers 200 text/plain "hello from {{name}}\n" with
// `x-handler: {{name}}`, or the environment variable GREETING's value when
// set. The Service Worker API: Request, Response, Headers, streams and
// fetch() (outbound requests, through wasi:http/outgoing-handler).
//
// WASI interfaces are imported at the WASI release the JavaScript engine is
// built against (0.2.10); weir links every 0.2.x.
import { getEnvironment } from "wasi:cli/environment@0.2.10";

function greeting() {
  for (const [name, value] of getEnvironment()) {
    if (name === "GREETING") return value;
  }
  return "hello from {{name}}\n";
}

addEventListener("fetch", (event) =>
  event.respondWith(
    new Response(greeting(), {
      status: 200,
      headers: { "content-type": "text/plain", "x-handler": "{{name}}" },
    }),
  ),
);
