package weirfilter

import (
	"fmt"

	"weirfilter/bindings/weir_filter_context"
	"weirfilter/bindings/weir_filter_log"
	"weirfilter/bindings/weir_filter_types"
)

// ContextGet reads the request's context, shared by the filters of one chain;
// false when the key is not set.
func ContextGet(key string) (string, bool) {
	value := weir_filter_context.Get(key)
	return value.SomeOr(""), value.IsSome()
}

// ContextSet sets a context value for the filters after this one.
func ContextSet(key, value string) { weir_filter_context.Set(key, value) }

// ContextRemove removes a context value.
func ContextRemove(key string) { weir_filter_context.Remove(key) }

// Level of a log line.
type Level = weir_filter_types.Level

const (
	LevelTrace Level = weir_filter_types.Level_Trace
	LevelDebug Level = weir_filter_types.Level_Debug
	LevelInfo  Level = weir_filter_types.Level_Info
	LevelWarn  Level = weir_filter_types.Level_Warn
	LevelError Level = weir_filter_types.Level_Error
)

// Log writes a line into weir's log, tagged with the filter's name.
func Log(level Level, message string) { weir_filter_log.Log(level, message) }

// Debugf logs at debug level, fmt.Sprintf style.
func Debugf(format string, args ...any) { Log(LevelDebug, fmt.Sprintf(format, args...)) }

// Infof logs at info level.
func Infof(format string, args ...any) { Log(LevelInfo, fmt.Sprintf(format, args...)) }

// Warnf logs at warn level.
func Warnf(format string, args ...any) { Log(LevelWarn, fmt.Sprintf(format, args...)) }

// Errorf logs at error level.
func Errorf(format string, args ...any) { Log(LevelError, fmt.Sprintf(format, args...)) }
