package wire

import "encoding/json"

// APIError is the body of a failed REST call, e.g. tokeninfo.
type APIError struct {
	ErrorCode string            `json:"error_code"`
	Message   string            `json:"message"`
	Details   []json.RawMessage `json:"details,omitempty"`
}

func (e *APIError) Error() string { return e.ErrorCode + ": " + e.Message }

// REST error codes.
const (
	ErrInvalidParameterValue = "INVALID_PARAMETER_VALUE"
	ErrResourceDoesNotExist  = "RESOURCE_DOES_NOT_EXIST"
	ErrPermissionDenied      = "PERMISSION_DENIED"
	ErrUnauthenticated       = "UNAUTHENTICATED"
	ErrRequestLimitExceeded  = "REQUEST_LIMIT_EXCEEDED"
	ErrInternal              = "INTERNAL_ERROR"
	ErrTemporarilyUnavail    = "TEMPORARILY_UNAVAILABLE"
	ErrBadRequest            = "BAD_REQUEST"
	ErrNotFound              = "NOT_FOUND"
)
