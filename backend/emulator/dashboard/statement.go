package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// Statement is one statement of the SQL Statement Execution API, ready to
// run on the sample database: its :name markers bound from Params.
type Statement struct {
	SQL string
	// Params are the values of the :name markers; a nil value is NULL.
	// Every marker of SQL must have one (see NamedMarkers).
	Params map[string]*string
	// CanRead says whether the caller may read a table; nil allows all.
	CanRead func(table string) bool
	// RowLimit caps the rows (0: no cap but MaxBytes); Truncated says
	// when there were more.
	RowLimit int
	// ByteLimit cuts the result once its values pass that many bytes (0:
	// none), setting Truncated, as the request's byte_limit does.
	ByteLimit int64
	// MaxBytes bounds the result's values in bytes: the statement fails
	// past it, as an INLINE result over its limit does.
	MaxBytes int64
}

// StatementResult is a statement's rows in the JSON_ARRAY format: every
// value its string form, or nil for NULL.
type StatementResult struct {
	Columns   []StatementColumn
	Rows      [][]*string
	Bytes     int64
	Truncated bool
}

// StatementColumn names one result column and its Databricks type name.
type StatementColumn struct {
	Name, TypeName string
}

// DeniedError is a statement refused by the caller's grants: the tables it
// may not read, or an operation that is not a read.
type DeniedError struct {
	Tables []string // tables the caller may not SELECT from
	Write  string   // a non-read operation, e.g. "INSERT", when that was refused
}

func (e *DeniedError) Error() string {
	if len(e.Tables) > 0 {
		return "no SELECT on " + strings.Join(e.Tables, ", ")
	}
	return "the warehouse is read-only: " + e.Write + " is refused"
}

// ErrTooLarge is a result larger than Statement.MaxBytes.
var ErrTooLarge = errors.New("the result is larger than the inline limit")

// RunStatement runs st on db with SQLite's authorizer standing for Unity
// Catalog's grants: each table read is checked with CanRead, and anything
// but reading (INSERT, UPDATE, DELETE, CREATE, PRAGMA, ATTACH…) is refused,
// so a statement can neither change the sample data nor escape the grants.
// Values are bound as parameters; ctx cancels the query.
func RunStatement(ctx context.Context, db *sql.DB, st Statement) (*StatementResult, error) {
	markers, err := NamedMarkers(st.SQL)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(markers))
	for _, m := range markers {
		v, ok := st.Params[m]
		if !ok {
			return nil, &UnboundError{Name: m}
		}
		if v == nil {
			args = append(args, sql.Named(m, nil))
		} else {
			args = append(args, sql.Named(m, *v))
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	denied := &DeniedError{}
	auth := func(action sqlite.AuthorizerActionCode, arg1, _, _, _ string) sqlite.AuthorizerReturnCode {
		switch action {
		case sqlite.AuthSelect, sqlite.AuthFunction, sqlite.AuthRecursive:
			return sqlite.AuthorizerOK
		case sqlite.AuthRead:
			if st.CanRead == nil || st.CanRead(arg1) {
				return sqlite.AuthorizerOK
			}
			if !slices.Contains(denied.Tables, arg1) {
				denied.Tables = append(denied.Tables, arg1)
			}
			return sqlite.AuthorizerDeny
		}
		if denied.Write == "" {
			denied.Write = actionName(action)
		}
		return sqlite.AuthorizerDeny
	}
	if err := setAuthorizer(conn, auth); err != nil {
		return nil, err
	}
	// The connection goes back to the pool (the embed page's queries
	// share it) without the policy.
	defer func() { _ = setAuthorizer(conn, nil) }()
	rows, err := conn.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		if len(denied.Tables) > 0 || denied.Write != "" {
			return nil, denied
		}
		return nil, err
	}
	defer rows.Close()
	return readStatementRows(rows, st)
}

func setAuthorizer(conn *sql.Conn, fn sqlite.AuthorizerFn) error {
	return conn.Raw(func(dc any) error {
		reg, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("the SQLite driver has no authorizer")
		}
		return reg.RegisterAuthorizer(fn)
	})
}

func readStatementRows(rows *sql.Rows, st Statement) (*StatementResult, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &StatementResult{Columns: make([]StatementColumn, len(types)), Rows: [][]*string{}}
	// An expression's column has no declared type: the first value that
	// is not NULL says it.
	open := make([]bool, len(types))
	for i, t := range types {
		res.Columns[i] = StatementColumn{Name: t.Name(), TypeName: databricksType(t.DatabaseTypeName())}
		open[i] = t.DatabaseTypeName() == ""
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if st.RowLimit > 0 && len(res.Rows) == st.RowLimit {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(vals))
		var size int64
		for i, v := range vals {
			if open[i] && v != nil {
				res.Columns[i].TypeName, open[i] = typeOfValue(v), false
			}
			if s, ok := jsonArrayValue(v); ok {
				row[i] = &s
				size += int64(len(s))
			}
		}
		if st.ByteLimit > 0 && res.Bytes+size > st.ByteLimit {
			res.Truncated = true
			break
		}
		if st.MaxBytes > 0 && res.Bytes+size > st.MaxBytes {
			return nil, ErrTooLarge
		}
		res.Bytes += size
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// jsonArrayValue is a value's string form in the JSON_ARRAY format; false
// for NULL.
func jsonArrayValue(v any) (string, bool) {
	switch v := plainValue(v).(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatFloat(v, 'f', 1, 64), true
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), true
	default:
		return fmt.Sprint(v), true
	}
}

// databricksType maps SQLite's declared type to a Databricks type name.
func databricksType(decl string) string {
	switch strings.ToUpper(decl) {
	case "INTEGER", "INT", "BIGINT":
		return "LONG"
	case "REAL", "DOUBLE", "FLOAT", "NUMERIC":
		return "DOUBLE"
	case "BOOLEAN":
		return "BOOLEAN"
	}
	return "STRING"
}

func typeOfValue(v any) string {
	switch v.(type) {
	case int64, int:
		return "LONG"
	case float64:
		return "DOUBLE"
	case bool:
		return "BOOLEAN"
	}
	return "STRING"
}

// UnboundError is a :name marker the request has no parameter for.
type UnboundError struct{ Name string }

func (e *UnboundError) Error() string { return "unbound parameter :" + e.Name }

func actionName(a sqlite.AuthorizerActionCode) string {
	switch a {
	case sqlite.AuthInsert:
		return "INSERT"
	case sqlite.AuthUpdate:
		return "UPDATE"
	case sqlite.AuthDelete:
		return "DELETE"
	case sqlite.AuthPragma:
		return "PRAGMA"
	case sqlite.AuthAttach:
		return "ATTACH"
	case sqlite.AuthTransaction:
		return "a transaction"
	}
	return "a statement that is not a query"
}
