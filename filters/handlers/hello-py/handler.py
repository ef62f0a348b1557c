"""hello-py: answers 200 text/plain "hello from a weir handler\\n" with
`x-handler: hello`, or the environment variable GREETING's value when set."""

from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports import environment
from wit_world.imports.types import (
    Fields,
    IncomingRequest,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)


def greeting() -> str:
    # Read per request: `os.environ` is filled in when the component is
    # built (componentize-py runs the interpreter's start-up then).
    for name, value in environment.get_environment():
        if name == "GREETING":
            return value
    return "hello from a weir handler\n"


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        headers = Fields.from_list(
            [("content-type", b"text/plain"), ("x-handler", b"hello")]
        )
        response = OutgoingResponse(headers)
        body = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        data = greeting().encode()
        with body.write() as stream:
            # At most 4096 bytes per call.
            for start in range(0, len(data), 4096):
                stream.blocking_write_and_flush(data[start : start + 4096])
        OutgoingBody.finish(body, None)
