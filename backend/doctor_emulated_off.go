//go:build noemulator

package main

import (
	"io"

	"embedlab/backend/config"
)

func doctorWorkspace(*config.Config, io.Writer) (func(), error) { return nil, errNoEmulator }
