package ui

import (
	"time"

	"embedlab/shared/api"
)

func now() time.Time { return time.Now() }

// margin is how long before exp the page asks for a new token.
func margin(st api.EmbedSettings) time.Duration {
	if st.RefreshMarginSeconds <= 0 {
		return 5 * time.Minute
	}
	return time.Duration(st.RefreshMarginSeconds) * time.Second
}
