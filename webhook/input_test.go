package webhook

import (
	"reflect"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// sameUserAsJSON fails t unless userInfoValue gives what marshalling and
// decoding u gives, or leaves u to them.
func sameUserAsJSON(t *testing.T, u authenticationv1.UserInfo) {
	t.Helper()
	want, err := toJSONValue(u)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := userInfoValue(u)
	if ok && !reflect.DeepEqual(any(got), want) {
		t.Errorf("%#v: userInfoValue\n%#v\nJSON\n%#v", u, got, want)
	}
}

func TestUserInfoValueMatchesJSON(t *testing.T) {
	for _, u := range []authenticationv1.UserInfo{
		{},
		{Username: "system:serviceaccount:kube-system:replicaset-controller", UID: "8c1b", Groups: []string{"system:serviceaccounts", "system:authenticated"}},
		{Username: "<admin>&", Groups: []string{}, Extra: map[string]authenticationv1.ExtraValue{}},
		{Username: "arn:aws:iam::1:role/x", Extra: map[string]authenticationv1.ExtraValue{
			"accessKeyId": {"ASIA"}, "sessionName": nil, "empty": {}, "caf\u00e9": {"\u2028", ""}}},
		{Username: "caf\xe9"},
		{Groups: []string{"\xff"}},
		{Extra: map[string]authenticationv1.ExtraValue{"\xff": {"x"}}},
	} {
		sameUserAsJSON(t, u)
	}
	if _, ok := userInfoValue(authenticationv1.UserInfo{Username: "alice", Groups: []string{"a"}}); !ok {
		t.Error("a plain user is left to JSON")
	}
}

func FuzzUserInfoValue(f *testing.F) {
	f.Add("alice", "1", "system:authenticated", "arn", "x", false)
	f.Add("caf\xe9", "", "", "", "", true)
	f.Fuzz(func(t *testing.T, name, uid, group, key, value string, nilExtra bool) {
		u := authenticationv1.UserInfo{Username: name, UID: uid}
		if group != "" {
			u.Groups = []string{group, value}
		}
		if key != "" {
			u.Extra = map[string]authenticationv1.ExtraValue{key: {value}, "n": nil}
			if nilExtra {
				u.Extra[key] = authenticationv1.ExtraValue{}
			}
		}
		sameUserAsJSON(t, u)
	})
}
