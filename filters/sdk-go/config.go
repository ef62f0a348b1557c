package weirfilter

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Config is the filter's `config` from weir's config file, as JSON.
type Config struct {
	// JSON is the config as weir serialized it ("null" when absent).
	JSON []byte
}

// Given reports whether the config file has a `config` for the filter.
func (c Config) Given() bool {
	return !bytes.Equal(bytes.TrimSpace(c.JSON), []byte("null"))
}

// Decode unmarshals the config into v (encoding/json rules). An absent
// config decodes as an empty object, so required fields read as missing.
func (c Config) Decode(v any) error {
	data := c.JSON
	if !c.Given() {
		data = []byte("{}")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("config: %v", err)
	}
	return nil
}

// String is a required top-level string field.
func (c Config) String(key string) (string, error) {
	if !c.Given() {
		return "", fmt.Errorf("no `config` given (config field %q is required)", key)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(c.JSON, &fields); err != nil {
		return "", fmt.Errorf("config: expected an object")
	}
	raw, ok := fields[key]
	if !ok || string(raw) == "null" {
		return "", fmt.Errorf("config field %q is required", key)
	}
	var value string
	if err := json.Unmarshal(raw, &value); err != nil {
		return "", fmt.Errorf("config field %q: expected a string", key)
	}
	return value, nil
}
