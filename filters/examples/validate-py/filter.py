"""Validates JSON request bodies against the JSON Schema in the config;
answers 400 with the errors otherwise. Bodies of other methods than
`methods` pass untouched.

    filters:
      validate:
        module: filters/target/languages/validate-py.wasm
        config:
          schema:
            type: object
            required: [name]
            properties: { name: { type: string }, age: { type: integer, minimum: 0 } }
"""

# fastjsonschema's code generator uses this codec; modules are bundled when
# the build imports them, and codecs are only looked up at run time.
import encodings.unicode_escape  # noqa: F401
import json

import fastjsonschema

from weir_filter import Decision, Filter, export_filter


class Validate(Filter):
    def __init__(self, config):
        schema = config.get("schema")
        if not isinstance(schema, dict):
            raise ValueError('config field "schema" is required: a JSON Schema object')
        try:
            self.validate = fastjsonschema.compile(schema)
        except fastjsonschema.JsonSchemaDefinitionException as error:
            raise ValueError(f'config field "schema": {error}') from None
        self.methods = {m.upper() for m in config.get("methods", ["POST", "PUT", "PATCH"])}

    def on_request_body(self, req, body):
        if req.method not in self.methods:
            return None
        try:
            document = json.loads(body)
        except ValueError as error:
            return Decision.json(400, {"errors": [f"body is not JSON: {error}"]})
        try:
            self.validate(document)
        except fastjsonschema.JsonSchemaValueException as error:
            return Decision.json(400, {"errors": [error.message], "path": error.path})
        return None


export_filter(Validate)
