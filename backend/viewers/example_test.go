package viewers_test

import (
	"errors"
	"fmt"

	"embedlab/backend/viewers"
)

func ExampleSet_Authorize() {
	set := viewers.Default()
	for _, v := range set.For("ada") {
		fmt.Println(v.ID, v.ExternalValue)
	}
	// The browser names a viewer id; the value comes from the set.
	v, err := set.Authorize("ada", "viewer-emea")
	fmt.Println(v.ExternalValue, err)

	_, err = set.Authorize("ada", "viewer-apac")
	fmt.Println(errors.Is(err, viewers.ErrNotAllowed), err)
	_, err = set.Authorize("ada", "viewer-mars")
	fmt.Println(errors.Is(err, viewers.ErrUnknownViewer), err)
	// Output:
	// viewer-amer AMER
	// viewer-emea EMEA
	// EMEA <nil>
	// true user "ada" may not act as viewer "viewer-apac": user is not allowed to act as this viewer
	// true user "ada" may not act as viewer "viewer-mars": no such viewer
}

func ExampleFromEnv() {
	// EXTERNAL_VIEWER_ID and EXTERNAL_VALUE of the single-viewer sample apps.
	_, err := viewers.FromEnv("jane.doe@example.com", "EMEA", []string{"ada"})
	fmt.Println(err)
	// Output:
	// EXTERNAL_VIEWER_ID: contains '@', so it looks like an e-mail address; external_viewer_id goes to the workspace's audit log and must not be personal data: use an opaque id such as "viewer-emea" or "customer-0042"
}
