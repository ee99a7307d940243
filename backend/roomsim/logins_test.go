package roomsim

import (
	"reflect"
	"testing"
)

func TestParseLogins(t *testing.T) {
	out := "wrote room.json: serve the room with\n  EMBEDLAB_USERS_FILE=room.json EMBEDLAB_ROOM_HOST=<this machine's address> make run\n\n" +
		"name    join code\nadmin   abcd-efgh-ijk2\nalice   mnop-qrst-uvw7\nbob     a2b3-c4d5-e6f7\n"
	trainer, ps := ParseLogins(out)
	if trainer != (Login{"admin", "abcd-efgh-ijk2"}) || !reflect.DeepEqual(ps, []Login{{"alice", "mnop-qrst-uvw7"}, {"bob", "a2b3-c4d5-e6f7"}}) {
		t.Fatalf("trainer %+v, participants %+v", trainer, ps)
	}
	if trainer, ps := ParseLogins("embedlab: usage: ...\nname    join code\n"); trainer.Name != "" || ps != nil {
		t.Fatalf("no table: %+v %+v", trainer, ps)
	}
}
