package broker

import (
	"net/url"

	"embedlab/shared/wire"
)

// exchangeForm chooses what step 3 sends beside the client credentials:
// here every field of the tokeninfo answer, as the sample apps send it,
// since this branch's emulator insists on its extra resource_legacy_acl_path.
// Issue #15 changes the choice to the three fields of the official SDKs'
// answer type (authorization_details, custom_claim, scope) in this function,
// which is all that needs to change.
func exchangeForm(info *wire.TokenInfo) url.Values { return info.ExchangeForm() }
