// {{name}}: sets `x-{{name}}: <greeting>` on the request (the upstream sees
// it) and on the response (the client sees it).
import { Filter, log } from "weir-filter";

const HEADER = "x-{{name}}";

export default class {{class}} extends Filter {
  // Called once per instance with the filter's `config`; throwing makes
  // weir refuse the config (`weir check` shows it).
  constructor(config) {
    super();
    this.greeting = config.string("greeting");
  }

  // weir calls only the phases the class defines.
  onRequestHeaders(req) {
    try {
      req.setHeader(HEADER, this.greeting);
    } catch (error) {
      log.warn(`cannot set ${HEADER}: ${error.message}`);
    }
  }

  onResponseHeaders(req, resp) {
    resp.setHeader(HEADER, this.greeting);
  }
}
