package viewers

import (
	_ "embed"
	"sync"
)

//go:embed viewers.json
var defaultFile []byte

// defaultSet is parsed once; a Set is read-only, so sharing it is safe.
var defaultSet = sync.OnceValue(func() *Set {
	s, err := Parse("viewers.json (bundled)", defaultFile)
	if err != nil {
		// The bundled file is tested; reaching this is a build mistake.
		panic(err)
	}
	return s
})

// Default returns the bundled demo viewers, one per demo region of the
// emulator's dashboard:
//
//	id           external_value  users
//	viewer-amer  AMER            ada, admin
//	viewer-apac  APAC            grace, admin
//	viewer-emea  EMEA            ada, grace, admin
//
// The login user "nobody" may act as none of them, to show a refusal.
func Default() *Set { return defaultSet() }
