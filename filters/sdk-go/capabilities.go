package weirfilter

import (
	"errors"

	"weirfilter/bindings/weir_filter_key_value"
	"weirfilter/bindings/weir_filter_secrets"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Store is an open key-value store (grants.key_value). Open it once, in the
// constructor, and keep it. A filter that never opens a store does not
// import the capability, so it needs no grant.
type Store struct {
	handle *weir_filter_key_value.Store
}

// KVError is why a key-value call failed; Kind is "not granted",
// "unavailable" (the backend is slow or down: try again later) or "invalid".
type KVError struct {
	Kind    string
	Message string
}

func (e *KVError) Error() string { return e.Kind + ": " + e.Message }

func kvError(err weir_filter_key_value.Error) error {
	switch err.Tag() {
	case weir_filter_key_value.Error_NotGranted:
		return &KVError{"not granted", err.NotGranted()}
	case weir_filter_key_value.Error_Unavailable:
		return &KVError{"unavailable", err.Unavailable()}
	default:
		return &KVError{"invalid", err.Invalid()}
	}
}

// ttl: 0 means no expiry.
func ttl(ms uint64) witTypes.Option[uint64] {
	if ms == 0 {
		return witTypes.None[uint64]()
	}
	return witTypes.Some(ms)
}

// OpenStore opens a store granted to this filter.
func OpenStore(name string) (*Store, error) {
	result := weir_filter_key_value.StoreOpen(name)
	if result.IsErr() {
		return nil, kvError(result.Err())
	}
	return &Store{handle: result.Ok()}, nil
}

// Get is a key's value; false when it is not set (or expired).
func (s *Store) Get(key string) ([]byte, bool, error) {
	result := s.handle.Get(key)
	if result.IsErr() {
		return nil, false, kvError(result.Err())
	}
	value := result.Ok()
	return value.SomeOr(nil), value.IsSome(), nil
}

// Set sets a key; ttlMs 0: never expires.
func (s *Store) Set(key string, value []byte, ttlMs uint64) error {
	if result := s.handle.Set(key, value, ttl(ttlMs)); result.IsErr() {
		return kvError(result.Err())
	}
	return nil
}

// Delete removes a key and says whether it was set.
func (s *Store) Delete(key string) (bool, error) {
	result := s.handle.Delete(key)
	if result.IsErr() {
		return false, kvError(result.Err())
	}
	return result.Ok(), nil
}

// Increment adds delta to the integer at key (missing: 0) and returns the new
// value; ttlMs (0: none) applies only when this call creates the key.
func (s *Store) Increment(key string, delta int64, ttlMs uint64) (int64, error) {
	result := s.handle.Increment(key, delta, ttl(ttlMs))
	if result.IsErr() {
		return 0, kvError(result.Err())
	}
	return result.Ok(), nil
}

// CompareAndSwap sets value only if the current value equals expected (nil:
// only if the key is not set), atomically; it says whether it did.
func (s *Store) CompareAndSwap(key string, expected, value []byte, ttlMs uint64) (bool, error) {
	want := witTypes.None[[]uint8]()
	if expected != nil {
		want = witTypes.Some(expected)
	}
	result := s.handle.CompareAndSwap(key, want, value, ttl(ttlMs))
	if result.IsErr() {
		return false, kvError(result.Err())
	}
	return result.Ok(), nil
}

// Throttled is the answer of Throttle.
type Throttled = weir_filter_key_value.Throttled

// Throttle spends cost of a quota of limit per windowMs on key (GCRA).
func (s *Store) Throttle(key string, limit, windowMs, cost uint64) (Throttled, error) {
	result := s.handle.Throttle(key, weir_filter_key_value.Quota{Limit: limit, WindowMs: windowMs}, cost)
	if result.IsErr() {
		return Throttled{}, kvError(result.Err())
	}
	return result.Ok(), nil
}

// Secret is the value of a secret granted to this filter (grants.secrets).
func Secret(name string) ([]byte, error) {
	result := weir_filter_secrets.Get(name)
	if result.IsErr() {
		return nil, errors.New(result.Err())
	}
	return result.Ok(), nil
}
