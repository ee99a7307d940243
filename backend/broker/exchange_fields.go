package broker

import (
	"net/url"

	"embedlab/shared/wire"
)

// exchangeForm chooses what step 3 sends: what the official SDKs send,
// grant_type=client_credentials and exactly the three fields of their
// tokeninfo answer type (authorization_details, custom_claim, scope), so the
// broker behaves against a workspace as an SDK-built client does. Fields a
// workspace may add beside those three are not passed on;
// resource_legacy_acl_path travels inside its authorization_details entry.
func exchangeForm(info *wire.TokenInfo) url.Values { return info.SDKExchangeForm() }
